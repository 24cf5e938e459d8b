"""Fixtures for tests at the HTTP seam: a fake cloud and a caso.conf."""

from __future__ import annotations

import logging
import os
import pathlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from oslo_config import cfg

from caso import config
from tests import fakecloud


@pytest.fixture
def cloud(requests_mock: Any) -> fakecloud.FakeCloud:
    return fakecloud.FakeCloud(requests_mock)


@pytest.fixture
def write_conf(tmp_path: pathlib.Path) -> Callable[..., pathlib.Path]:
    """Write a caso.conf for the fake cloud; return its path.

    Keyword arguments set ``[DEFAULT]`` options; ``groups`` sets options
    of other groups. A value of None leaves the option out.
    """

    def write(
        groups: dict[str, dict[str, Any]] | None = None, **defaults: Any
    ) -> pathlib.Path:
        sections: dict[str, dict[str, Any]] = {
            "DEFAULT": {
                "site_name": "TEST-SITE",
                "spooldir": tmp_path / "spool",
                "messengers": "ssm",
                "extractor": "nova",
            },
            "ssm": {"output_path": tmp_path / "outgoing"},
            "keystone_auth": {
                "auth_type": "password",
                "auth_url": fakecloud.AUTH_URL,
                "username": "caso",
                "password": "secret",
                "user_domain_name": "Default",
                "project_name": "admin",
                "project_domain_name": "Default",
            },
        }
        sections["DEFAULT"].update(defaults)
        for group, values in (groups or {}).items():
            sections.setdefault(group, {}).update(values)
        lines = []
        for group, values in sections.items():
            lines.append(f"[{group}]")
            lines += [
                f"{key} = {value}"
                for key, value in values.items()
                if value is not None
            ]
        path = tmp_path / "caso.conf"
        path.write_text("\n".join(lines) + "\n")

        return path

    return write


@pytest.fixture
def make_conf(
    write_conf: Callable[..., pathlib.Path],
) -> Callable[..., cfg.ConfigOpts]:
    """Write a caso.conf for the fake cloud and load it as caso would."""

    def make(
        *argv: str,
        groups: dict[str, dict[str, Any]] | None = None,
        **defaults: Any,
    ) -> cfg.ConfigOpts:
        path = write_conf(groups, **defaults)

        return config.load(
            ["--config-file", str(path), *argv],
            conf=cfg.ConfigOpts(),
            default_config_files=[],
        )

    return make


class LogRecords(logging.Handler):
    """Every record caso logs during a test."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, level: int) -> list[str]:
        """The messages logged at exactly ``level``, in order."""
        return [r.getMessage() for r in self.records if r.levelno == level]


@pytest.fixture
def caso_logs() -> Iterator[LogRecords]:
    """Records of the ``caso`` loggers.

    caplog cannot be used: loading the configuration sets up oslo.log,
    which removes every handler of the root logger, caplog's included.
    """
    logger = logging.getLogger("caso")
    handler = LogRecords()
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture
def tokyo() -> Iterator[None]:
    """Run the test with the host's timezone set to Asia/Tokyo."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Tokyo"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()
