"""The accounting rules of accounting.md, at the HTTP seam."""

from __future__ import annotations

import datetime
import pathlib
import time
from typing import Any

import pytest

from tests import apel_checker, fakecloud, ssm_queue
from tests.seam import expected
from tests.seam.expected import (
    DAY,
    HOUR,
    SECOND,
    UTC,
    cloud_record,
    run,
    window,
)

#: A month boundary, and a window of four hours around it.
B = datetime.datetime(2025, 3, 1, tzinfo=UTC)
START, END = B - 2 * HOUR, B + 2 * HOUR


def _month_scenario(
    cloud: fakecloud.FakeCloud,
) -> list[Any]:
    """Three VMs around B, and the records the window must give."""
    project = cloud.add_project("alpha")
    user = cloud.add_user("alice")
    across = cloud.add_server(
        project_id=project, user_id=user, created=B - 10 * DAY
    )
    ended = cloud.add_server(
        project_id=project,
        user_id=user,
        created=B - 10 * DAY,
        status="DELETED",
        terminated_at=B - HOUR,
    )
    later = cloud.add_server(
        project_id=project, user_id=user, created=B + HOUR
    )

    return [
        cloud_record(
            across,
            measured_at=B - SECOND,
            status="started",
            wall=10 * 86400 - 1,
            user_name="alice",
        ),
        cloud_record(
            across,
            measured_at=END,
            status="started",
            wall=10 * 86400 + 2 * 3600,
            user_name="alice",
        ),
        cloud_record(
            ended,
            measured_at=END,
            status="completed",
            end_time=B - HOUR,
            wall=10 * 86400 - 3600,
            user_name="alice",
        ),
        cloud_record(
            later,
            measured_at=END,
            status="started",
            wall=3600,
            user_name="alice",
        ),
    ]


def _sorted(records: list[Any]) -> list[Any]:
    return sorted(records, key=lambda r: (r.vm_uuid, r.measured_at))


def test_vm_alive_across_a_month_start_gets_a_record_at_its_last_second(
    cloud: fakecloud.FakeCloud, make_conf: Any
) -> None:
    records = _month_scenario(cloud)

    report = run(make_conf(*window(START, END)))

    assert _sorted(report.records) == _sorted(records)


def test_host_timezone_changes_no_record(
    cloud: fakecloud.FakeCloud, make_conf: Any, tokyo: None
) -> None:
    records = _month_scenario(cloud)
    # Without a zone, as cron lines write them: UTC, whatever the host.
    naive = "%Y-%m-%d %H:%M:%S"

    report = run(
        make_conf(
            "--extract-from",
            START.strftime(naive),
            "--extract-to",
            END.strftime(naive),
        )
    )

    assert time.localtime().tm_gmtoff == 9 * 3600
    assert _sorted(report.records) == _sorted(records)


def test_vm_never_launched_has_zero_durations(
    cloud: fakecloud.FakeCloud, make_conf: Any
) -> None:
    project = cloud.add_project("alpha")
    user = cloud.add_user("alice")
    server = cloud.add_server(
        project_id=project,
        user_id=user,
        created=END - 3 * DAY,
        status="ERROR",
        launched_at=None,
    )

    report = run(make_conf(*window(END - HOUR, END)))

    assert report.records == [
        cloud_record(
            server,
            measured_at=END,
            status="error",
            wall=0,
            user_name="alice",
        )
    ]


ALIVE = [
    ("ACTIVE", "started"),
    ("BUILD", "started"),
    ("REBUILD", "started"),
    ("REBOOT", "started"),
    ("HARD_REBOOT", "started"),
    ("PASSWORD", "started"),
    ("RESIZE", "started"),
    ("VERIFY_RESIZE", "started"),
    ("REVERT_RESIZE", "started"),
    ("CONFIRMING_RESIZE", "started"),
    ("MIGRATING", "started"),
    ("RESCUE", "started"),
    ("SAVING", "started"),
    ("PAUSED", "paused"),
    ("SUSPENDED", "suspended"),
    ("SHELVED", "suspended"),
    ("SHELVED_OFFLOADED", "suspended"),
    ("SHUTOFF", "stopped"),
    ("STOPPED", "stopped"),
    ("ERROR", "error"),
    ("UNKNOWN", "unknown"),
    ("SOMETHING_NEW", "unknown"),
]


