"""The noop messenger takes everything and sends nothing."""

from __future__ import annotations

import datetime
import logging

import pytest
from oslo_config import cfg

from caso import messengers, records
from caso.messengers import noop
from caso.records import cloud

UTC = datetime.timezone.utc


def test_noop_carries_and_gets_every_record_type() -> None:
    assert noop.NoopMessenger.record_types == set(records.RECORD_TYPES)
    assert noop.NoopMessenger.default_record_types == set(records.RECORD_TYPES)


def test_entry_point_noop_loads_the_noop_messenger() -> None:
    assert messengers.load("noop") is noop.NoopMessenger


def test_noop_drops_the_records_and_says_so_at_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="caso.messengers.noop")
    record = cloud.CloudRecord(
        vm_uuid="vm-1",
        site_name="SITE",
        measured_at=datetime.datetime(2024, 3, 10, tzinfo=UTC),
        start_time=datetime.datetime(2024, 3, 1, tzinfo=UTC),
        status="started",
        wall_duration=1,
        cpu_duration=1,
        cloud_type="caso/0.1.0 (OpenStack)",
    )

    written = noop.NoopMessenger(cfg.ConfigOpts(), "noop").push([record])

    assert written == 0
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.DEBUG, "Messenger noop dropped 1 records")
    ]
