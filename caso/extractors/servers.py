"""Nova servers, and the accounting rules that make cloud records of them.

The rules (``accounting.md`` in the project's specification):

- ``StartTime`` is the server's ``created``, never ``launched_at``, which
  Nova resets on resize, rebuild, rescue and evacuate.
- The VM ended at ``terminated_at``; a deleted server without it ended at
  its ``updated`` time; otherwise it is still running.
- A server that never launched consumed nothing.
- Values are measured at an instant: the window's end, and the last
  second of every month that ended inside the window, so that the
  repository's closed months hold their final values.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import logging
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import caso
from caso import window
from caso.records import cloud as cloud_records

if TYPE_CHECKING:
    from oslo_config import cfg

    from caso.identity import projects as projects_mod
    from caso.identity import users as users_mod

LOG = logging.getLogger(__name__)

Json = dict[str, Any]

#: Nova status (lower case) to record status; anything else is unknown.
STATUS = {
    **dict.fromkeys(
        (
            "active",
            "build",
            "rebuild",
            "reboot",
            "hard_reboot",
            "password",
            "resize",
            "verify_resize",
            "revert_resize",
            "confirming_resize",
            "migrating",
            "rescue",
            "saving",
        ),
        "started",
    ),
    "paused": "paused",
    **dict.fromkeys(
        ("suspended", "shelved", "shelved_offloaded"), "suspended"
    ),
    "shutoff": "stopped",
    "stopped": "stopped",
    **dict.fromkeys(("deleted", "soft_deleted", "terminated"), "completed"),
    "error": "error",
}

#: Status of a VM measured while it was alive whose current state is
#: completed: a record of a living VM must never say completed.
ALIVE_STATUS = "started"

CLOUD_TYPE = f"caso/{caso.__version__} (OpenStack)"


@dataclasses.dataclass(frozen=True)
class Flavor:
    """The size of a server, as embedded in it or from the flavor list."""

    name: str | None
    vcpus: int
    ram: int
    disk: int
    ephemeral: int = 0
    extra_specs: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_api(cls, payload: Json) -> Flavor:
        """From a server's embedded flavor (2.47+) or a flavor detail."""
        return cls(
            name=payload.get("original_name") or payload.get("name"),
            vcpus=int(payload.get("vcpus") or 0),
            ram=int(payload.get("ram") or 0),
            disk=int(payload.get("disk") or 0),
            ephemeral=int(
                payload.get("ephemeral")
                or payload.get("OS-FLV-EXT-DATA:ephemeral")
                or 0
            ),
            extra_specs=dict(payload.get("extra_specs") or {}),
        )

    @classmethod
    def from_usage(cls, entry: Json) -> Flavor:
        """From a simple-tenant-usage entry: no extra specs there."""
        return cls(
            name=entry.get("flavor"),
            vcpus=int(entry.get("vcpus") or 0),
            ram=int(entry.get("memory_mb") or 0),
            disk=int(entry.get("local_gb") or 0),
        )


@dataclasses.dataclass(frozen=True)
class Server:
    """The fields of a Nova server that accounting uses."""

    id: str
    name: str
    project_id: str
    user_id: str | None
    status: str
    created: datetime.datetime
    updated: datetime.datetime | None
    launched_at: datetime.datetime | None
    terminated_at: datetime.datetime | None
    image_id: str | None
    flavor: Flavor | None
    flavor_id: str | None = None
    floating_ips: int = 0

    @classmethod
    def from_api(cls, payload: Json) -> Server:
        """From one item of ``GET /servers/detail`` or ``/servers/{id}``."""
        flavor = payload.get("flavor") or {}
        image = payload.get("image")

        return cls(
            id=payload["id"],
            name=payload.get("name") or "",
            project_id=payload["tenant_id"],
            user_id=payload.get("user_id"),
            status=(payload.get("status") or "").lower(),
            created=window.parse(payload["created"]),
            updated=_instant(payload.get("updated")),
            launched_at=_instant(payload.get("OS-SRV-USG:launched_at")),
            terminated_at=_instant(payload.get("OS-SRV-USG:terminated_at")),
            # A server booted from a volume has "" (or nothing) here.
            image_id=image.get("id") if isinstance(image, dict) else None,
            flavor=Flavor.from_api(flavor) if "vcpus" in flavor else None,
            flavor_id=flavor.get("id"),
            floating_ips=_floating_ips(payload.get("addresses") or {}),
        )

    @classmethod
    def from_usage(cls, entry: Json) -> Server:
        """From a simple-tenant-usage entry, for an ended VM Nova no
        longer shows (a deleted server's GET is 404, even for an admin).

        The entry has no creation time, user or image: the VM's start is
        its launch, and the record carries neither user nor image.
        """
        started = window.parse(entry["started_at"])
        ended = _instant(entry.get("ended_at"))

        return cls(
            id=entry["instance_id"],
            name=entry.get("name") or "",
            project_id=entry["tenant_id"],
            user_id=None,
            status=(entry.get("state") or "").lower(),
            created=started,
            updated=ended,
            launched_at=started,
            terminated_at=ended,
            image_id=None,
            flavor=Flavor.from_usage(entry),
        )

    def with_flavor(self, flavor: Flavor | None) -> Server:
        """A copy with the given flavor."""
        return dataclasses.replace(self, flavor=flavor)

    @property
    def end(self) -> datetime.datetime | None:
        """When the VM ended, or None while it runs."""
        if self.terminated_at is not None:
            return self.terminated_at
        if self.status == "deleted":
            return self.updated

        return None

    def existed_in(self, span: window.Window) -> bool:
        """Whether the VM existed at some moment of ``[start, end)``."""
        end = self.end

        return self.created < span.end and (end is None or end >= span.start)

    def alive_at(self, instant: datetime.datetime) -> bool:
        """Whether the VM existed at ``instant``."""
        end = self.end

        return self.created <= instant and (end is None or end > instant)


