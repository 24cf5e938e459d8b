"""What caso-extract says and leaves behind when it cannot start."""

from __future__ import annotations

import pathlib
from typing import Any

import requests
import requests_mock as mocker

from caso.cmd import extract
from tests import fakecloud


def test_missing_auth_type_is_a_config_error_that_leaves_nothing(
    write_conf: Any, tmp_path: pathlib.Path, capsys: Any, requests_mock: Any
) -> None:
    path = write_conf(groups={"keystone_auth": {"auth_type": None}})

    status = extract.main(["--config-file", str(path)])

    assert status == 2
    assert capsys.readouterr().err == (
        "caso-extract: error: option 'auth_type' in [keystone_auth] is not "
        "set: caso cannot authenticate; set auth_type (e.g. 'password') "
        "and its options in caso.conf\n"
    )
    assert not (tmp_path / "spool").exists()
    assert requests_mock.request_history == []


def test_unreachable_keystone_says_where_in_one_short_line(
    write_conf: Any, capsys: Any, requests_mock: Any
) -> None:
    requests_mock.register_uri(
        mocker.ANY,
        mocker.ANY,
        exc=requests.exceptions.ConnectionError(
            "HTTPConnectionPool(host='keystone.test', port=5000): Max "
            "retries exceeded with url: /v3/auth/tokens"
        ),
    )
    path = write_conf()

    status = extract.main(["--config-file", str(path)])

    assert status == 1
    assert capsys.readouterr().err == (
        "caso-extract: failed, nothing published: identity: GET /projects: "
        "cannot connect: Unable to establish connection to "
        f"{fakecloud.AUTH_URL}/auth/tokens\n"
    )
