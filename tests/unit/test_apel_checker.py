"""The strict checker rejects what the APEL loader rejects."""

from __future__ import annotations

import pytest

from tests import apel_checker

GOOD = (
    "APEL-cloud-message: v0.4\n"
    "VMUUID: vm-1\n"
    "SiteName: SITE\n"
    "FQAN: /vo.example.org/Role=NULL/Capability=NULL\n"
    "StartTime: 1709251200\n"
    "WallDuration: 0\n"
    "CpuCount: 2\n"
    "Benchmark: 9999999.999\n"
    "BenchmarkType: HEPscore23\n"
    "CloudType: caso/0.1.0 (OpenStack)\n"
    "%%\n"
    "VMUUID: vm-2\n"
    "SiteName: SITE\n"
    "MachineName: a: b % c\n"
    "Benchmark: 10.5\n"
    "FQAN: vo.example.org\n"
)


def test_good_message_gives_its_records_in_order() -> None:
    assert apel_checker.parse_cloud_message(GOOD) == [
        {
            "VMUUID": "vm-1",
            "SiteName": "SITE",
            "FQAN": "/vo.example.org/Role=NULL/Capability=NULL",
            "StartTime": "1709251200",
            "WallDuration": "0",
            "CpuCount": "2",
            "Benchmark": "9999999.999",
            "BenchmarkType": "HEPscore23",
            "CloudType": "caso/0.1.0 (OpenStack)",
        },
        {
            "VMUUID": "vm-2",
            "SiteName": "SITE",
            "MachineName": "a: b % c",
            "Benchmark": "10.5",
            "FQAN": "vo.example.org",
        },
    ]


def test_values_at_their_length_limits_are_accepted() -> None:
    text = (
        "APEL-cloud-message: v0.4\nVMUUID: v\nSiteName: S\n"
        f"MachineName: {'m' * 255}\nBenchmarkType: {'b' * 50}\n"
    )

    assert apel_checker.parse_cloud_message(text) == [
        {
            "VMUUID": "v",
            "SiteName": "S",
            "MachineName": "m" * 255,
            "BenchmarkType": "b" * 50,
        }
    ]


HEAD = "APEL-cloud-message: v0.4\n"
ONE = "VMUUID: v\nSiteName: S\n"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "no newline at the end of the message"),
        (HEAD, "line 2: empty record"),
        (HEAD + ONE.rstrip("\n"), "no newline at the end of the message"),
        ("APEL-cloud-message: v0.2\n" + ONE, "line 1: header"),
        ("APEL-cloud-message: v0.4 \n" + ONE, "line 1: header"),
        (HEAD + ONE + "\n", "line 4: blank line inside a record"),
        (HEAD + "VMUUID: v\n\nSiteName: S\n", "line 3: blank line inside"),
        (HEAD + ONE + "%%\n", "line 5: empty record"),
        (HEAD + "%%\n" + ONE, "line 2: empty record"),
        (HEAD + ONE + "%%\n%%\n" + ONE, "line 5: empty record"),
        (HEAD + ONE + "Status:started\n", "line 4: 'Status:started' is not"),
        (HEAD + ONE + "Status\n", "line 4: 'Status' is not 'Key: value'"),
        (HEAD + ONE + "vmuuid: x\n", "line 4: unknown key 'vmuuid'"),
        (HEAD + ONE + "Colour: red\n", "line 4: unknown key 'Colour'"),
        (HEAD + ONE + "Status : x\n", "line 4: unknown key 'Status '"),
        (HEAD + ONE + "VMUUID: w\n", "line 4: VMUUID given twice"),
        (HEAD + "VMUUID: v\n", "record on lines 2-2 has no SiteName"),
        (HEAD + "SiteName: S\n", "record on lines 2-2 has no VMUUID"),
        (HEAD + ONE + "WallDuration: 3600.0\n", "'3600.0' is not an integer"),
        (HEAD + ONE + "Memory: -1\n", "Memory '-1' is not an integer"),
        (HEAD + ONE + "Disk: 1e3\n", "Disk '1e3' is not an integer"),
        (HEAD + ONE + "StartTime: 1709251200.5\n", "is not an integer"),
        (
            HEAD + ONE + "EndTime: 2024-03-01T00:00:00\n",
            "EndTime '2024-03-01T00:00:00' is not an integer",
        ),
        (HEAD + ONE + "Benchmark: 1.2345\n", "not a decimal with at most 3"),
        (HEAD + ONE + "Benchmark: -1\n", "'-1' is not a decimal"),
        (HEAD + ONE + "CpuCount: 1E+2\n", "'1E+2' is not a decimal"),
        (HEAD + ONE + "CpuCount: 2.\n", "'2.' is not a decimal"),
        (HEAD + ONE + "Benchmark: 10000000\n", "is above 9999999.999"),
        (HEAD + ONE + "Status: \n", "Status has the missing value ''"),
        (HEAD + ONE + "Status: None\n", "missing value 'None'"),
        (HEAD + ONE + "ImageId: NULL\n", "missing value 'NULL'"),
        (HEAD + ONE + "MachineName:  x\n", "has surrounding spaces"),
        (HEAD + ONE + "MachineName: x\t\n", "has surrounding spaces"),
        (HEAD + ONE + "MachineName: a\tb\n", "has a control character"),
        (HEAD + ONE + "MachineName: Café\n", "non-ASCII character 'é'"),
        (HEAD + ONE + "MachineName: a\rb\n", "carriage return"),
        (HEAD + ONE + "MachineName: 100%%\n", "holds '%%'"),
        (HEAD + ONE + f"MachineName: {'m' * 256}\n", "256 characters, more"),
        (HEAD + ONE + f"BenchmarkType: {'b' * 51}\n", "51 characters, more"),
        (HEAD + ONE + "FQAN: my vo\n", "'my vo' is neither a VO nor an FQAN"),
        (HEAD + ONE + "FQAN: /vo//x\n", "is neither a VO nor an FQAN"),
        (
            HEAD + (ONE + "MachineName: " + "m" * 240 + "\n%%\n") * 3800 + ONE,
            "bytes, not under 1000000",
        ),
        (b"APEL-cloud-message: v0.4\n", "a message is text, not bytes"),
    ],
)
def test_bad_message_is_rejected_with_the_reason(
    text: str, reason: str
) -> None:
    with pytest.raises(ValueError, match=None) as caught:
        apel_checker.parse_cloud_message(text)

    assert reason in str(caught.value)
