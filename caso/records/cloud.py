"""The APEL cloud record (``APEL-cloud-message: v0.4``).

One record describes one VM, measured at one instant: cumulative values
since the VM was created. The repository keeps one row per VM and
calendar month.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import logging
import re
import unicodedata
from typing import Any, ClassVar

from caso import exceptions, window

LOG = logging.getLogger(__name__)

#: Longest text value the APEL loader stores, and the one exception.
MAX_TEXT = 255
MAX_TEXT_BY_FIELD = {"benchmark_type": 50}

#: Largest decimal the loader stores (``DECIMAL(10,3)``), and its step.
MAX_DECIMAL = decimal.Decimal("9999999.999")
DECIMAL_STEP = decimal.Decimal("0.001")

#: Text that the loader takes for a missing value.
MISSING_WORDS = frozenset({"", "none", "null"})

#: A VO name, or a VOMS FQAN ``/vo[/group...][/Role=r][/Capability=c]``.
FQAN_PATTERN = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9._-]*"
    r"|/[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9._-]+)*"
    r"(/Role=[A-Za-z0-9._-]+)?(/Capability=[A-Za-z0-9._-]+)?"
)

#: Field name to APEL key, in the order a record is written (VMUUID
#: first, then the order of the APEL cloud record definition).
APEL_KEYS = {
    "vm_uuid": "VMUUID",
    "site_name": "SiteName",
    "cloud_compute_service": "CloudComputeService",
    "machine_name": "MachineName",
    "local_user_id": "LocalUserId",
    "local_group_id": "LocalGroupId",
    "global_user_name": "GlobalUserName",
    "fqan": "FQAN",
    "status": "Status",
    "start_time": "StartTime",
    "end_time": "EndTime",
    "suspend_duration": "SuspendDuration",
    "wall_duration": "WallDuration",
    "cpu_duration": "CpuDuration",
    "cpu_count": "CpuCount",
    "public_ip_count": "PublicIPCount",
    "memory": "Memory",
    "disk": "Disk",
    "benchmark_type": "BenchmarkType",
    "benchmark": "Benchmark",
    "image_id": "ImageId",
    "cloud_type": "CloudType",
}

TEXT_FIELDS = (
    "vm_uuid",
    "site_name",
    "cloud_compute_service",
    "machine_name",
    "local_user_id",
    "local_group_id",
    "global_user_name",
    "fqan",
    "status",
    "benchmark_type",
    "image_id",
    "cloud_type",
)
INTEGER_FIELDS = (
    "suspend_duration",
    "wall_duration",
    "cpu_duration",
    "public_ip_count",
    "memory",
    "disk",
)
#: Integer fields a record cannot do without.
REQUIRED_INTEGERS = frozenset({"wall_duration", "cpu_duration"})


@dataclasses.dataclass(frozen=True)
class CloudRecord:
    """A VM's usage measured at ``measured_at``.

    Field names follow the APEL keys (``VMUUID`` is ``vm_uuid``, and so
    on). ``None`` means the key is left out of the message.
    """

    record_type: ClassVar[str] = "cloud"

    vm_uuid: str
    site_name: str
    measured_at: datetime.datetime
    start_time: datetime.datetime
    status: str
    wall_duration: int
    cpu_duration: int
    cloud_type: str
    cloud_compute_service: str | None = None
    machine_name: str | None = None
    local_user_id: str | None = None
    local_group_id: str | None = None
    global_user_name: str | None = None
    fqan: str | None = None
    end_time: datetime.datetime | None = None
    suspend_duration: int | None = None
    cpu_count: int | None = None
    public_ip_count: int | None = None
    memory: int | None = None
    disk: int | None = None
    benchmark_type: str | None = None
    benchmark: decimal.Decimal | None = None
    image_id: str | None = None

    def checked(self) -> CloudRecord:
        """A copy of the record that the APEL loader accepts.

        Values that can be repaired are, each with one warning naming the
        VM, the key and the change: text is made ASCII, line breaks become
        spaces, ``%%`` becomes ``%``, long text is cut, empty, ``None``
        and ``null`` text is left out, decimals are rounded to 3 places,
        and a benchmark out of range is dropped with its type.

        Returns:
            The record itself when nothing needed a change, else a copy.

        Raises:
            RecordError: the record cannot be made valid (no VMUUID or
                SiteName, no or negative start time, an end before the
                start, a negative or non-integer count, a malformed FQAN).
        """
        changes: dict[str, Any] = {}
        vm = _vm_label(self)
        for field in TEXT_FIELDS:
            changes.update(_checked_text(self, field, vm))
        for field in ("vm_uuid", "site_name"):
            if changes.get(field, getattr(self, field)) is None:
                raise exceptions.RecordError(
                    f"cloud record of VM {vm}: {APEL_KEYS[field]} is "
                    "missing; the APEL loader needs it"
                )
        fqan = changes.get("fqan", self.fqan)
        if fqan is not None and not FQAN_PATTERN.fullmatch(fqan):
            raise exceptions.RecordError(
                f"cloud record of VM {vm}: FQAN {fqan!r} is neither a VO "
                "name nor a VOMS FQAN like /vo/group/Role=r; check the "
                "project's VO mapping"
            )

        changes.update(_checked_times(self, vm))
        for field in INTEGER_FIELDS:
            _check_integer(self, field, vm)
        _check_cpu_count(self, vm)
        changes.update(_checked_benchmark(self, vm))

        if not changes:
            return self

        return dataclasses.replace(self, **changes)

    def apel_lines(self) -> list[str]:
        """The ``Key: value`` lines of the record in an APEL message.

        The record is :meth:`checked` first. Keys come in a fixed order,
        ``VMUUID`` first; a ``None`` value leaves its key out.

        Raises:
            RecordError: the record cannot be made valid.
        """
        record = self.checked()
        lines = []
        for field, key in APEL_KEYS.items():
            value = getattr(record, field)
            if value is not None:
                lines.append(f"{key}: {_apel_text(value)}")

        return lines

    def describe(self) -> str:
        """A few lines a person can read, for ``--dry-run``.

        Values are shown as found, long or multi-line text shortened.
        """
        benchmark = "-"
        if self.benchmark is not None:
            benchmark = (
                f"{_shown(self.benchmark_type)} {decimal_text(self.benchmark)}"
            )
        lines = [
            f"VM {_shown(self.vm_uuid)} ({_shown(self.machine_name)}) "
            f"at {_shown(self.site_name)}",
            f"  project {_shown(self.local_group_id)}, "
            f"VO {_shown(self.fqan)}, "
            f"user {_shown(self.global_user_name or self.local_user_id)}",
            f"  status {_shown(self.status)}, "
            f"start {_iso(self.start_time)}, end {_iso(self.end_time)}, "
            f"measured {_iso(self.measured_at)}",
            f"  wall {self.wall_duration} s, cpu {self.cpu_duration} s, "
            f"suspended {_shown(self.suspend_duration)} s",
            f"  flavor {_shown(self.cpu_count)} vCPUs, "
            f"{_shown(self.memory)} MB memory, {_shown(self.disk)} GB disk, "
            f"public IPs {_shown(self.public_ip_count)}",
            f"  benchmark {benchmark}, image {_shown(self.image_id)}",
        ]

        return "\n".join(lines)

    @property
    def month(self) -> tuple[int, int]:
        """The ``(year, month)`` the APEL repository files the record under.

        A completed record belongs to the month of its end; any other to
        the month of start + suspended + wall time.
        """
        if self.status == "completed" and self.end_time is not None:
            instant = self.end_time
        else:
            elapsed = (self.suspend_duration or 0) + self.wall_duration
            instant = self.start_time + datetime.timedelta(seconds=elapsed)
        instant = window.as_utc(instant)

        return instant.year, instant.month


def _vm_label(record: CloudRecord) -> str:
    """How messages name the record's VM, even without a VMUUID."""
    if isinstance(record.vm_uuid, str) and record.vm_uuid.strip():
        return record.vm_uuid

    return f"without VMUUID (name {record.machine_name!r})"


