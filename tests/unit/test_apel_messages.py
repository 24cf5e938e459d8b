"""Packing cloud records into APEL messages."""

from __future__ import annotations

import collections
import datetime
import decimal

import pytest

from caso import exceptions
from caso.records import apel, cloud
from tests import apel_checker

UTC = datetime.timezone.utc


def record(number: int, **changes: object) -> cloud.CloudRecord:
    """The record of the ``number``-th VM, running since March 1st."""
    fields: dict[str, object] = {
        "vm_uuid": f"vm-{number:04d}",
        "site_name": "CESNET-MCC",
        "measured_at": datetime.datetime(2024, 3, 10, tzinfo=UTC),
        "start_time": datetime.datetime(2024, 3, 1, tzinfo=UTC),
        "status": "started",
        "wall_duration": 777600,
        "cpu_duration": 1555200,
        "cloud_type": "caso/0.1.0 (OpenStack)",
        "cpu_count": 2,
        "benchmark_type": "HEPscore23",
        "benchmark": decimal.Decimal("10.5"),
    }
    fields.update(changes)

    return cloud.CloudRecord(**fields)  # type: ignore[arg-type]


def vm_uuids(messages: list[str]) -> list[str]:
    return [
        parsed["VMUUID"]
        for message in messages
        for parsed in apel_checker.parse_cloud_message(message)
    ]


def test_no_records_make_no_message() -> None:
    assert apel.cloud_messages([], max_records=100) == []


def test_one_record_makes_one_whole_message() -> None:
    assert apel.cloud_messages([record(1)], max_records=100) == [
        "APEL-cloud-message: v0.4\n"
        "VMUUID: vm-0001\n"
        "SiteName: CESNET-MCC\n"
        "Status: started\n"
        "StartTime: 1709251200\n"
        "WallDuration: 777600\n"
        "CpuDuration: 1555200\n"
        "CpuCount: 2\n"
        "BenchmarkType: HEPscore23\n"
        "Benchmark: 10.5\n"
        "CloudType: caso/0.1.0 (OpenStack)\n"
    ]


def test_records_are_separated_by_a_line_of_two_percent_signs() -> None:
    message = apel.cloud_messages(
        [record(1, benchmark=None, benchmark_type=None, cpu_count=None)]
        + [record(2, benchmark=None, benchmark_type=None, cpu_count=None)],
        max_records=100,
    )

    assert message == [
        "APEL-cloud-message: v0.4\n"
        "VMUUID: vm-0001\nSiteName: CESNET-MCC\nStatus: started\n"
        "StartTime: 1709251200\nWallDuration: 777600\nCpuDuration: 1555200\n"
        "CloudType: caso/0.1.0 (OpenStack)\n"
        "%%\n"
        "VMUUID: vm-0002\nSiteName: CESNET-MCC\nStatus: started\n"
        "StartTime: 1709251200\nWallDuration: 777600\nCpuDuration: 1555200\n"
        "CloudType: caso/0.1.0 (OpenStack)\n"
    ]


@pytest.mark.parametrize(
    ("count", "max_records", "sizes"),
    [
        (1, 1, [1]),
        (5, 2, [2, 2, 1]),
        (6, 3, [3, 3]),
        (100, 100, [100]),
        (101, 100, [100, 1]),
    ],
)
def test_messages_hold_at_most_max_records(
    count: int, max_records: int, sizes: list[int]
) -> None:
    messages = apel.cloud_messages(
        [record(n) for n in range(count)], max_records=max_records
    )

    assert [
        len(apel_checker.parse_cloud_message(m)) for m in messages
    ] == sizes


@pytest.mark.parametrize(
    ("max_records", "max_bytes"),
    [(100, 1_000_000), (1000, 1_000_000), (1000, 100_000), (7, 5_000)],
)
def test_thousand_records_with_long_names_fit_the_limits_each_once(
    max_records: int, max_bytes: int
) -> None:
    records = [
        record(n, machine_name=f"{n:04d}" + "n" * 251) for n in range(1000)
    ]

    messages = apel.cloud_messages(
        records, max_records=max_records, max_bytes=max_bytes
    )

    assert all(len(m.encode()) < max_bytes for m in messages)
    assert all(
        len(apel_checker.parse_cloud_message(m)) <= max_records
        for m in messages
    )
    assert vm_uuids(messages) == [f"vm-{n:04d}" for n in range(1000)]


