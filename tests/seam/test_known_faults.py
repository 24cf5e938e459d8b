"""Faults accounting extractors have shipped (known-faults.md), pinned.

#2, #9, #12, #14, #18 and #21 are in ``test_seam_faults.py``.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import pathlib
from typing import Any

import pytest

from caso.cmd import extract
from tests import fakecloud, ssm_queue
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

T0 = datetime.datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
START, END = T0 - HOUR, T0

SYSTEM_SCOPE = {
    "keystone_auth": {
        "project_name": None,
        "project_domain_name": None,
        "system_scope": "all",
    }
}


def _now() -> datetime.datetime:
    return datetime.datetime.now(UTC).replace(microsecond=0)


def test_1_vm_of_30_days_in_a_one_hour_window_is_cumulative(
    cloud: fakecloud.FakeCloud, make_conf: Any
) -> None:
    project = cloud.add_project("alpha")
    user = cloud.add_user("alice")
    server = cloud.add_server(
        project_id=project,
        user_id=user,
        created=END - 30 * DAY,
        flavor=fakecloud.flavor(vcpus=2),
    )

    report = run(make_conf(*window(START, END)))

    assert report.records == [
        cloud_record(
            server,
            measured_at=END,
            status="started",
            wall=30 * 86400,
            cpu=2 * 30 * 86400,
            cpu_count=2,
            user_name="alice",
        )
    ]


def test_3_running_vm_unchanged_during_the_window_is_reported(
    cloud: fakecloud.FakeCloud, make_conf: Any
) -> None:
    project = cloud.add_project("alpha")
    user = cloud.add_user("alice")
    created = START - 10 * DAY
    server = cloud.add_server(
        project_id=project, user_id=user, created=created, updated=created
    )

    report = run(make_conf(*window(START, END)))

    assert report.records == [
        cloud_record(
            server,
            measured_at=END,
            status="started",
            wall=expected.seconds(END - created),
            user_name="alice",
        )
    ]


def test_4_resized_vm_starts_at_created_and_wall_counts_from_there(
    cloud: fakecloud.FakeCloud, make_conf: Any
) -> None:
    project = cloud.add_project("alpha")
    user = cloud.add_user("alice")
    created = END - 40 * DAY
    server = cloud.add_server(
        project_id=project,
        user_id=user,
        created=created,
        launched_at=END - 5 * DAY,
        updated=END - 5 * DAY,
    )

    report = run(make_conf(*window(START, END)))

    assert report.records == [
        cloud_record(
            server,
            measured_at=END,
            status="started",
            wall=40 * 86400,
            user_name="alice",
        )
    ]


def test_5_completed_vm_seen_only_in_the_usage_report_is_reported(
    cloud: fakecloud.FakeCloud, make_conf: Any
) -> None:
    # Nova 34 answers 404 to GET /servers/{id} of a deleted server, even
    # for an admin (checked on the test cloud): the record comes from the
    # usage entry, which has no user, image or extra specs.
    project = cloud.add_project("alpha")
    user = cloud.add_user("alice")
    ended = START + HOUR / 4
    server = cloud.add_server(
        project_id=project,
        user_id=user,
        created=START - DAY,
        status="DELETED",
        terminated_at=ended,
        hidden=True,
    )

    report = run(make_conf(*window(START, END)))

    from_usage = cloud_record(
        server,
        measured_at=END,
        status="completed",
        end_time=ended,
        wall=expected.seconds(ended - server.created),
        benchmark=None,
        image_id=None,
    )
    assert report.records == [
        dataclasses.replace(from_usage, local_user_id=None)
    ]
    assert report.exit_status == 0


@pytest.mark.parametrize("admin", [True, False], ids=["admin", "reader"])
def test_6_two_projects_both_give_records(
    requests_mock: Any, make_conf: Any, admin: bool
) -> None:
    cloud = fakecloud.FakeCloud(requests_mock, admin=admin)
    user = cloud.add_user("alice")
    servers = [
        cloud.add_server(
            project_id=cloud.add_project(name, vo=vo),
            user_id=user,
            created=START - DAY,
        )
        for name, vo in (("alpha", "vo.a.eu"), ("beta", "vo.b.eu"))
    ]
    groups = {} if admin else SYSTEM_SCOPE

    report = run(make_conf(*window(START, END), groups=groups))

    assert sorted(report.records, key=lambda r: r.fqan or "") == [
        cloud_record(
            server,
            measured_at=END,
            status="started",
            wall=86400 + 3600,
            user_name="alice",
            fqan=vo,
        )
        for server, vo in zip(servers, ("vo.a.eu", "vo.b.eu"), strict=True)
    ]


def test_7_vm_created_and_deleted_in_the_same_second_has_zero_durations(
    cloud: fakecloud.FakeCloud, make_conf: Any
) -> None:
    project = cloud.add_project("alpha")
    user = cloud.add_user("alice")
    created = START + HOUR / 2
    ended = created + datetime.timedelta(milliseconds=600)
    server = cloud.add_server(
        project_id=project,
        user_id=user,
        created=created,
        status="DELETED",
        terminated_at=ended,
    )

    report = run(make_conf(*window(START, END)))

    assert report.records == [
        cloud_record(
            server,
            measured_at=END,
            status="completed",
            end_time=ended,
            wall=0,
            user_name="alice",
        )
    ]
    assert report.exit_status == 0


def test_8_server_booted_from_a_volume_has_no_image(
    cloud: fakecloud.FakeCloud, make_conf: Any
) -> None:
    project = cloud.add_project("alpha")
    user = cloud.add_user("alice")
    server = cloud.add_server(
        project_id=project, user_id=user, created=START - DAY, image_id=None
    )

    report = run(make_conf(*window(START, END)))

    assert report.records == [
        cloud_record(
            server,
            measured_at=END,
            status="started",
            wall=86400 + 3600,
            user_name="alice",
            image_id=None,
        )
    ]
    assert cloud.requests("GET", fakecloud.IMAGE_URL) == []


@pytest.mark.parametrize("admin", [True, False], ids=["admin", "reader"])
def test_10_usage_reply_without_server_usages_gives_no_records(
    requests_mock: Any, make_conf: Any, admin: bool
) -> None:
    cloud = fakecloud.FakeCloud(requests_mock, admin=admin)
    alpha = cloud.add_project("alpha")
    cloud.add_project("empty")
    user = cloud.add_user("alice")
    server = cloud.add_server(
        project_id=alpha, user_id=user, created=START - DAY
    )
    groups = {} if admin else SYSTEM_SCOPE

    report = run(make_conf(*window(START, END), groups=groups))

    assert report.records == [
        cloud_record(
            server,
            measured_at=END,
            status="started",
            wall=86400 + 3600,
            user_name="alice",
        )
    ]
    assert report.exit_status == 0


def test_11_nothing_to_report_queues_no_message(
    cloud: fakecloud.FakeCloud, make_conf: Any, tmp_path: pathlib.Path
) -> None:
    cloud.add_project("alpha")

    report = run(make_conf(*window(START, END)))

    assert (report.records, report.exit_status) == ([], 0)
    assert ssm_queue.messages(tmp_path / "outgoing") == []


def test_13_reader_reads_names_of_users_of_other_domains(
    requests_mock: Any, make_conf: Any
) -> None:
    cloud = fakecloud.FakeCloud(requests_mock, admin=False)
    project = cloud.add_project("alpha")
    user = cloud.add_user("carol", domain_id="elsewhere")
    server = cloud.add_server(
        project_id=project, user_id=user, created=START - DAY
    )

    report = run(make_conf(*window(START, END), groups=SYSTEM_SCOPE))

    assert report.records == [
        cloud_record(
            server,
            measured_at=END,
            status="started",
            wall=86400 + 3600,
            user_name="carol",
        )
    ]
    assert report.exit_status == 0


def test_17_failing_project_keeps_its_watermark_and_others_move_on(
    requests_mock: Any, make_conf: Any, tmp_path: pathlib.Path
) -> None:
    now = _now()
    cloud = fakecloud.FakeCloud(requests_mock, admin=False)
    alpha = cloud.add_project("alpha")
    beta = cloud.add_project("beta")
    user = cloud.add_user("alice")
    for project in (alpha, beta):
        cloud.add_server(project_id=project, user_id=user, created=now - DAY)
    cloud.usage_fails_for = {beta}
    spool = tmp_path / "spool"
    before = {
        p: expected.write_watermark(spool, p, now - HOUR)
        for p in (alpha, beta)
    }

    report = run(make_conf(groups=SYSTEM_SCOPE))

    end = report.records[0].measured_at
    assert [(r.local_group_id, r.measured_at) for r in report.records] == [
        (alpha, end)
    ]
    assert {p: expected.read_watermark(spool, p) for p in (alpha, beta)} == {
        alpha: end.isoformat() + "\n",
        beta: before[beta],
    }
    assert report.exit_status == 1


@pytest.mark.parametrize(
    "content", ["", "\n", "not a date\n", "2025-13-45T99:00:00\n"]
)
def test_19_damaged_watermark_is_named_and_other_projects_go_on(
    cloud: fakecloud.FakeCloud,
    write_conf: Any,
    caso_logs: Any,
    tmp_path: pathlib.Path,
    content: str,
) -> None:
    now = _now()
    alpha = cloud.add_project("alpha")
    beta = cloud.add_project("beta")
    user = cloud.add_user("alice")
    for project in (alpha, beta):
        cloud.add_server(project_id=project, user_id=user, created=now - DAY)
    spool = tmp_path / "spool"
    expected.write_watermark(spool, alpha, now - HOUR)
    damaged = expected.watermark_file(spool, beta)
    damaged.write_text(content)

    status = extract.main(["--config-file", str(write_conf())])

    errors = [
        m for m in caso_logs.messages(logging.ERROR) if str(damaged) in m
    ]
    assert len(errors) == 1
    assert "delete it" in errors[0]
    assert damaged.read_text() == content
    assert (
        expected.read_watermark(spool, alpha)
        != (now - HOUR).isoformat() + "\n"
    )
    assert [
        r["LocalGroupId"] for r in expected.apel_records(tmp_path / "outgoing")
    ] == [alpha]
    assert status == 1


def test_22_extract_from_none_is_the_beginning_of_time(
    cloud: fakecloud.FakeCloud, make_conf: Any, tmp_path: pathlib.Path
) -> None:
    project = cloud.add_project("alpha")
    user = cloud.add_user("alice")
    created = datetime.datetime(2015, 5, 1, tzinfo=UTC)
    ended = datetime.datetime(2015, 6, 1, tzinfo=UTC) + HOUR
    server = cloud.add_server(
        project_id=project,
        user_id=user,
        created=created,
        status="DELETED",
        terminated_at=ended,
    )
    expected.write_watermark(tmp_path / "spool", project, START)

    report = run(
        make_conf("--extract-from", "None", "--extract-to", END.isoformat())
    )

    assert report.records == [
        cloud_record(
            server,
            measured_at=datetime.datetime(2015, 6, 1, tzinfo=UTC) - SECOND,
            status="started",
            wall=expected.seconds(
                datetime.datetime(2015, 6, 1, tzinfo=UTC) - SECOND - created
            ),
            user_name="alice",
        ),
        cloud_record(
            server,
            measured_at=END,
            status="completed",
            end_time=ended,
            wall=expected.seconds(ended - created),
            user_name="alice",
        ),
    ]
    usage = cloud.requests(
        "GET", f"{fakecloud.COMPUTE_URL}/os-simple-tenant-usage"
    )
    assert [r.qs["start"][0] for r in usage] == ["1970-01-01t00:00:00"]


@pytest.mark.parametrize("saved", [True, False], ids=["saved", "first-run"])
def test_23_republishing_a_past_window_leaves_watermarks_alone(
    cloud: fakecloud.FakeCloud,
    make_conf: Any,
    tmp_path: pathlib.Path,
    saved: bool,
) -> None:
    now = _now()
    project = cloud.add_project("alpha")
    user = cloud.add_user("alice")
    cloud.add_server(project_id=project, user_id=user, created=now - 90 * DAY)
    spool = tmp_path / "spool"
    before = (
        expected.write_watermark(spool, project, now - HOUR) if saved else None
    )
    last_month = expected.month_start(expected.month_start(now) - DAY)

    report = run(make_conf(*window(last_month, expected.month_start(now))))

    # The month's last second, and the window's end.
    assert len(report.records) == 2
    assert expected.read_watermark(spool, project) == before
    assert report.exit_status == 0


def test_27_unknown_project_is_reported_and_the_others_go_on(
    cloud: fakecloud.FakeCloud,
    write_conf: Any,
    caso_logs: Any,
    capsys: Any,
    tmp_path: pathlib.Path,
) -> None:
    alpha = cloud.add_project("alpha")
    user = cloud.add_user("alice")
    server = cloud.add_server(project_id=alpha, user_id=user, created=START)
    path = write_conf()

    status = extract.main(
        [
            "--config-file",
            str(path),
            "--projects",
            "nosuch",
            *window(START, END),
        ]
    )

    errors = caso_logs.messages(logging.ERROR)
    assert [m for m in errors if "'nosuch'" in m and "not found" in m] != []
    assert [
        (r["VMUUID"], r["LocalGroupId"])
        for r in expected.apel_records(tmp_path / "outgoing")
    ] == [(server.id, alpha)]
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert "1 project(s) published; 1 failed" in last
    assert last.endswith("exit status 1")
    assert status == 1
