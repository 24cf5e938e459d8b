"""``caso-projects``: what a run would report, and what is wrong.

For each selected project: its id, name and VO, and whether the
configured credentials can read it, so an operator can fix the
configuration before the first run.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from caso import config, exceptions, manager
from caso.identity import cloud as cloud_mod
from caso.identity import projects as projects_mod

LOG = logging.getLogger(__name__)

PROG = "caso-projects"


def main(argv: Sequence[str] | None = None) -> int:
    """Print the selected projects; exit 1 when one has a problem."""
    try:
        conf = config.load(
            sys.argv[1:] if argv is None else argv,
            prog=PROG,
            publishing=False,
        )
        run = manager.Manager(conf)
        selection = run.select()
        rows, mode = _check_access(run.cloud, selection)
    except exceptions.ConfigError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except exceptions.CasoError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1

    for row in rows:
        print("\t".join(row))
    for entry, problem in selection.problems:
        print("\t".join((entry, "-", "-", problem)))
    print(f"Credentials: {run.cloud.scope}; {mode}")
    bad = len(selection.problems) + sum(row[3] != "ok" for row in rows)
    print(f"{PROG}: {len(rows)} project(s) selected, {bad} with a problem")

    return 1 if bad else 0


def _check_access(
    cloud: cloud_mod.Cloud, selection: projects_mod.Selection
) -> tuple[list[tuple[str, str, str, str]], str]:
    cloud_wide = False
    if cloud.access.project_id:
        compute = cloud.adapter("compute")
        try:
            cloud_mod.get_json(
                compute, "/servers/detail", {"all_tenants": 1, "limit": 1}
            )
            cloud_wide = True
        except exceptions.AccessDenied:
            pass
    mode = (
        "servers of all projects are listed in one stream"
        if cloud_wide
        else "each project is read with its own project-scoped token"
    )
    rows = []
    for project in selection.projects:
        problem = "ok" if project.vo else "no VO"
        if not cloud_wide and project.vo:
            problem = _project_access(cloud, project.id)
        rows.append((project.id, project.name, project.vo or "-", problem))

    return rows, mode


def _project_access(cloud: cloud_mod.Cloud, project_id: str) -> str:
    try:
        compute = cloud.adapter("compute", cloud.session_for(project_id))
        cloud_mod.get_json(compute, "/servers/detail", {"limit": 1})
    except exceptions.CasoError as exc:
        return f"no access: {exc}"

    return "ok"


if __name__ == "__main__":
    sys.exit(main())
