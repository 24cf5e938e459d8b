"""The projects a run reports, and the VO each belongs to."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Project:
    """A Keystone project selected for accounting.

    ``vo`` is None when neither the project property nor the mapping file
    names one: such a project produces no records.
    """

    id: str
    name: str
    domain_id: str | None = None
    vo: str | None = None
    tags: tuple[str, ...] = ()
