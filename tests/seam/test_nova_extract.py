"""The nova extractor and the run, against a fake cloud at the HTTP seam."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from caso import manager
from tests import fakecloud

UTC = datetime.timezone.utc
NOW = datetime.datetime.now(UTC).replace(microsecond=0)
DAY = datetime.timedelta(days=1)


def run(conf: Any) -> manager.RunReport:
    return manager.Manager(conf).run()


def test_running_vm_of_a_month_reports_cumulative_usage(
    cloud: fakecloud.FakeCloud, make_conf: Any
) -> None:
    project = cloud.add_project("alpha")
    user = cloud.add_user("alice")
    created = NOW - 30 * DAY
    server = cloud.add_server(
        project_id=project, user_id=user, created=created
    )
    end = NOW - datetime.timedelta(hours=1)
    conf = make_conf(
        "--extract-from",
        (end - datetime.timedelta(hours=1)).isoformat(),
        "--extract-to",
        end.isoformat(),
    )

    report = run(conf)

    last = [r for r in report.records if r.measured_at == end]
    assert len(last) == 1
    record = last[0]
    wall = int((end - created).total_seconds())
    assert (record.vm_uuid, record.wall_duration, record.cpu_duration) == (
        server.id,
        wall,
        wall,
    )
    assert record.global_user_name == "alice"
    assert record.fqan == "vo.example.eu"
    assert report.exit_status == 0


def test_short_pages_are_not_the_end(
    requests_mock: Any, make_conf: Any
) -> None:
    cloud = fakecloud.FakeCloud(requests_mock, max_limit=2)
    project = cloud.add_project("alpha")
    user = cloud.add_user("alice")
    ids = {
        cloud.add_server(
            project_id=project,
            user_id=user,
            created=NOW - i * DAY,
            updated=NOW - datetime.timedelta(hours=1),
        ).id
        for i in range(1, 6)
    }
    conf = make_conf("--extract-from", (NOW - DAY / 2).isoformat())

    report = run(conf)

    assert {r.vm_uuid for r in report.records} == ids
    listings = cloud.requests("GET", f"{fakecloud.COMPUTE_URL}/servers/detail")
    # 5 servers in pages of 2: 3 pages for each of the two listings.
    assert len(listings) == 6


@pytest.mark.parametrize("admin", [True, False])
def test_no_server_is_fetched_one_by_one_and_one_token_per_scope(
    requests_mock: Any, make_conf: Any, admin: bool
) -> None:
    cloud = fakecloud.FakeCloud(requests_mock, admin=admin)
    projects = [cloud.add_project(n) for n in ("alpha", "beta")]
    user = cloud.add_user("alice")
    for project in projects:
        for age in (3, 2):
            cloud.add_server(
                project_id=project, user_id=user, created=NOW - age * DAY
            )
    conf = make_conf("--extract-from", (NOW - DAY).isoformat())

    report = run(conf)

    assert len(report.records) == 4
    shows = [
        r
        for r in cloud.requests("GET", f"{fakecloud.COMPUTE_URL}/servers/")
        if not r.path.endswith("/detail")
    ]
    assert shows == []
    # Admin: one token for the configured scope. Reader: that one, plus
    # one per project read with its own token.
    assert len(cloud.token_requests) == (1 if admin else 3)


def test_future_extract_to_is_clamped_and_moves_the_watermark(
    cloud: fakecloud.FakeCloud, make_conf: Any, tmp_path: Any
) -> None:
    project = cloud.add_project("alpha")
    user = cloud.add_user("alice")
    cloud.add_server(project_id=project, user_id=user, created=NOW - DAY)
    future = NOW + 365 * DAY
    conf = make_conf("--extract-to", future.isoformat())

    before = datetime.datetime.now(UTC).replace(microsecond=0)
    report = run(conf)
    after = datetime.datetime.now(UTC)

    mark = (tmp_path / "spool" / "watermarks" / f"{project}.nova").read_text()
    saved = datetime.datetime.fromisoformat(mark.strip())
    assert before <= saved <= after
    assert {r.measured_at for r in report.records} == {saved}


def test_failed_cloud_wide_listing_fails_every_project_not_the_run(
    cloud: fakecloud.FakeCloud, make_conf: Any, tmp_path: Any
) -> None:
    projects = [cloud.add_project(n) for n in ("alpha", "beta")]
    user = cloud.add_user("alice")
    for project in projects:
        cloud.add_server(project_id=project, user_id=user, created=NOW - DAY)
    cloud.listing_fails = True

    report = run(make_conf())

    assert report.exit_status == 1
    assert report.records == []
    assert {r.project.id: r.problems for r in report.projects} == {
        project: [
            "nova: compute: GET /servers/detail: Unexpected API Error. "
            "(HTTP 500)"
        ]
        for project in projects
    }
    assert not (tmp_path / "spool" / "watermarks").exists()
