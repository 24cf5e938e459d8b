"""The deprecated VO mapping file (``mapping_file``, ``voms.json``).

Its shape is ``{"<VO>": {"projects": ["<project id or name>", ...]}}``.
Files written for older versions use ``"tenants": [...]`` or
``"tenant": "..."``; both are still read, with a warning. The Keystone
project property named by ``vo_property`` replaces this file.
"""

from __future__ import annotations

import json
import logging
import pathlib
from typing import Any

from caso import exceptions

LOG = logging.getLogger(__name__)

#: Where cASO looked by default; missing there is not an error.
DEFAULT_PATH = pathlib.Path("/etc/caso/voms.json")

_SHAPE = '{"<VO>": {"projects": ["<project id or name>", ...]}}'


def load(path: pathlib.Path) -> dict[str, str]:
    """Read the mapping from project id or name to VO.

    Args:
        path: the mapping file.

    Returns:
        The VO of each project id or name the file names; empty when the
        file is missing from the default path.

    Raises:
        ConfigError: the file is missing from a path set on purpose, is
            unreadable, is not JSON or does not have the expected shape.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        if path == DEFAULT_PATH:
            LOG.debug("no VO mapping file at %s", path)
            return {}
        raise _error(
            path, "does not exist; fix option 'mapping_file' or remove it"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise _error(path, f"cannot be read: {exc}") from exc

    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _error(
            path,
            f"is not JSON: line {exc.lineno} column {exc.colno}: {exc.msg}; "
            f"it must look like {_SHAPE}",
        ) from exc

    return _mapping(path, document)


def _error(path: pathlib.Path, what: str) -> exceptions.ConfigError:
    return exceptions.ConfigError(
        f"VO mapping file {path} (option 'mapping_file' in [DEFAULT]) {what}"
    )


def _mapping(path: pathlib.Path, document: Any) -> dict[str, str]:
    if not isinstance(document, dict):
        raise _error(path, f"must hold a JSON object like {_SHAPE}")

    mapping: dict[str, str] = {}
    old_keys: dict[str, list[str]] = {"tenants": [], "tenant": []}
    for vo, entry in document.items():
        for project in _projects(path, vo, entry, old_keys):
            if mapping.setdefault(project, vo) != vo:
                LOG.warning(
                    "VO mapping file %s maps project %r to VO %r and to "
                    "VO %r; using %r",
                    path,
                    project,
                    mapping[project],
                    vo,
                    mapping[project],
                )
    for key, vos in old_keys.items():
        if vos:
            LOG.warning(
                "VO mapping file %s uses the old key %r (VO %s); rename "
                "it to 'projects', a list",
                path,
                key,
                ", ".join(vos),
            )

    return mapping


def _projects(
    path: pathlib.Path,
    vo: str,
    entry: Any,
    old_keys: dict[str, list[str]],
) -> list[str]:
    if not isinstance(entry, dict):
        raise _error(path, f"has VO {vo!r} not mapped to an object")

    found: list[str] = []
    for key in ("projects", "tenants", "tenant"):
        if key not in entry:
            continue
        value = entry[key]
        if key == "tenant":
            value = [value]
        if not isinstance(value, list) or not all(
            isinstance(item, str) for item in value
        ):
            wanted = "a string" if key == "tenant" else "a list of strings"
            raise _error(path, f"has VO {vo!r} whose {key!r} is not {wanted}")
        if key in old_keys:
            old_keys[key].append(vo)
        found.extend(value)

    return found
