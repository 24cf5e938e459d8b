"""The cloud records the accounting rules demand, computed from truth.json.

This is the test's own reading of the rules (the project specification's
accounting.md), written apart from caso's code so that the two can
disagree: a record caso queues is right only when it equals the one
computed here from what the APIs reported after seeding.
"""

from __future__ import annotations

import calendar
import datetime
import decimal
import unicodedata
from typing import Any

UTC = datetime.timezone.utc
SECOND = datetime.timedelta(seconds=1)

STATUS = {
    "active": "started",
    "build": "started",
    "rebuild": "started",
    "reboot": "started",
    "hard_reboot": "started",
    "resize": "started",
    "verify_resize": "started",
    "paused": "paused",
    "suspended": "suspended",
    "shelved": "suspended",
    "shelved_offloaded": "suspended",
    "shutoff": "stopped",
    "deleted": "completed",
    "error": "error",
}

MPURI = "vmcatcher_event_ad_mpuri"

Json = dict[str, Any]


def instant(text: str | None) -> datetime.datetime | None:
    """An API time, with or without ``Z`` and fraction, as UTC."""
    if not text:
        return None
    value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)

    return value.astimezone(UTC)


def epoch(value: datetime.datetime) -> int:
    return calendar.timegm(value.utctimetuple())


def ended(server: Json) -> datetime.datetime | None:
    end = instant(server["terminated_at"])
    if end is None and server["status"] == "DELETED":
        end = instant(server["updated"])

    return end


def month_starts(
    after: datetime.datetime, until: datetime.datetime
) -> list[datetime.datetime]:
    """Month starts B with after < B <= until."""
    found = []
    year, month = after.year, after.month
    while True:
        month += 1
        if month == 13:
            year, month = year + 1, 1
        boundary = datetime.datetime(year, month, 1, tzinfo=UTC)
        if boundary > until:
            return found
        found.append(boundary)


def ascii_text(text: str) -> str:
    """What a name becomes once made valid for APEL."""
    flat = unicodedata.normalize("NFKD", text)
    flat = "".join(c for c in flat if not unicodedata.combining(c))
    flat = "".join(c if ord(c) < 128 else "?" for c in flat)
    while "%%" in flat:
        flat = flat.replace("%%", "%")

    return flat.strip()[:255]


def records(
    truth: Json,
    start: datetime.datetime,
    end: datetime.datetime,
    site: str,
    service: str,
    projects: set[str],
) -> dict[tuple[str, int], Json]:
    """Expected records of a window, keyed by (VMUUID, epoch measured).

    Values are the APEL text each key must carry; a key left out of the
    dict must be left out of the record.
    """
    users = {u["id"]: u["name"] for u in truth["users"]}
    vos = {p["id"]: p["vo"] for p in truth["projects"]}
    images = {i["id"]: i for i in truth["images"]}
    expected: dict[tuple[str, int], Json] = {}
    for server in truth["servers"]:
        if server["project_id"] not in projects:
            continue
        created = instant(server["created"])
        assert created is not None
        finish = ended(server)
        if not (created < end and (finish is None or finish >= start)):
            continue
        instants = [
            b - SECOND
            for b in month_starts(start, end)
            if created <= b - SECOND and (finish is None or finish >= b)
        ]
        instants.append(end)
        for at in instants:
            record = _record(server, at, finish, users, vos, images)
            record.update(SiteName=site, CloudComputeService=service)
            expected[(server["id"], epoch(at))] = record

    return expected


def _record(
    server: Json,
    at: datetime.datetime,
    finish: datetime.datetime | None,
    users: dict[str, str],
    vos: dict[str, str],
    images: dict[str, Json],
) -> Json:
    created = instant(server["created"])
    assert created is not None
    alive = finish is None or finish > at
    status = STATUS.get(server["status"].lower(), "unknown")
    if alive and status == "completed":
        status = "started"
    until = at if alive else finish
    assert until is not None
    launched = server["launched_at"] is not None
    wall = max(0, epoch(until) - epoch(created)) if launched else 0
    flavor = server["flavor"]
    record: Json = {
        "VMUUID": server["id"],
        "MachineName": ascii_text(server["name"]),
        "LocalUserId": server["user_id"],
        "LocalGroupId": server["project_id"],
        "GlobalUserName": users[server["user_id"]],
        "FQAN": vos[server["project_id"]],
        "Status": status,
        "StartTime": str(epoch(created)),
        "WallDuration": str(wall),
        "CpuDuration": str(wall * flavor["vcpus"]),
        "CpuCount": str(flavor["vcpus"]),
        "PublicIPCount": str(_floating(server)),
        "Memory": str(flavor["ram"]),
        "Disk": str(flavor["disk"] + flavor.get("ephemeral", 0)),
    }
    if not alive:
        record["EndTime"] = str(epoch(finish))  # type: ignore[arg-type]
    specs = flavor.get("extra_specs") or {}
    kind = specs.get("accounting:benchmark_type")
    value = specs.get("accounting:benchmark_value")
    try:
        number = decimal.Decimal(value) if kind and value else None
    except decimal.InvalidOperation:
        number = None
    if number is not None:
        record["BenchmarkType"] = kind
        record["Benchmark"] = _decimal(number)
    if server["image_id"]:
        image = images.get(server["image_id"], {})
        properties = image.get("properties", {})
        record["ImageId"] = properties.get(MPURI) or server["image_id"]

    return record


def _floating(server: Json) -> int:
    return sum(
        1
        for network in (server.get("addresses") or {}).values()
        for address in network
        if address.get("OS-EXT-IPS:type") == "floating"
    )


def _decimal(value: decimal.Decimal) -> str:
    text = format(value.quantize(decimal.Decimal("0.001")), "f")

    return text.rstrip("0").rstrip(".") if "." in text else text
