"""Faults at the HTTP seam: odd pages, missing rows, refusals, expiry."""

from __future__ import annotations

import datetime
import logging
import pathlib
from typing import Any

import pytest

from tests import fakecloud
from tests.seam import expected
from tests.seam.expected import DAY, HOUR, UTC, cloud_record, run, window

T0 = datetime.datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
START, END = T0 - HOUR, T0


@pytest.mark.parametrize("admin", [True, False], ids=["admin", "reader"])
@pytest.mark.parametrize("max_limit", [1, 2, 3])
def test_pages_capped_below_the_limit_are_followed_to_the_end(
    requests_mock: Any, make_conf: Any, admin: bool, max_limit: int
) -> None:
    cloud = fakecloud.FakeCloud(
        requests_mock, admin=admin, max_limit=max_limit
    )
    project = cloud.add_project("alpha")
    user = cloud.add_user("alice")
    running = [
        cloud.add_server(
            project_id=project, user_id=user, created=T0 - i * DAY
        )
        for i in range(1, 6)
    ]
    deleted = [
        cloud.add_server(
            project_id=project,
            user_id=user,
            created=T0 - i * DAY,
            status="DELETED",
            terminated_at=START + i * datetime.timedelta(minutes=5),
        )
        for i in range(1, 5)
    ]

    report = run(make_conf(*window(START, END), groups=_system(admin)))

    assert {r.vm_uuid for r in report.records} == {
        s.id for s in running + deleted
    }
    assert report.exit_status == 0


def test_deleted_server_without_terminated_at_ends_at_updated(
    cloud: fakecloud.FakeCloud, make_conf: Any
) -> None:
    project = cloud.add_project("alpha")
    user = cloud.add_user("alice")
    created = T0 - 2 * DAY
    updated = START + datetime.timedelta(minutes=20)
    server = cloud.add_server(
        project_id=project,
        user_id=user,
        created=created,
        status="DELETED",
        terminated_at=None,
        updated=updated,
    )

    report = run(make_conf(*window(START, END)))

    assert report.records == [
        cloud_record(
            server,
            measured_at=END,
            status="completed",
            end_time=updated,
            wall=expected.seconds(updated - created),
            user_name="alice",
        )
    ]


def test_usage_only_instance_that_is_gone_is_warned_about_once(
    cloud: fakecloud.FakeCloud, make_conf: Any, caso_logs: Any
) -> None:
    project = cloud.add_project("alpha")
    user = cloud.add_user("alice")
    server = cloud.add_server(
        project_id=project, user_id=user, created=T0 - DAY
    )
    ghost = "0b5b9c1e-ghost-0000-0000-000000000000"
    cloud.usage_only_entry(project, ghost)

    report = run(make_conf(*window(START, END)))

    assert report.records == [
        cloud_record(
            server,
            measured_at=END,
            status="started",
            wall=expected.seconds(END - server.created),
            user_name="alice",
        )
    ]
    warnings = caso_logs.messages(logging.WARNING)
    assert len(warnings) == 1
    assert ghost in warnings[0]
    assert report.exit_status == 0


def test_deleted_flavor_still_gives_the_size_from_the_embedded_flavor(
    cloud: fakecloud.FakeCloud, make_conf: Any
) -> None:
    project = cloud.add_project("alpha")
    user = cloud.add_user("alice")
    server = cloud.add_server(
        project_id=project,
        user_id=user,
        created=T0 - DAY,
        flavor=fakecloud.flavor(
            name="gone.large", vcpus=4, ram=8192, disk=20, ephemeral=10
        ),
    )

    report = run(make_conf(*window(START, END)))

    wall = expected.seconds(END - server.created)
    assert report.records == [
        cloud_record(
            server,
            measured_at=END,
            status="started",
            wall=wall,
            cpu=4 * wall,
            cpu_count=4,
            memory=8192,
            disk=30,
            user_name="alice",
        )
    ]
    assert cloud.requests("GET", f"{fakecloud.COMPUTE_URL}/flavors") == []


