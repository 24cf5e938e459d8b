"""caso-projects at the HTTP seam."""

from __future__ import annotations

from typing import Any

from caso.cmd import projects
from tests import fakecloud


def test_projects_needs_no_site_name_and_lists_each_project(
    cloud: fakecloud.FakeCloud, write_conf: Any, capsys: Any
) -> None:
    # Checking projects comes before a site publishes anything.
    alpha = cloud.add_project("alpha")
    beta = cloud.add_project("beta", vo=None)
    path = write_conf(site_name=None)

    status = projects.main(["--config-file", str(path)])

    assert status == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{alpha}\talpha\tvo.example.eu\tok",
        f"{beta}\tbeta\t-\tno VO",
        "Credentials: project admin "
        f"({cloud.home_project}); servers of all projects are listed in "
        "one stream",
        "caso-projects: 2 project(s) selected, 1 with a problem",
    ]
