"""Edges of a run at the HTTP seam: the window's end, a failed stream."""

from __future__ import annotations

import datetime
from typing import Any

from tests import fakecloud
from tests.seam.expected import DAY, UTC, read_watermark, run

NOW = datetime.datetime.now(UTC).replace(microsecond=0)


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

    mark = read_watermark(tmp_path / "spool", project)
    assert mark is not None
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