def _warn(vm: str, field: str, change: str) -> None:
    LOG.warning(
        "Cloud record of VM %s: %s %s, as the APEL loader needs",
        vm,
        APEL_KEYS[field],
        change,
    )


#: Text the loader takes as it is: printable ASCII, no "%%", no space at
#: either end.
_CLEAN = re.compile(r"(?!.*%%)[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?")


def clean_text(
    value: str, limit: int = MAX_TEXT
) -> tuple[str | None, list[str]]:
    """Text made acceptable to the APEL loader, and what was changed.

    Args:
        value: the text as found.
        limit: the longest text allowed.

    Returns:
        The clean text, or ``None`` when it counts as missing, and the
        changes made, in words (empty when none).
    """
    if _CLEAN.fullmatch(value) and value.lower() not in MISSING_WORDS:
        # The usual case, tens of thousands of times a run: nothing to do.
        if len(value) <= limit:
            return value, []

    changes = []
    text = unicodedata.normalize("NFKD", value)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = "".join(c if c.isascii() else "?" for c in text)
    if text != value:
        changes.append("made ASCII")

    # Every control character, not only newlines: the loader splits lines
    # on some of them and SSM may mangle the others.
    spaced = re.sub(r"[\x00-\x1f\x7f]", " ", text)
    if spaced != text:
        changes.append("line breaks and control characters made spaces")
    text = spaced

    single = re.sub(r"%{2,}", "%", text)
    if single != text:
        changes.append("'%%' made '%'")
    text = single

    stripped = text.strip()
    if stripped != text:
        changes.append("surrounding spaces removed")
    text = stripped

    if len(text) > limit:
        text = text[:limit].rstrip()
        changes.append(f"cut to {limit} characters")

    if text.lower() in MISSING_WORDS:
        if value:
            changes = [f"{value!r} left out"]

        return None, changes

    return text, changes


