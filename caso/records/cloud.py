"""The APEL cloud record (``APEL-cloud-message: v0.4``).

One record describes one VM, measured at one instant: cumulative values
since the VM was created. The repository keeps one row per VM and
calendar month.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
from typing import ClassVar


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