@pytest.mark.parametrize(("nova", "status"), ALIVE)
def test_status_of_a_living_vm_is_mapped(
    cloud: fakecloud.FakeCloud, make_conf: Any, nova: str, status: str
) -> None:
    project = cloud.add_project("alpha")
    user = cloud.add_user("alice")
    server = cloud.add_server(
        project_id=project, user_id=user, created=B - DAY, status=nova
    )

    report = run(make_conf(*window(B, B + HOUR)))

    assert report.records == [
        cloud_record(
            server,
            measured_at=B + HOUR,
            status=status,
            wall=86400 + 3600,
            user_name="alice",
        )
    ]


@pytest.mark.parametrize("nova", ["DELETED", "SOFT_DELETED", "TERMINATED"])
def test_vm_that_ended_in_the_window_is_completed(
    cloud: fakecloud.FakeCloud, make_conf: Any, nova: str
) -> None:
    project = cloud.add_project("alpha")
    user = cloud.add_user("alice")
    ended = B + HOUR / 2
    server = cloud.add_server(
        project_id=project,
        user_id=user,
        created=B - DAY,
        status=nova,
        terminated_at=ended,
    )

    report = run(make_conf(*window(B, B + HOUR)))

    assert report.records == [
        cloud_record(
            server,
            measured_at=B + HOUR,
            status="completed",
            end_time=ended,
            wall=86400 + 1800,
            user_name="alice",
        )
    ]


@pytest.mark.parametrize("nova", ["DELETED", "SOFT_DELETED", "TERMINATED"])
def test_deleted_vm_measured_while_alive_is_never_completed(
    cloud: fakecloud.FakeCloud, make_conf: Any, nova: str
) -> None:
    project = cloud.add_project("alpha")
    user = cloud.add_user("alice")
    server = cloud.add_server(
        project_id=project,
        user_id=user,
        created=B - DAY,
        status=nova,
        terminated_at=END + DAY,
    )

    report = run(make_conf(*window(START, END)))

    assert _sorted(report.records) == _sorted(
        [
            cloud_record(
                server,
                measured_at=B - SECOND,
                status="started",
                wall=86400 - 1,
                user_name="alice",
            ),
            cloud_record(
                server,
                measured_at=END,
                status="started",
                wall=86400 + 2 * 3600,
                user_name="alice",
            ),
        ]
    )


def test_watermark_is_the_window_end_and_the_next_window_starts_there(
    cloud: fakecloud.FakeCloud, make_conf: Any, tmp_path: pathlib.Path
) -> None:
    project = cloud.add_project("alpha")
    user = cloud.add_user("alice")
    now = datetime.datetime.now(UTC).replace(microsecond=0)
    cloud.add_server(project_id=project, user_id=user, created=now - DAY)
    spool = tmp_path / "spool"

    first = run(make_conf())
    end = first.records[-1].measured_at
    saved = expected.read_watermark(spool, project)
    # The next window must not be empty: let the clock pass a second.
    time.sleep(1.05 - datetime.datetime.now(UTC).microsecond / 1e6)
    requests_before = len(cloud.mocker.request_history)
    second = run(make_conf())

    assert saved == end.isoformat() + "\n"
    later = cloud.mocker.request_history[requests_before:]
    usage_starts = [
        r.qs["start"][0] for r in later if "os-simple-tenant-usage" in r.path
    ]
    since = [
        r.qs["changes-since"][0]
        for r in later
        if r.path.endswith("/servers/detail") and "changes-since" in r.qs
    ]
    assert (usage_starts, since) == (
        [end.strftime("%Y-%m-%dt%H:%M:%S")],
        [end.strftime("%Y-%m-%dt%H:%M:%Sz")],
    )
    assert (first.exit_status, second.exit_status) == (0, 0)


def test_same_window_twice_queues_byte_identical_messages(
    cloud: fakecloud.FakeCloud, make_conf: Any, tmp_path: pathlib.Path
) -> None:
    _month_scenario(cloud)
    queues = [tmp_path / "first", tmp_path / "second"]

    for queue in queues:
        run(
            make_conf(
                *window(START, END), groups={"ssm": {"output_path": queue}}
            )
        )

    first, second = (ssm_queue.messages(q) for q in queues)
    assert first == second
    assert sum(len(apel_checker.parse_cloud_message(m)) for m in first) == 4