def test_project_named_in_projects_is_reported_without_its_tag(
    cloud: fakecloud.FakeCloud, make_conf: Any
) -> None:
    alpha = cloud.add_project("alpha")
    beta = cloud.add_project("beta", tags=[])
    cloud.add_project("gamma", tags=[])
    user = cloud.add_user("alice")
    servers = {
        p: cloud.add_server(project_id=p, user_id=user, created=T0 - DAY)
        for p in (alpha, beta)
    }

    report = run(make_conf("--projects", "beta", *window(START, END)))

    assert sorted(
        (r.local_group_id, r.vm_uuid) for r in report.records
    ) == sorted((p, s.id) for p, s in servers.items())
    assert report.exit_status == 0


@pytest.mark.parametrize("admin", [True, False], ids=["admin", "reader"])
def test_forbidden_user_reads_give_records_without_names_and_one_error(
    requests_mock: Any, make_conf: Any, caso_logs: Any, admin: bool
) -> None:
    cloud = fakecloud.FakeCloud(requests_mock, admin=admin)
    cloud.user_reads_forbidden = True
    projects = [cloud.add_project(n) for n in ("alpha", "beta")]
    users = [cloud.add_user(n) for n in ("alice", "bob")]
    servers = [
        cloud.add_server(project_id=p, user_id=u, created=T0 - DAY)
        for p in projects
        for u in users
    ]

    report = run(make_conf(*window(START, END), groups=_system(admin)))

    assert sorted(report.records, key=lambda r: r.vm_uuid) == sorted(
        (
            cloud_record(
                s,
                measured_at=END,
                status="started",
                wall=expected.seconds(END - s.created),
            )
            for s in servers
        ),
        key=lambda r: r.vm_uuid,
    )
    errors = caso_logs.messages(logging.ERROR)
    assert len(errors) == 1
    assert "GlobalUserName" in errors[0]
    assert len(cloud.requests("GET", f"{fakecloud.AUTH_URL}/users/")) == 1
    assert report.exit_status == 0


@pytest.mark.parametrize("admin", [True, False], ids=["admin", "reader"])
@pytest.mark.parametrize("call", [1, 2, 3])
def test_token_expired_mid_run_is_renewed_once_and_the_run_completes(
    requests_mock: Any, make_conf: Any, admin: bool, call: int
) -> None:
    cloud = fakecloud.FakeCloud(requests_mock, admin=admin)
    cloud.expire_token_at_call = call
    projects = [cloud.add_project(n) for n in ("alpha", "beta")]
    user = cloud.add_user("alice")
    servers = [
        cloud.add_server(project_id=p, user_id=user, created=T0 - DAY)
        for p in projects
    ]

    report = run(make_conf(*window(START, END), groups=_system(admin)))

    assert {r.vm_uuid for r in report.records} == {s.id for s in servers}
    # One token for the configured scope (plus one per project for a
    # reader), and one more for the token that expired.
    assert len(cloud.token_requests) == (1 if admin else 3) + 1
    assert report.exit_status == 0


@pytest.mark.parametrize("names", ["ssm,noop", "noop,ssm"])
def test_failed_messenger_keeps_watermarks_and_the_other_still_gets_records(
    cloud: fakecloud.FakeCloud,
    make_conf: Any,
    caso_logs: Any,
    tmp_path: pathlib.Path,
    names: str,
) -> None:
    now = datetime.datetime.now(UTC).replace(microsecond=0)
    projects = [cloud.add_project(n) for n in ("alpha", "beta")]
    user = cloud.add_user("alice")
    for project in projects:
        cloud.add_server(project_id=project, user_id=user, created=now - HOUR)
    spool = tmp_path / "spool"
    before = {
        p: expected.write_watermark(spool, p, now - HOUR / 2) for p in projects
    }
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n")
    conf = make_conf(
        messengers=names, groups={"ssm": {"output_path": blocker / "queue"}}
    )

    report = run(conf)

    assert (report.messages, sorted(report.failed_messengers)) == (
        {"noop": 0},
        ["ssm"],
    )
    assert "Messenger noop dropped 2 records" in caso_logs.messages(
        logging.DEBUG
    )
    assert {p: expected.read_watermark(spool, p) for p in projects} == before
    assert report.exit_status == 1


def _system(admin: bool) -> dict[str, dict[str, Any]]:
    """Least privilege reads user names with a system-scoped reader token."""
    if admin:
        return {}

    return {
        "keystone_auth": {
            "project_name": None,
            "project_domain_name": None,
            "system_scope": "all",
        }
    }
