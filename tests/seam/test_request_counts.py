"""What a run costs: requests counted at the HTTP seam."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from tests import fakecloud
from tests.seam.expected import DAY, HOUR, UTC, run, window

T0 = datetime.datetime(2025, 3, 10, 12, 0, tzinfo=UTC)

#: Least privilege: user names with a reader token on system scope, the
#: servers of each project with that project's token.
SYSTEM_SCOPE = {
    "keystone_auth": {
        "project_name": None,
        "project_domain_name": None,
        "system_scope": "all",
    }
}


def _scenario(cloud: fakecloud.FakeCloud) -> list[fakecloud.FakeServer]:
    """3 projects, 5 servers (one deleted), 2 users, 1 image."""
    projects = [cloud.add_project(n) for n in ("alpha", "beta", "gamma")]
    alice, bob = cloud.add_user("alice"), cloud.add_user("bob")
    cloud.add_image("img-1", vmcatcher_event_ad_mpuri="https://mp/img-1")
    owners = [
        (projects[0], alice),
        (projects[0], bob),
        (projects[1], alice),
        (projects[2], bob),
    ]
    servers = [
        cloud.add_server(project_id=p, user_id=u, created=T0 - 3 * DAY)
        for p, u in owners
    ]
    servers.append(
        cloud.add_server(
            project_id=projects[1],
            user_id=bob,
            created=T0 - 2 * DAY,
            status="DELETED",
            terminated_at=T0 - HOUR / 2,
        )
    )

    return servers


@pytest.mark.parametrize(
    ("admin", "groups", "expected"),
    [
        (
            True,
            {},
            {
                "tokens": 1,
                "version discoveries": 1,
                "users": 2,
                "images": 1,
                "server listings": 2,
                "usage reports": 1,
                "server shows": 0,
            },
        ),
        (
            False,
            SYSTEM_SCOPE,
            {
                "tokens": 1 + 3,
                "version discoveries": 1,
                "users": 2,
                "images": 1,
                "server listings": 2 * 3,
                "usage reports": 3,
                "server shows": 0,
            },
        ),
        # A project reader's token: the cloud-wide listing answers 403
        # once, then each project is read with its own token; Keystone
        # refuses the first user read and no other is tried.
        (
            False,
            {},
            {
                "tokens": 1 + 3,
                "version discoveries": 1,
                "users": 1,
                "images": 1,
                "server listings": 1 + 2 * 3,
                "usage reports": 3,
                "server shows": 0,
            },
        ),
    ],
    ids=["admin", "least-privilege", "project-reader"],
)
def test_a_run_makes_each_read_once(
    requests_mock: Any,
    make_conf: Any,
    admin: bool,
    groups: dict[str, Any],
    expected: dict[str, int],
) -> None:
    cloud = fakecloud.FakeCloud(requests_mock, admin=admin)
    servers = _scenario(cloud)

    report = run(make_conf(*window(T0 - HOUR, T0), groups=groups))

    compute = fakecloud.COMPUTE_URL
    shows = [
        r
        for r in cloud.requests("GET", f"{compute}/servers/")
        if not r.path.endswith("/detail")
    ]
    assert {
        "tokens": len(cloud.token_requests),
        "version discoveries": len(
            [
                r
                for r in requests_mock.request_history
                if r.url.split("?")[0].rstrip("/") == compute
            ]
        ),
        "users": len(cloud.requests("GET", f"{fakecloud.AUTH_URL}/users/")),
        "images": len(
            cloud.requests("GET", f"{fakecloud.IMAGE_URL}/v2/images/")
        ),
        "server listings": len(
            cloud.requests("GET", f"{compute}/servers/detail")
        ),
        "usage reports": len(
            cloud.requests("GET", f"{compute}/os-simple-tenant-usage")
        ),
        "server shows": len(shows),
    } == expected
    # Only a project reader's token may not read user names.
    named = admin or bool(groups)
    assert sorted(
        (r.vm_uuid, r.global_user_name, r.image_id) for r in report.records
    ) == sorted(
        (
            s.id,
            ("alice" if i in (0, 2) else "bob") if named else None,
            "https://mp/img-1",
        )
        for i, s in enumerate(servers)
    )
    assert report.exit_status == 0
