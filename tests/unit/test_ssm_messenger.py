"""The ssm messenger: APEL messages into a dirq outgoing queue."""

from __future__ import annotations

import dataclasses
import datetime
import logging
import os
import pathlib
from typing import ClassVar

import pytest
from oslo_config import cfg

from caso import exceptions, messengers
from caso.messengers import ssm
from caso.records import apel, cloud
from tests import apel_checker, ssm_queue

UTC = datetime.timezone.utc


def record(number: int, **changes: object) -> cloud.CloudRecord:
    full = cloud.CloudRecord(
        vm_uuid=f"vm-{number:04d}",
        site_name="CESNET-MCC",
        measured_at=datetime.datetime(2024, 3, 10, tzinfo=UTC),
        start_time=datetime.datetime(2024, 3, 1, tzinfo=UTC),
        status="started",
        wall_duration=777600,
        cpu_duration=777600,
        cloud_type="caso/0.1.0 (OpenStack)",
        machine_name=f"server {number}",
    )

    return dataclasses.replace(full, **changes)  # type: ignore[arg-type]


def messenger(path: pathlib.Path, max_size: int = 100) -> ssm.SSMMessenger:
    conf = cfg.ConfigOpts()
    conf.register_opts(ssm.OPTS, group=ssm.GROUP)
    conf(args=[], default_config_files=[])
    conf.set_override("output_path", str(path), group=ssm.GROUP)
    conf.set_override("max_size", max_size, group=ssm.GROUP)

    return ssm.SSMMessenger(conf, "ssm")


def test_options_have_the_documented_defaults() -> None:
    conf = cfg.ConfigOpts()
    conf.register_opts(ssm.OPTS, group=ssm.GROUP)
    conf(args=[], default_config_files=[])

    assert conf.ssm.output_path == "/var/spool/apel/outgoing/openstack"
    assert conf.ssm.max_size == 100


def test_ssm_carries_and_by_default_gets_four_record_types() -> None:
    assert ssm.SSMMessenger.record_types == {
        "cloud",
        "ip",
        "accelerator",
        "storage",
    }
    assert ssm.SSMMessenger.default_record_types == {
        "cloud",
        "ip",
        "accelerator",
        "storage",
    }


def test_entry_point_ssm_loads_the_ssm_messenger() -> None:
    assert messengers.load("ssm") is ssm.SSMMessenger


def test_nothing_to_report_queues_no_message(tmp_path: pathlib.Path) -> None:
    out = tmp_path / "outgoing"

    assert messenger(out).push([]) == 0
    assert not out.exists()


def test_records_are_queued_readable_by_ssmsend_and_valid(
    tmp_path: pathlib.Path,
) -> None:
    records = [record(n) for n in range(3)]

    written = messenger(tmp_path / "outgoing").push(records)

    assert written == 1
    assert ssm_queue.messages(tmp_path / "outgoing") == apel.cloud_messages(
        records, 100
    )
    assert [
        r["VMUUID"]
        for r in apel_checker.parse_cloud_message(
            ssm_queue.messages(tmp_path / "outgoing")[0]
        )
    ] == ["vm-0000", "vm-0001", "vm-0002"]


def test_missing_output_path_is_created_with_its_parents(
    tmp_path: pathlib.Path,
) -> None:
    out = tmp_path / "spool" / "apel" / "outgoing"

    messenger(out).push([record(1)])

    assert len(ssm_queue.messages(out)) == 1


def test_queue_holds_at_most_max_size_records_per_message(
    tmp_path: pathlib.Path,
) -> None:
    records = [record(n) for n in range(1000)]

    written = messenger(tmp_path, max_size=100).push(records)

    messages = ssm_queue.messages(tmp_path)
    parsed = [apel_checker.parse_cloud_message(m) for m in messages]
    assert written == 10
    assert [len(p) for p in parsed] == [100] * 10
    assert sorted(r["VMUUID"] for p in parsed for r in p) == [
        f"vm-{n:04d}" for n in range(1000)
    ]
    assert all(len(m.encode()) < 1_000_000 for m in messages)


