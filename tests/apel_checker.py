"""A strict reading of APEL cloud messages (``APEL-cloud-message: v0.4``).

Written from the format description alone, without caso's own rendering,
so that a fault in caso cannot hide itself. It rejects, with the line and
the reason, everything the APEL loader would reject, and a few things it
would let through but caso must never write (surrounding spaces, control
characters, duplicate keys).

Use it on every message a test finds in the queue::

    records = apel_checker.parse_cloud_message(text)
"""

from __future__ import annotations

import re

HEADER = "APEL-cloud-message: v0.4"
SEPARATOR = "%%"
MAX_MESSAGE_BYTES = 1_000_000

ALLOWED_KEYS = frozenset(
    """
    VMUUID SiteName CloudComputeService MachineName LocalUserId LocalGroupId
    GlobalUserName FQAN Status StartTime EndTime SuspendDuration
    WallDuration CpuDuration CpuCount NetworkType NetworkInbound
    NetworkOutbound PublicIPCount Memory Disk BenchmarkType Benchmark
    StorageRecordId ImageId CloudType
    """.split()
)
MANDATORY_KEYS = ("VMUUID", "SiteName")
INTEGER_KEYS = frozenset(
    """
    SuspendDuration WallDuration CpuDuration NetworkInbound NetworkOutbound
    PublicIPCount Memory Disk
    """.split()
)
EPOCH_KEYS = frozenset({"StartTime", "EndTime"})
DECIMAL_KEYS = frozenset({"CpuCount", "Benchmark"})
MAX_LENGTH = 255
MAX_LENGTH_BY_KEY = {"BenchmarkType": 50}
MAX_DECIMAL_THOUSANDTHS = 9_999_999_999
MISSING = frozenset({"", "none", "null"})

_DIGITS = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"([0-9]+)(?:\.([0-9]{1,3}))?")
_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_FQAN = re.compile(
    rf"{_NAME}|/{_NAME}(?:/[A-Za-z0-9._-]+)*"
    r"(?:/Role=[A-Za-z0-9._-]+)?(?:/Capability=[A-Za-z0-9._-]+)?"
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def parse_cloud_message(text: str) -> list[dict[str, str]]:
    """The records of a cloud message, if the APEL loader takes it.

    Args:
        text: the whole message, as found in the queue.

    Returns:
        One ``{key: value}`` per record, in message order.

    Raises:
        ValueError: the message breaks the format; the reason says where.
    """
    _check_message(text)
    lines = text[:-1].split("\n")
    if lines[0] != HEADER:
        raise ValueError(f"line 1: header {lines[0]!r}, expected {HEADER!r}")

    records = []
    current: dict[str, str] = {}
    first_line = 2
    for number, line in enumerate(lines[1:], start=2):
        if line == SEPARATOR:
            records.append(_finished(current, first_line, number))
            current, first_line = {}, number + 1
            continue
        key, value = _key_value(line, number)
        if key in current:
            raise ValueError(f"line {number}: {key} given twice in a record")
        current[key] = value
    records.append(_finished(current, first_line, len(lines) + 1))

    return records


def _check_message(text: str) -> None:
    if not isinstance(text, str):
        raise ValueError(f"a message is text, not {type(text).__name__}")
    size = len(text.encode("utf-8"))
    if size >= MAX_MESSAGE_BYTES:
        raise ValueError(
            f"message of {size} bytes, not under {MAX_MESSAGE_BYTES}"
        )
    if not text.isascii():
        where = next(i for i, c in enumerate(text) if not c.isascii())
        raise ValueError(
            f"non-ASCII character {text[where]!r} at offset {where}"
        )
    if "\r" in text:
        raise ValueError("carriage return in the message")
    if not text.endswith("\n"):
        raise ValueError("no newline at the end of the message")


def _key_value(line: str, number: int) -> tuple[str, str]:
    if not line.strip():
        raise ValueError(f"line {number}: blank line inside a record")
    if ": " not in line:
        raise ValueError(f"line {number}: {line!r} is not 'Key: value'")

    key, value = line.split(": ", 1)
    if key not in ALLOWED_KEYS:
        raise ValueError(f"line {number}: unknown key {key!r}")
    _check_value(key, value, number)

    return key, value


def _check_value(key: str, value: str, number: int) -> None:
    where = f"line {number}: {key}"
    if value.strip().lower() in MISSING:
        raise ValueError(f"{where} has the missing value {value!r}")
    if value != value.strip():
        raise ValueError(f"{where} value {value!r} has surrounding spaces")
    if _CONTROL.search(value):
        raise ValueError(f"{where} value {value!r} has a control character")
    if SEPARATOR in value:
        raise ValueError(f"{where} value {value!r} holds {SEPARATOR!r}")
    limit = MAX_LENGTH_BY_KEY.get(key, MAX_LENGTH)
    if len(value) > limit:
        raise ValueError(
            f"{where} value of {len(value)} characters, more than {limit}"
        )

    if key in INTEGER_KEYS | EPOCH_KEYS and not _DIGITS.fullmatch(value):
        raise ValueError(f"{where} {value!r} is not an integer")
    if key in DECIMAL_KEYS:
        _check_decimal(where, value)
    if key == "FQAN" and not _FQAN.fullmatch(value):
        raise ValueError(f"{where} {value!r} is neither a VO nor an FQAN")


def _check_decimal(where: str, value: str) -> None:
    match = _DECIMAL.fullmatch(value)
    if not match:
        raise ValueError(
            f"{where} {value!r} is not a decimal with at most 3 places"
        )

    whole, fraction = match.group(1), match.group(2) or ""
    thousandths = int(whole) * 1000 + int(fraction.ljust(3, "0"))
    if thousandths > MAX_DECIMAL_THOUSANDTHS:
        raise ValueError(f"{where} {value!r} is above 9999999.999")


def _finished(
    record: dict[str, str], first_line: int, end_line: int
) -> dict[str, str]:
    if not record:
        raise ValueError(f"line {first_line}: empty record")
    for key in MANDATORY_KEYS:
        if key not in record:
            raise ValueError(
                f"record on lines {first_line}-{end_line - 1} has no {key}"
            )

    return record
