"""The projects a run reports, and the VO each belongs to."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from caso import exceptions
from caso.identity import cloud as cloud_mod

if TYPE_CHECKING:
    from oslo_config import cfg

LOG = logging.getLogger(__name__)

Json = dict[str, Any]


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


@dataclasses.dataclass(frozen=True)
class Selection:
    """The outcome of resolving ``projects`` and ``caso_tag``.

    Args:
        projects: the projects found, in a stable order, with or without
            a VO.
        problems: configured entries that could not be used, each with
            what is wrong and how to fix it.
    """

    projects: tuple[Project, ...]
    problems: tuple[tuple[str, str], ...] = ()

    @property
    def without_vo(self) -> tuple[Project, ...]:
        """Selected projects whose VO is unknown."""
        return tuple(p for p in self.projects if p.vo is None)


def select(
    cloud: cloud_mod.Cloud, conf: cfg.ConfigOpts, mapping: Mapping[str, str]
) -> Selection:
    """Find the projects to report and their VOs.

    Projects come from the ``projects`` option (ids or names) and from the
    ``caso_tag`` tag; the VO from the ``vo_property`` project property,
    else from the mapping file.

    Args:
        cloud: where to read the projects.
        conf: the configuration.
        mapping: project id or name to VO, from the mapping file.
    """
    listing = _list_projects(cloud)
    by_id = {p["id"]: p for p in listing}
    by_name: dict[str, list[Json]] = {}
    for payload in listing:
        by_name.setdefault(payload["name"], []).append(payload)

    chosen: dict[str, Json] = {}
    problems = []
    for entry in conf.projects or ():
        found, problem = _resolve(entry, by_id, by_name)
        if found is not None:
            chosen[found["id"]] = found
        elif problem:
            problems.append((entry, problem))
    if conf.caso_tag:
        for payload in listing:
            if conf.caso_tag in (payload.get("tags") or ()):
                chosen[payload["id"]] = payload

    projects = tuple(
        _project(payload, conf.vo_property, mapping)
        for payload in sorted(chosen.values(), key=lambda p: p["name"])
    )

    return Selection(projects, tuple(problems))


def _list_projects(cloud: cloud_mod.Cloud) -> list[Json]:
    keystone = cloud.identity()
    try:
        listing: list[Json] = cloud_mod.get_json(keystone, "/projects")[
            "projects"
        ]
        return listing
    except exceptions.AccessDenied as exc:
        refusal = exc
    # Logged outside the handler: oslo.log would append the traceback.
    # A project reader may not list projects; the ones it holds a role in
    # are enough to report them.
    LOG.warning(
        "Keystone refused to list projects (%s); selecting among the "
        "projects the caso user has a role in",
        refusal,
    )
    mine: list[Json] = cloud_mod.get_json(keystone, "/auth/projects")[
        "projects"
    ]

    return mine


def _resolve(
    entry: str, by_id: Mapping[str, Json], by_name: Mapping[str, list[Json]]
) -> tuple[Json | None, str | None]:
    if entry in by_id:
        return by_id[entry], None
    named = by_name.get(entry, [])
    if len(named) == 1:
        return named[0], None
    if len(named) > 1:
        ids = ", ".join(sorted(p["id"] for p in named))
        return None, (
            f"the name is used by several projects ({ids}); put the "
            "project id in 'projects' instead"
        )

    return None, (
        "not found, or the caso user has no role in it; check the id or "
        "name in 'projects', or give the caso user the reader role there"
    )


def _project(
    payload: Json, vo_property: str, mapping: Mapping[str, str]
) -> Project:
    vo = payload.get(vo_property) or None
    if vo is None:
        vo = mapping.get(payload["id"]) or mapping.get(payload["name"])

    return Project(
        id=payload["id"],
        name=payload["name"],
        domain_id=payload.get("domain_id"),
        vo=vo,
        tags=tuple(payload.get("tags") or ()),
    )
