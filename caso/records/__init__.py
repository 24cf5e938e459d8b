"""Accounting records, one module per record family.

Records are immutable. Each family knows its ``record_type`` (the name
used in ``[messenger_<name>] record_types``) and how to check itself
against what its receiver accepts.
"""

from __future__ import annotations

from typing import ClassVar, Protocol

#: Every record type a messenger can be routed, in documentation order.
RECORD_TYPES = ("cloud", "ip", "accelerator", "storage", "energy")


class Record(Protocol):
    """What every record family offers to the messengers."""

    record_type: ClassVar[str]

    def describe(self) -> str:
        """A few lines a person can read, for ``--dry-run``."""
        ...
