"""The cloud record: repairs, rejections and its APEL lines."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import logging
from typing import Any

import pytest

from caso import exceptions
from caso.records import cloud

UTC = datetime.timezone.utc
VM = "0d6a9c8e-1b2f-4c3d-9e8f-7a6b5c4d3e2f"


def record(**changes: Any) -> cloud.CloudRecord:
    """A complete, valid record of a VM running since March 1st."""
    full = cloud.CloudRecord(
        vm_uuid=VM,
        site_name="CESNET-MCC",
        measured_at=datetime.datetime(2024, 3, 10, 12, 0, tzinfo=UTC),
        start_time=datetime.datetime(2024, 3, 1, 0, 0, tzinfo=UTC),
        status="started",
        wall_duration=820800,
        cpu_duration=1641600,
        cloud_type="caso/0.1.0 (OpenStack)",
        cloud_compute_service="cloud.example.org",
        machine_name="web-1",
        local_user_id="u-42",
        local_group_id="p-7",
        global_user_name="alice",
        fqan="vo.example.org",
        suspend_duration=0,
        cpu_count=2,
        public_ip_count=1,
        memory=4096,
        disk=20,
        benchmark_type="HEPscore23",
        benchmark=decimal.Decimal("10.5"),
        image_id="img-5",
    )

    return dataclasses.replace(full, **changes)


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.levelno == logging.WARNING
    ]


def test_valid_record_is_returned_as_is_without_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    valid = record()

    assert valid.checked() is valid
    assert warnings(caplog) == []


def test_apel_lines_of_a_full_record_in_fixed_order() -> None:
    assert record().apel_lines() == [
        f"VMUUID: {VM}",
        "SiteName: CESNET-MCC",
        "CloudComputeService: cloud.example.org",
        "MachineName: web-1",
        "LocalUserId: u-42",
        "LocalGroupId: p-7",
        "GlobalUserName: alice",
        "FQAN: vo.example.org",
        "Status: started",
        "StartTime: 1709251200",
        "SuspendDuration: 0",
        "WallDuration: 820800",
        "CpuDuration: 1641600",
        "CpuCount: 2",
        "PublicIPCount: 1",
        "Memory: 4096",
        "Disk: 20",
        "BenchmarkType: HEPscore23",
        "Benchmark: 10.5",
        "ImageId: img-5",
        "CloudType: caso/0.1.0 (OpenStack)",
    ]


def test_apel_lines_leave_out_every_missing_value() -> None:
    minimal = cloud.CloudRecord(
        vm_uuid=VM,
        site_name="CESNET-MCC",
        measured_at=datetime.datetime(2024, 3, 10, tzinfo=UTC),
        start_time=datetime.datetime(2024, 3, 1, tzinfo=UTC),
        status="started",
        wall_duration=777600,
        cpu_duration=777600,
        cloud_type="caso/0.1.0 (OpenStack)",
    )

    assert minimal.apel_lines() == [
        f"VMUUID: {VM}",
        "SiteName: CESNET-MCC",
        "Status: started",
        "StartTime: 1709251200",
        "WallDuration: 777600",
        "CpuDuration: 777600",
        "CloudType: caso/0.1.0 (OpenStack)",
    ]


def test_vm_created_and_deleted_in_the_same_second_has_zero_durations() -> (
    None
):
    instant = datetime.datetime(2024, 3, 5, 8, 30, 15, tzinfo=UTC)
    gone = record(
        status="completed",
        start_time=instant,
        end_time=instant,
        wall_duration=0,
        cpu_duration=0,
    )

    lines = gone.apel_lines()

    assert lines[8:14] == [
        "Status: completed",
        "StartTime: 1709627415",
        "EndTime: 1709627415",
        "SuspendDuration: 0",
        "WallDuration: 0",
        "CpuDuration: 0",
    ]


@pytest.mark.parametrize("image_id", [None, "", "  "])
def test_server_booted_from_volume_has_no_image_id(
    image_id: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    lines = record(image_id=image_id).apel_lines()

    assert [line for line in lines if line.startswith("ImageId")] == []
    assert warnings(caplog) == (
        [
            f"Cloud record of VM {VM}: ImageId '  ' left out, as the APEL "
            "loader needs"
        ]
        if image_id == "  "
        else []
    )


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("machine_name", "Café ñandú", "Cafe nandu"),
        ("machine_name", "服务器-1", "???-1"),
        ("machine_name", "Ångström\u200b", "Angstrom?"),
        ("machine_name", "two\nlines\r\nhere", "two lines  here"),
        ("machine_name", "tab\there", "tab here"),
        ("machine_name", "100%%%% done%%", "100% done%"),
        ("machine_name", "x" * 300, "x" * 255),
        ("machine_name", "  web-1  ", "web-1"),
        ("machine_name", "None", None),
        ("machine_name", "NULL", None),
        ("global_user_name", "null", None),
        ("global_user_name", "", None),
        ("status", "", None),
        ("benchmark_type", "H" * 60, "H" * 50),
        ("cloud_type", "caso/0.1.0\n(OpenStack)", "caso/0.1.0 (OpenStack)"),
    ],
)
def test_text_is_made_acceptable_to_the_apel_loader(
    field: str, value: str, expected: str | None
) -> None:
    repaired = record(**{field: value}).checked()

    assert getattr(repaired, field) == expected
    assert repaired == record(**{field: expected})


def test_each_repaired_field_logs_one_warning_naming_vm_key_and_change(
    caplog: pytest.LogCaptureFixture,
) -> None:
    record(machine_name="Zoë's\nVM%%" + "z" * 300, fqan="").checked()

    assert warnings(caplog) == [
        f"Cloud record of VM {VM}: MachineName made ASCII, line breaks and "
        "control characters made spaces, '%%' made '%', cut to 255 "
        "characters, as the APEL loader needs"
    ]


def test_checked_record_is_checked_again_without_change_or_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    repaired = record(machine_name="Zoë", benchmark=decimal.Decimal("1.23456"))
    once = repaired.checked()
    caplog.clear()

    assert once.checked() is once
    assert warnings(caplog) == []


@pytest.mark.parametrize(
    "fqan",
    [
        "vo.example.org",
        "ops",
        "/vo.example.org",
        "/atlas/production/Role=NULL/Capability=NULL",
        "/biomed/Role=lcgadmin",
    ],
)
def test_fqan_of_a_vo_name_or_voms_form_is_kept(fqan: str) -> None:
    assert record(fqan=fqan).checked().fqan == fqan


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"vm_uuid": ""}, "VMUUID is missing; the APEL loader needs it"),
        ({"vm_uuid": None}, "VMUUID is missing; the APEL loader needs it"),
        ({"site_name": "null"}, "SiteName is missing; the APEL loader"),
        ({"start_time": None}, "StartTime is missing"),
        ({"wall_duration": -60}, "WallDuration is negative (-60)"),
        ({"cpu_duration": -1}, "CpuDuration is negative (-1)"),
        ({"suspend_duration": -5}, "SuspendDuration is negative (-5)"),
        ({"memory": True}, "Memory is bool True, not an integer"),
        ({"disk": 20.0}, "Disk is float 20.0, not an integer"),
        ({"wall_duration": None}, "WallDuration is NoneType None, not an"),
        ({"cpu_count": -2}, "CpuCount is negative (-2)"),
        ({"cpu_count": 10**8}, "CpuCount 100000000 is above 9999999"),
        ({"machine_name": 42}, "MachineName is int 42, not text"),
        ({"fqan": "my vo"}, "FQAN 'my vo' is neither a VO name nor"),
        ({"fqan": "/vo//Role=x"}, "FQAN '/vo//Role=x' is neither a VO"),
        ({"fqan": "日本vo"}, "FQAN '??vo' is neither a VO name nor"),
        (
            {"end_time": datetime.datetime(2024, 2, 29, tzinfo=UTC)},
            "EndTime 2024-02-29T00:00:00+00:00 is before StartTime "
            "2024-03-01T00:00:00+00:00",
        ),
        (
            {"start_time": datetime.datetime(1969, 12, 31, tzinfo=UTC)},
            "StartTime 1969-12-31T00:00:00+00:00 is before 1970",
        ),
    ],
)
def test_record_that_cannot_be_made_valid_is_refused_naming_the_vm(
    changes: dict[str, Any], reason: str
) -> None:
    with pytest.raises(exceptions.RecordError) as caught:
        record(**changes).checked()

    vm = VM if changes.get("vm_uuid", VM) else "without VMUUID (name 'web-1')"
    assert str(caught.value).startswith(f"cloud record of VM {vm}: {reason}")


@pytest.mark.parametrize(
    "benchmark",
    [
        decimal.Decimal("-0.5"),
        decimal.Decimal("10000000"),
        decimal.Decimal("NaN"),
        decimal.Decimal("Infinity"),
    ],
)
def test_benchmark_out_of_range_drops_benchmark_and_type_not_the_record(
    benchmark: decimal.Decimal, caplog: pytest.LogCaptureFixture
) -> None:
    repaired = record(benchmark=benchmark).checked()

    assert repaired == record(benchmark=None, benchmark_type=None)
    assert warnings(caplog) == [
        f"Cloud record of VM {VM}: Benchmark {benchmark} is not a number in "
        "0..9999999.999; left out with BenchmarkType, as the APEL loader "
        "needs"
    ]


@pytest.mark.parametrize(
    ("benchmark", "line"),
    [
        (decimal.Decimal("10.5"), "Benchmark: 10.5"),
        (decimal.Decimal("10.500"), "Benchmark: 10.5"),
        (decimal.Decimal("2.000"), "Benchmark: 2"),
        (decimal.Decimal("1E+2"), "Benchmark: 100"),
        (decimal.Decimal("1.23456"), "Benchmark: 1.235"),
        (decimal.Decimal("0.0001"), "Benchmark: 0"),
        (decimal.Decimal("-0"), "Benchmark: 0"),
        (decimal.Decimal("9999999.999"), "Benchmark: 9999999.999"),
        (decimal.Decimal("1E-7"), "Benchmark: 0"),
    ],
)
def test_benchmark_is_written_with_at_most_three_places_and_no_exponent(
    benchmark: decimal.Decimal, line: str
) -> None:
    lines = record(benchmark=benchmark).apel_lines()

    assert [x for x in lines if x.startswith("Benchmark:")] == [line]


def test_naive_start_time_is_taken_as_utc() -> None:
    naive = record(start_time=datetime.datetime(2024, 3, 1))

    assert naive.checked() == record()
    assert "StartTime: 1709251200" in naive.apel_lines()


def test_start_time_with_an_offset_is_the_same_instant_in_utc() -> None:
    plus_two = datetime.timezone(datetime.timedelta(hours=2))
    shifted = record(
        start_time=datetime.datetime(2024, 3, 1, 2, 0, tzinfo=plus_two)
    )

    assert "StartTime: 1709251200" in shifted.apel_lines()


@pytest.mark.parametrize(
    ("changes", "month"),
    [
        ({}, (2024, 3)),
        (
            {
                "start_time": datetime.datetime(2024, 1, 31, 23, tzinfo=UTC),
                "wall_duration": 3599,
            },
            (2024, 1),
        ),
        (
            {
                "start_time": datetime.datetime(2024, 1, 31, 23, tzinfo=UTC),
                "wall_duration": 3600,
            },
            (2024, 2),
        ),
        (
            {
                "start_time": datetime.datetime(2024, 1, 31, 22, tzinfo=UTC),
                "wall_duration": 3600,
                "suspend_duration": 3600,
            },
            (2024, 2),
        ),
        (
            {
                "status": "completed",
                "start_time": datetime.datetime(2023, 12, 1, tzinfo=UTC),
                "end_time": datetime.datetime(2024, 2, 1, tzinfo=UTC),
                "wall_duration": 60,
            },
            (2024, 2),
        ),
        (
            {
                "status": "stopped",
                "start_time": datetime.datetime(2023, 12, 1, tzinfo=UTC),
                "end_time": datetime.datetime(2024, 2, 1, tzinfo=UTC),
                "wall_duration": 60,
                "suspend_duration": None,
            },
            (2023, 12),
        ),
    ],
)
def test_month_is_the_one_apel_files_the_record_under(
    changes: dict[str, Any], month: tuple[int, int]
) -> None:
    assert record(**changes).month == month


def test_describe_shows_the_record_in_a_few_readable_lines() -> None:
    described = record(
        machine_name="a\nvery " + "long " * 20,
        status="completed",
        end_time=datetime.datetime(2024, 3, 10, 12, 0, tzinfo=UTC),
        image_id=None,
    ).describe()

    assert described == (
        f"VM {VM} (a very long long long long long long long long long "
        "long ...) at CESNET-MCC\n"
        "  project p-7, VO vo.example.org, user alice\n"
        "  status completed, start 2024-03-01T00:00:00Z, "
        "end 2024-03-10T12:00:00Z, measured 2024-03-10T12:00:00Z\n"
        "  wall 820800 s, cpu 1641600 s, suspended 0 s\n"
        "  flavor 2 vCPUs, 4096 MB memory, 20 GB disk, public IPs 1\n"
        "  benchmark HEPscore23 10.5, image -"
    )
