"""Instants and accounting windows.

Every instant inside caso is a timezone-aware UTC ``datetime``. Text
without a zone (command line, configuration, state files, OpenStack
fields such as ``OS-SRV-USG:launched_at``) is read as UTC; text with an
offset is converted to UTC, never truncated.
"""

from __future__ import annotations

import dataclasses
import datetime

from dateutil import parser as date_parser

UTC = datetime.timezone.utc

#: ``--extract-from None`` and a first run start here.
BEGINNING = datetime.datetime(1970, 1, 1, tzinfo=UTC)

ONE_SECOND = datetime.timedelta(seconds=1)


def now() -> datetime.datetime:
    """The current instant, whole seconds, UTC."""
    return datetime.datetime.now(UTC).replace(microsecond=0)


def parse(text: str) -> datetime.datetime:
    """Read an instant written by a person or an API.

    Args:
        text: ISO 8601 or ``YYYY-MM-DD[ HH:MM[:SS]]``, with or without a
            zone; without one it is UTC.

    Returns:
        The instant in UTC.

    Raises:
        ValueError: the text is not a date.
    """
    try:
        value = date_parser.isoparse(text.strip())
    except ValueError:
        value = date_parser.parse(text.strip())
    return as_utc(value)


def as_utc(value: datetime.datetime) -> datetime.datetime:
    """The same instant in UTC; a naive value is taken as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)

    return value.astimezone(UTC)


def epoch(value: datetime.datetime) -> int:
    """Integer seconds since the epoch, as APEL wants them."""
    return int(value.timestamp())


def month_start(value: datetime.datetime) -> datetime.datetime:
    """The first instant of the calendar month (UTC) holding ``value``."""
    return value.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month_start(value: datetime.datetime) -> datetime.datetime:
    """The first instant of the calendar month after the one of ``value``."""
    start = month_start(value)
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1)

    return start.replace(month=start.month + 1)


def month_starts(
    after: datetime.datetime, until: datetime.datetime
) -> list[datetime.datetime]:
    """Starts of months ``B`` with ``after < B <= until``, in order."""
    starts = []
    boundary = next_month_start(after)
    while boundary <= until:
        starts.append(boundary)
        boundary = next_month_start(boundary)

    return starts


@dataclasses.dataclass(frozen=True)
class Window:
    """The half-open interval ``[start, end)`` a run reports.

    ``end`` is the instant records are measured at; the last second of
    every month that starts inside it (see :func:`month_starts`) too.
    """

    start: datetime.datetime
    end: datetime.datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("window instants must carry a zone")

    def __str__(self) -> str:
        return f"[{self.start.isoformat()}, {self.end.isoformat()})"
