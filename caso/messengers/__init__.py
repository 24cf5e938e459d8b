"""Messengers: one module per place records are sent to.

A messenger takes records of the types it can carry and delivers them,
raising :class:`caso.exceptions.MessengerError` when it cannot. It is
found through the ``caso.messengers`` entry point group.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from importlib import metadata
from typing import TYPE_CHECKING, Any, ClassVar

from caso import exceptions

if TYPE_CHECKING:
    from oslo_config import cfg

ENTRY_POINT_GROUP = "caso.messengers"

#: Old messenger names still accepted, with a warning, and what they mean.
DEPRECATED_NAMES = {"ssmv4": "ssm"}

#: Messengers cASO offers that this version does not have yet.
PLANNED = frozenset({"logstash", "greendigit_cim"})


class Messenger(abc.ABC):
    """Base of every messenger."""

    #: Record types this messenger can carry.
    record_types: ClassVar[frozenset[str]]
    #: Record types it gets when ``record_types`` is not configured.
    default_record_types: ClassVar[frozenset[str]]

    def __init__(self, conf: cfg.ConfigOpts, name: str) -> None:
        self.conf = conf
        self.name = name

    @abc.abstractmethod
    def push(self, records: Sequence[Any]) -> int:
        """Deliver the records.

        Args:
            records: records of the types this messenger was routed.

        Returns:
            How many messages were written; 0 for no records.

        Raises:
            MessengerError: nothing or only part was delivered.
        """


def available() -> dict[str, metadata.EntryPoint]:
    """Installed messengers by name."""
    return {
        ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)
    }


def load(name: str) -> type[Messenger]:
    """The messenger class registered as ``name``.

    Raises:
        ConfigError: no messenger of that name is installed.
    """
    found = available()
    if name not in found:
        raise exceptions.ConfigError(
            f"unknown messenger {name!r} in option 'messengers' of "
            f"[DEFAULT]; choose from {', '.join(sorted(found))}"
        )
    loaded: type[Messenger] = found[name].load()

    return loaded
