"""Fixtures for tests at the HTTP seam: a fake cloud and a caso.conf."""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from typing import Any

import pytest
from oslo_config import cfg

from caso import config
from tests import fakecloud


@pytest.fixture
def cloud(requests_mock: Any) -> fakecloud.FakeCloud:
    return fakecloud.FakeCloud(requests_mock)


@pytest.fixture
def make_conf(tmp_path: pathlib.Path) -> Callable[..., cfg.ConfigOpts]:
    """Write a caso.conf for the fake cloud and load it as caso would."""

    def make(*argv: str, **defaults: Any) -> cfg.ConfigOpts:
        settings = {
            "site_name": "TEST-SITE",
            "spooldir": str(tmp_path / "spool"),
            "messengers": "ssm",
            "extractor": "nova",
        }
        settings.update({k: str(v) for k, v in defaults.items()})
        lines = ["[DEFAULT]"]
        lines += [f"{key} = {value}" for key, value in settings.items()]
        lines += [
            "[ssm]",
            f"output_path = {tmp_path / 'outgoing'}",
            "[keystone_auth]",
            "auth_type = password",
            f"auth_url = {fakecloud.AUTH_URL}",
            "username = caso",
            "password = secret",
            "user_domain_name = Default",
            "project_name = admin",
            "project_domain_name = Default",
        ]
        path = tmp_path / "caso.conf"
        path.write_text("\n".join(lines) + "\n")

        return config.load(
            ["--config-file", str(path), *argv],
            conf=cfg.ConfigOpts(),
            default_config_files=[],
        )

    return make
