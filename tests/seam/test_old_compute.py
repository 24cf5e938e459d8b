"""A cloud whose Nova predates microversion 2.47 (no embedded flavor)."""

from __future__ import annotations

import datetime
import decimal
import logging
from typing import Any

import pytest

from caso import manager
from tests import fakecloud

UTC = datetime.timezone.utc
NOW = datetime.datetime.now(UTC).replace(microsecond=0)
HOUR = datetime.timedelta(hours=1)
BENCHMARK = decimal.Decimal("10.5")


@pytest.fixture
def old(requests_mock: Any) -> fakecloud.FakeCloud:
    return fakecloud.FakeCloud(requests_mock, microversion="2.38")


def test_old_nova_takes_sizes_from_flavor_list_then_usage_report(
    old: fakecloud.FakeCloud, make_conf: Any, caso_logs: Any
) -> None:
    project = old.add_project("alpha")
    user = old.add_user("alice")
    created = NOW - 2 * HOUR
    listed = old.add_server(
        project_id=project,
        user_id=user,
        created=created,
        flavor=fakecloud.flavor("m1.eph", 2, 1024, 5, 3),
    )
    orphan = old.add_server(
        project_id=project,
        user_id=user,
        created=created,
        flavor=fakecloud.flavor("m1.gone", 4, 4096, 20),
    )
    old.deleted_flavors.add("m1.gone")
    end = NOW - HOUR
    conf = make_conf(
        "--extract-from",
        (end - HOUR).isoformat(),
        "--extract-to",
        end.isoformat(),
    )

    report = manager.Manager(conf).run()

    wall = 3600
    sizes = {
        r.vm_uuid: (
            r.cpu_count,
            r.memory,
            r.disk,
            r.cpu_duration,
            r.benchmark_type,
            r.benchmark,
        )
        for r in report.records
    }
    assert sizes == {
        # From /flavors/detail and its extra specs.
        listed.id: (2, 1024, 8, 2 * wall, "HEPSPEC06", BENCHMARK),
        # Flavor gone: the usage report's vcpus, memory_mb and local_gb,
        # which carry no extra specs, hence no benchmark.
        orphan.id: (4, 4096, 20, 4 * wall, None, None),
    }
    assert report.exit_status == 0
    assert caso_logs.messages(logging.WARNING) == [
        "Compute API offers microversion 2.38, below 2.47: flavors are "
        "read from the flavor list, and VMs whose flavor was deleted take "
        "their size from the usage report"
    ]