def test_same_records_give_byte_identical_files_on_two_runs(
    tmp_path: pathlib.Path,
) -> None:
    records = [record(n, machine_name="Zoë " + "n" * 300) for n in range(7)]

    messenger(tmp_path / "first", max_size=3).push(records)
    messenger(tmp_path / "second", max_size=3).push(records[::-1])

    first = sorted(ssm_queue.messages(tmp_path / "first"))
    assert len(first) == 3
    assert first == sorted(ssm_queue.messages(tmp_path / "second"))


def test_one_info_line_names_records_messages_and_path(
    tmp_path: pathlib.Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="caso.messengers.ssm")

    messenger(tmp_path, max_size=2).push([record(n) for n in range(3)])

    assert [
        r.getMessage() for r in caplog.records if r.levelno >= logging.INFO
    ] == [f"Messenger ssm: 3 records in 2 messages added to {tmp_path}"]


def test_output_path_under_a_file_is_an_error_naming_the_path(
    tmp_path: pathlib.Path,
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    out = blocker / "outgoing"

    with pytest.raises(exceptions.MessengerError) as caught:
        messenger(out).push([record(1)])

    assert str(caught.value).startswith(
        f"messenger ssm: output path {out} is not a directory; set "
        "[ssm] output_path to a directory ssmsend reads ("
    )
    assert isinstance(caught.value.__cause__, NotADirectoryError)


def test_output_path_that_is_a_file_is_an_error_naming_the_path(
    tmp_path: pathlib.Path,
) -> None:
    out = tmp_path / "outgoing"
    out.write_text("")

    with pytest.raises(exceptions.MessengerError) as caught:
        messenger(out).push([record(1)])

    assert str(caught.value).startswith(
        f"messenger ssm: output path {out} is not a directory"
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_output_path_without_permission_is_an_error_naming_the_fix(
    tmp_path: pathlib.Path,
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    out = locked / "outgoing"

    with pytest.raises(exceptions.MessengerError) as caught:
        messenger(out).push([record(1)])

    assert str(caught.value) == (
        f"messenger ssm: cannot create the output path {out}: Permission "
        "denied; create it, writable for the user running caso, or change "
        "[ssm] output_path"
    )


def test_record_that_cannot_be_sent_leaves_the_queue_untouched(
    tmp_path: pathlib.Path,
) -> None:
    records = [record(1), record(2, site_name="")]

    with pytest.raises(exceptions.MessengerError) as caught:
        messenger(tmp_path, max_size=1).push(records)

    assert str(caught.value) == (
        "messenger ssm: nothing sent: cloud record of VM vm-0002: SiteName "
        "is missing; the APEL loader needs it"
    )
    assert isinstance(caught.value.__cause__, exceptions.RecordError)
    assert list(tmp_path.iterdir()) == []


@dataclasses.dataclass(frozen=True)
class EnergyRecord:
    record_type: ClassVar[str] = "energy"

    def describe(self) -> str:
        return "energy"


@dataclasses.dataclass(frozen=True)
class StorageRecord:
    record_type: ClassVar[str] = "storage"

    def describe(self) -> str:
        return "storage"


@pytest.mark.parametrize(
    ("stray", "record_type"),
    [(EnergyRecord(), "energy"), (StorageRecord(), "storage")],
)
def test_record_type_it_cannot_send_is_refused(
    tmp_path: pathlib.Path, stray: object, record_type: str
) -> None:
    with pytest.raises(exceptions.MessengerError) as caught:
        messenger(tmp_path).push([record(1), stray])

    assert str(caught.value) == (
        f"messenger ssm cannot send {record_type} records; remove the "
        "type from its record_types"
    )
    assert list(tmp_path.iterdir()) == []