def _checked_text(
    record: CloudRecord, field: str, vm: str
) -> dict[str, str | None]:
    value = getattr(record, field)
    if value is None:
        return {}
    if not isinstance(value, str):
        raise exceptions.RecordError(
            f"cloud record of VM {vm}: {APEL_KEYS[field]} is "
            f"{type(value).__name__} {value!r}, not text"
        )

    text, changes = clean_text(value, MAX_TEXT_BY_FIELD.get(field, MAX_TEXT))
    if text == value:
        return {}

    # An empty value is simply absent; anything else lost is worth a word.
    if changes:
        _warn(vm, field, ", ".join(changes))

    return {field: text}


def _checked_times(
    record: CloudRecord, vm: str
) -> dict[str, datetime.datetime]:
    changes = {}
    for field in ("start_time", "end_time", "measured_at"):
        value = getattr(record, field)
        if value is None and field == "start_time":
            raise exceptions.RecordError(
                f"cloud record of VM {vm}: StartTime is missing"
            )
        if value is None:
            continue
        if not isinstance(value, datetime.datetime):
            raise exceptions.RecordError(
                f"cloud record of VM {vm}: {field} is "
                f"{type(value).__name__} {value!r}, not a datetime"
            )

        # A naive instant is UTC; the same instant in UTC is no change.
        utc = window.as_utc(value)
        if utc.tzinfo is not value.tzinfo:
            changes[field] = utc

    start = changes.get("start_time", record.start_time)
    end = changes.get("end_time", record.end_time)
    if window.epoch(start) < 0:
        raise exceptions.RecordError(
            f"cloud record of VM {vm}: StartTime {start.isoformat()} is "
            "before 1970"
        )
    if end is not None and end < start:
        raise exceptions.RecordError(
            f"cloud record of VM {vm}: EndTime {end.isoformat()} is "
            f"before StartTime {start.isoformat()}"
        )

    return changes


def _check_integer(
    record: CloudRecord, field: str, vm: str, maximum: int | None = None
) -> None:
    value = getattr(record, field)
    if value is None and field not in REQUIRED_INTEGERS:
        return

    key = APEL_KEYS[field]
    if isinstance(value, bool) or not isinstance(value, int):
        raise exceptions.RecordError(
            f"cloud record of VM {vm}: {key} is "
            f"{type(value).__name__} {value!r}, not an integer"
        )
    if value < 0:
        raise exceptions.RecordError(
            f"cloud record of VM {vm}: {key} is negative ({value})"
        )
    if maximum is not None and value > maximum:
        raise exceptions.RecordError(
            f"cloud record of VM {vm}: {key} {value} is above {maximum}"
        )


def _check_cpu_count(record: CloudRecord, vm: str) -> None:
    # CpuCount is a decimal for APEL but a whole number of vCPUs here.
    _check_integer(record, "cpu_count", vm, maximum=int(MAX_DECIMAL))


def _checked_benchmark(record: CloudRecord, vm: str) -> dict[str, Any]:
    value: Any = record.benchmark
    if value is None:
        return {}

    try:
        if isinstance(value, bool):
            raise TypeError(value)
        number = decimal.Decimal(
            value if isinstance(value, decimal.Decimal) else str(value)
        )
    except (TypeError, ValueError, decimal.InvalidOperation):
        number = decimal.Decimal("NaN")
    if not number.is_finite() or not 0 <= number <= MAX_DECIMAL:
        _warn(
            vm,
            "benchmark",
            f"{value} is not a number in 0..{MAX_DECIMAL}; left out "
            "with BenchmarkType",
        )
        return {"benchmark": None, "benchmark_type": None}

    rounded = number.quantize(DECIMAL_STEP).copy_abs()
    if rounded != number:
        _warn(vm, "benchmark", f"{value} rounded to {rounded}")
    if (
        rounded != number
        or number.is_signed()
        or not isinstance(value, decimal.Decimal)
    ):
        return {"benchmark": rounded}

    return {}


def decimal_text(value: decimal.Decimal | int) -> str:
    """A decimal as the loader reads it: no exponent, no trailing zeros."""
    number = decimal.Decimal(value)
    if number.is_zero():
        return "0"

    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")

    return text


def _apel_text(value: object) -> str:
    if isinstance(value, datetime.datetime):
        return str(window.epoch(value))
    if isinstance(value, (int, decimal.Decimal)):
        return decimal_text(value)

    return str(value)


def _iso(value: datetime.datetime | None) -> str:
    if value is None:
        return "-"

    return window.as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def _shown(value: object, width: int = 60) -> str:
    if value is None or value == "":
        return "-"

    text = " ".join(str(value).split())
    if len(text) > width:
        text = text[: width - 3] + "..."

    return text
