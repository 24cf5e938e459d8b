"""Expected values for seam tests: records as the fake cloud implies them.

The constants here are those of the fake cloud and of ``make_conf``: the
site, the default flavor (1 vCPU, 512 MB, 1 GB, HEPSPEC06 10.5) and the
default VO.
"""

from __future__ import annotations

import datetime
import decimal
import pathlib
from typing import Any

import caso
from caso import manager
from caso.records import cloud as cloud_records
from tests import apel_checker, fakecloud, ssm_queue

UTC = datetime.timezone.utc
SITE = "TEST-SITE"
VO = "vo.example.eu"
CLOUD_TYPE = f"caso/{caso.__version__} (OpenStack)"
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
SECOND = datetime.timedelta(seconds=1)


def run(conf: Any) -> manager.RunReport:
    """One run of the manager with the given configuration."""
    return manager.Manager(conf).run()


def window(start: datetime.datetime, end: datetime.datetime) -> list[str]:
    """The command-line arguments of a window."""
    return [
        "--extract-from",
        start.isoformat(),
        "--extract-to",
        end.isoformat(),
    ]


def seconds(delta: datetime.timedelta) -> int:
    return int(delta.total_seconds())


def cloud_record(
    server: fakecloud.FakeServer,
    *,
    measured_at: datetime.datetime,
    status: str,
    wall: int,
    end_time: datetime.datetime | None = None,
    user_name: str | None = None,
    fqan: str = VO,
    cpu_count: int = 1,
    cpu: int | None = None,
    memory: int = 512,
    disk: int = 1,
    benchmark: tuple[str, str] | None = ("HEPSPEC06", "10.5"),
    image_id: str | None = "img-1",
    public_ips: int = 0,
) -> cloud_records.CloudRecord:
    """The whole record of a fake server; CPU is wall x vCPUs unless given."""
    return cloud_records.CloudRecord(
        vm_uuid=server.id,
        site_name=SITE,
        cloud_compute_service=SITE,
        measured_at=measured_at,
        machine_name=server.name,
        local_user_id=server.user_id,
        local_group_id=server.project_id,
        global_user_name=user_name,
        fqan=fqan,
        status=status,
        start_time=server.created,
        end_time=end_time,
        wall_duration=wall,
        cpu_duration=wall * cpu_count if cpu is None else cpu,
        cpu_count=cpu_count,
        public_ip_count=public_ips,
        memory=memory,
        disk=disk,
        benchmark_type=benchmark[0] if benchmark else None,
        benchmark=decimal.Decimal(benchmark[1]) if benchmark else None,
        image_id=image_id,
        cloud_type=CLOUD_TYPE,
    )


def by_vm(records: list[Any]) -> dict[tuple[str, datetime.datetime], Any]:
    """Records keyed by (VM, instant measured at)."""
    return {(r.vm_uuid, r.measured_at): r for r in records}


def apel_records(path: pathlib.Path) -> list[dict[str, str]]:
    """Every record of every queued message, each message checked."""
    return [
        record
        for message in ssm_queue.messages(path)
        for record in apel_checker.parse_cloud_message(message)
    ]


def watermark_file(spool: pathlib.Path, project_id: str) -> pathlib.Path:
    """Where the nova watermark of a project is kept."""
    return spool / "watermarks" / f"{project_id}.nova"


def read_watermark(spool: pathlib.Path, project_id: str) -> str | None:
    path = watermark_file(spool, project_id)

    return path.read_text() if path.exists() else None


def write_watermark(
    spool: pathlib.Path, project_id: str, when: datetime.datetime
) -> str:
    path = watermark_file(spool, project_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = when.isoformat() + "\n"
    path.write_text(text)

    return text


def month_start(value: datetime.datetime) -> datetime.datetime:
    """The first instant of the UTC month holding ``value``."""
    return value.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
