"""``caso-extract``: exit status and last line, at the HTTP seam."""

from __future__ import annotations

import datetime
import fcntl
import os
import pathlib
from typing import Any

import pytest

from caso.cmd import extract
from tests import fakecloud
from tests.seam.expected import DAY, HOUR, UTC, window

T0 = datetime.datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
START, END = T0 - HOUR, T0


def _last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def test_all_published_exits_0_and_says_so(
    cloud: fakecloud.FakeCloud, write_conf: Any, capsys: Any
) -> None:
    project = cloud.add_project("alpha")
    user = cloud.add_user("alice")
    cloud.add_server(project_id=project, user_id=user, created=START - DAY)

    status = extract.main(
        ["--config-file", str(write_conf()), *window(START, END)]
    )

    last = _last_line(capsys.readouterr().out)
    assert last.startswith(
        "caso-extract: 1 project(s) published; 0 failed; 1 record(s);"
    )
    assert last.endswith("; exit status 0")
    assert status == 0


def test_a_failed_project_exits_1_and_says_so(
    requests_mock: Any, write_conf: Any, capsys: Any
) -> None:
    cloud = fakecloud.FakeCloud(requests_mock, admin=False)
    alpha, beta = cloud.add_project("alpha"), cloud.add_project("beta")
    user = cloud.add_user("alice")
    for project in (alpha, beta):
        cloud.add_server(project_id=project, user_id=user, created=START)
    cloud.usage_fails_for = {beta}

    status = extract.main(
        ["--config-file", str(write_conf()), *window(START, END)]
    )

    last = _last_line(capsys.readouterr().out)
    assert last.startswith(
        "caso-extract: 1 project(s) published; 1 failed; 1 record(s);"
    )
    assert last.endswith("; exit status 1")
    assert status == 1


@pytest.mark.parametrize(
    ("settings", "argv", "named"),
    [
        ({"site_name": None}, [], "'site_name'"),
        ({}, ["--extract-from", "yesterday-ish"], "'extract-from'"),
        ({}, [*window(END, START)], "'extract-from'"),
        ({"messengers": "nosuch"}, [], "'nosuch'"),
    ],
    ids=["no-site-name", "bad-date", "empty-window", "unknown-messenger"],
)
def test_configuration_error_exits_2_before_any_request(
    requests_mock: Any,
    write_conf: Any,
    capsys: Any,
    settings: dict[str, Any],
    argv: list[str],
    named: str,
) -> None:
    fakecloud.FakeCloud(requests_mock)

    status = extract.main(
        ["--config-file", str(write_conf(**settings)), *argv]
    )

    out, err = capsys.readouterr()
    assert named in _last_line(err)
    assert _last_line(err).startswith("caso-extract: error: ")
    assert requests_mock.request_history == []
    assert status == 2


def test_another_run_holding_the_lock_exits_1_at_once(
    cloud: fakecloud.FakeCloud,
    write_conf: Any,
    capsys: Any,
    tmp_path: pathlib.Path,
) -> None:
    path = write_conf()
    lock = tmp_path / "spool" / "caso.lock"
    lock.parent.mkdir(parents=True)
    fd = os.open(lock, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        status = extract.main(["--config-file", str(path)])
    finally:
        os.close(fd)

    assert "another caso run" in _last_line(capsys.readouterr().err)
    assert cloud.requests("GET", fakecloud.COMPUTE_URL) == []
    assert status == 1