def _instant(text: str | None) -> datetime.datetime | None:
    return window.parse(text) if text else None


def _floating_ips(addresses: Mapping[str, Any]) -> int:
    return sum(
        1
        for network in addresses.values()
        for address in network
        if address.get("OS-EXT-IPS:type") == "floating"
    )


class RecordMaker:
    """Turns servers into cloud records, per the rules of this module.

    Args:
        conf: the configuration (site, service, benchmark keys).
        users: user names, read once per run.
        image_ref: image id and project id to the record's ``ImageId``.
    """

    def __init__(
        self,
        conf: cfg.ConfigOpts,
        users: users_mod.UserNames,
        image_ref: Callable[[str, str], str],
    ) -> None:
        self._site_name = conf.site_name or ""
        self._service_name = conf.service_name or None
        self._benchmark_type_key = conf.benchmark.name_key
        self._benchmark_value_key = conf.benchmark.value_key
        self._users = users
        self._image_ref = image_ref
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def records(
        self,
        server: Server,
        project: projects_mod.Project,
        span: window.Window,
    ) -> list[cloud_records.CloudRecord]:
        """The month-closing records and the record at the window's end."""
        # Months that ended while the VM was alive: B > created only.
        after = max(span.start, server.created)
        records = [
            self.measure(server, project, boundary - window.ONE_SECOND)
            for boundary in window.month_starts(after, span.end)
            if server.alive_at(boundary - window.ONE_SECOND)
        ]
        records.append(self.measure(server, project, span.end))

        return records

    def measure(
        self,
        server: Server,
        project: projects_mod.Project,
        at: datetime.datetime,
    ) -> cloud_records.CloudRecord:
        """The server's cumulative usage at instant ``at``."""
        end = server.end
        alive = end is None or end > at
        status = STATUS.get(server.status, "unknown")
        until: datetime.datetime | None = at
        end_time = None
        if alive:
            if status == "completed":
                status = ALIVE_STATUS
        else:
            until = end_time = end
        wall = 0
        if server.launched_at is not None and until is not None:
            wall = max(0, window.epoch(until) - window.epoch(server.created))
        flavor = server.flavor
        benchmark_type, benchmark = self._benchmark(flavor)

        return cloud_records.CloudRecord(
            vm_uuid=server.id,
            site_name=self._site_name,
            cloud_compute_service=self._service_name,
            measured_at=at,
            machine_name=server.name,
            local_user_id=server.user_id,
            local_group_id=server.project_id,
            global_user_name=self._users.get(server.user_id),
            fqan=project.vo,
            status=status,
            start_time=server.created,
            end_time=end_time,
            wall_duration=wall,
            cpu_duration=wall * flavor.vcpus if flavor else wall,
            cpu_count=flavor.vcpus if flavor else None,
            public_ip_count=server.floating_ips,
            memory=flavor.ram if flavor else None,
            disk=flavor.disk + flavor.ephemeral if flavor else None,
            benchmark_type=benchmark_type,
            benchmark=benchmark,
            image_id=(
                self._image_ref(server.image_id, server.project_id)
                if server.image_id
                else None
            ),
            cloud_type=CLOUD_TYPE,
        )

    def _benchmark(
        self, flavor: Flavor | None
    ) -> tuple[str | None, decimal.Decimal | None]:
        if flavor is None:
            return None, None
        kind = flavor.extra_specs.get(self._benchmark_type_key)
        text = flavor.extra_specs.get(self._benchmark_value_key)
        if not kind or text is None:
            return None, None
        try:
            value = decimal.Decimal(str(text).strip())
        except decimal.InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            self._warn_once(
                f"flavor {flavor.name!r}: benchmark value {text!r} "
                f"({self._benchmark_value_key}) is not a number; its "
                "records go out without a benchmark. Fix the flavor's "
                "extra spec",
            )
            return None, None

        return kind, value

    def _warn_once(self, message: str) -> None:
        with self._lock:
            if message in self._warned:
                return
            self._warned.add(message)
        LOG.warning("%s", message)
