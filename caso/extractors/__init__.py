"""Extractors: one module per OpenStack service or data source.

An extractor turns the usage of a set of projects, each over its own
window, into records. It is given every project of the run at once so
that it can read the cloud in one paged stream when the credentials
allow, instead of once per project. Extractors are found through the
``caso.extractors`` entry point group.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Sequence
from importlib import metadata
from typing import TYPE_CHECKING, Any, ClassVar

from caso import exceptions

if TYPE_CHECKING:
    from oslo_config import cfg

    from caso import window
    from caso.identity import cloud as cloud_mod
    from caso.identity import projects as projects_mod
    from caso.identity import users as users_mod

ENTRY_POINT_GROUP = "caso.extractors"

#: Extractors cASO offers that this version does not have yet. Naming one
#: is not an error: it is skipped with a warning, so existing
#: configurations keep working.
PLANNED = frozenset({"cinder", "neutron", "prometheus", "ceilometer"})


@dataclasses.dataclass(frozen=True)
class Job:
    """One project to report over one window."""

    project: projects_mod.Project
    window: window.Window


@dataclasses.dataclass
class Outcome:
    """What an extractor produced for one project.

    ``error`` set means the project failed: its records are not sent and
    its watermark does not move.
    """

    records: list[Any] = dataclasses.field(default_factory=list)
    error: Exception | None = None


class Extractor(abc.ABC):
    """Base of every extractor."""

    #: The name used in the ``extractor`` option and in state files.
    name: ClassVar[str]
    #: Record types this extractor produces.
    record_types: ClassVar[frozenset[str]]

    def __init__(
        self,
        conf: cfg.ConfigOpts,
        cloud: cloud_mod.Cloud,
        users: users_mod.UserNames,
    ) -> None:
        self.conf = conf
        self.cloud = cloud
        self.users = users

    @abc.abstractmethod
    def extract(self, jobs: Sequence[Job]) -> dict[str, Outcome]:
        """Build the records of every job.

        Args:
            jobs: one per project, each with its window.

        Returns:
            An outcome per project id. A failure of one project is an
            outcome with ``error`` set, never an exception.
        """


def available() -> dict[str, metadata.EntryPoint]:
    """Installed extractors by name."""
    return {
        ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)
    }


def load(name: str) -> type[Extractor]:
    """The extractor class registered as ``name``.

    Raises:
        ConfigError: no extractor of that name is installed.
    """
    found = available()
    if name not in found:
        raise exceptions.ConfigError(
            f"unknown extractor {name!r} in option 'extractor' of "
            f"[DEFAULT]; choose from {', '.join(sorted(found))}"
        )
    loaded: type[Extractor] = found[name].load()

    return loaded