def test_message_of_exactly_max_bytes_is_split() -> None:
    two = apel.cloud_messages([record(1), record(2)], max_records=10)
    size = len(two[0].encode())

    assert len(apel.cloud_messages([record(1), record(2)], 10, size)) == 2
    assert apel.cloud_messages([record(1), record(2)], 10, size + 1) == two


def test_record_too_large_alone_for_a_message_is_refused() -> None:
    size = len(apel.cloud_messages([record(1)], max_records=1)[0])

    with pytest.raises(exceptions.RecordError) as caught:
        apel.cloud_messages([record(1)], max_records=1, max_bytes=size)

    assert str(caught.value) == (
        f"cloud record of VM vm-0001 alone makes a message of {size} "
        f"bytes, not below the limit of {size}"
    )


def test_record_that_cannot_be_made_valid_makes_no_message() -> None:
    with pytest.raises(exceptions.RecordError) as caught:
        apel.cloud_messages(
            [record(1), record(2, wall_duration=-1)], max_records=100
        )

    assert str(caught.value) == (
        "cloud record of VM vm-0002: WallDuration is negative (-1)"
    )


def test_max_records_below_one_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="max_records must be at least 1"):
        apel.cloud_messages([record(1)], max_records=0)


@pytest.mark.parametrize(
    ("name", "sent"),
    [
        ("Zoë's «serveur» №1", "Zoe's ?serveur? No1"),
        ("x%%:" * 63 + "abc", "x%:" * 63 + "abc"),
        (":%%" * 85, ":%" * 85),
        ("%%" * 200, "%"),
        ("line\n%%\nVMUUID: injected", "line % VMUUID: injected"),
    ],
)
def test_awkward_names_round_trip_through_the_strict_checker(
    name: str, sent: str
) -> None:
    messages = apel.cloud_messages([record(1, machine_name=name)], 100)

    parsed = apel_checker.parse_cloud_message(messages[0])

    assert [p["MachineName"] for p in parsed] == [sent]
    assert [p["VMUUID"] for p in parsed] == ["vm-0001"]


def test_vm_created_and_deleted_in_the_same_second_passes_the_checker() -> (
    None
):
    instant = datetime.datetime(2024, 3, 5, 8, 30, 15, tzinfo=UTC)
    gone = record(
        1,
        status="completed",
        start_time=instant,
        end_time=instant,
        wall_duration=0,
        cpu_duration=0,
        image_id="",
    )

    parsed = apel_checker.parse_cloud_message(
        apel.cloud_messages([gone], 100)[0]
    )

    assert parsed == [
        {
            "VMUUID": "vm-0001",
            "SiteName": "CESNET-MCC",
            "Status": "completed",
            "StartTime": "1709627415",
            "EndTime": "1709627415",
            "WallDuration": "0",
            "CpuDuration": "0",
            "CpuCount": "2",
            "BenchmarkType": "HEPscore23",
            "Benchmark": "10.5",
            "CloudType": "caso/0.1.0 (OpenStack)",
        }
    ]


def test_same_records_in_any_order_give_the_same_bytes() -> None:
    records = [record(n) for n in range(250)]
    shuffled = records[1::2] + records[::2][::-1]

    assert apel.cloud_messages(shuffled, 100) == apel.cloud_messages(
        records, 100
    )


def test_later_measurement_of_a_vm_comes_after_the_earlier_one() -> None:
    end_of_february = record(
        1,
        measured_at=datetime.datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC),
        start_time=datetime.datetime(2024, 2, 1, tzinfo=UTC),
        wall_duration=2505599,
    )
    march = record(1, start_time=datetime.datetime(2024, 2, 1, tzinfo=UTC))

    parsed = apel_checker.parse_cloud_message(
        apel.cloud_messages([march, end_of_february], 100)[0]
    )

    assert [p["WallDuration"] for p in parsed] == ["2505599", "777600"]
    assert collections.Counter(p["VMUUID"] for p in parsed) == {"vm-0001": 2}
