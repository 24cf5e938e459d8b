"""The test cloud's truth.json agrees with its live APIs and covers the
scenario that caso's end-to-end tests rely on (issue #2)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from tests.e2e import testcloud

pytestmark = pytest.mark.e2e

MICROVERSION = "2.79"
TRUTH_KEYS = {
    "auth_url", "region_name", "compute_microversion", "month_start",
    "domains", "projects", "users", "flavors", "images", "volumes",
    "floating_ips", "servers",
}  # fmt: skip
SERVER_KEYS = {
    "id", "name", "project_id", "user_id", "status", "created", "updated",
    "launched_at", "terminated_at", "flavor", "image_id", "addresses",
    "deleted",
}  # fmt: skip


@pytest.fixture(scope="module")
def truth() -> dict[str, Any]:
    return testcloud.load_truth()


@pytest.fixture(scope="module")
def admin() -> Any:
    return testcloud.session_for("testcloud-admin")


def by_name(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in items}


def parse(moment: str) -> datetime.datetime:
    """Nova's and Cinder's timestamps, with or without Z or fraction."""
    value = datetime.datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)

    return value


def live_servers(admin: Any) -> list[dict[str, Any]]:
    compute = testcloud.service(
        admin, "compute", default_microversion=MICROVERSION
    )
    servers: list[dict[str, Any]] = []
    url = "/servers/detail?all_tenants=1&changes-since=1970-01-01T00:00:00Z"
    while url:
        body = compute.get(url).json()
        servers.extend(body["servers"])
        url = next(
            (
                link["href"]
                for link in body.get("servers_links", [])
                if link["rel"] == "next"
            ),
            "",
        )

    return servers


def test_truth_has_the_documented_keys(truth: dict[str, Any]) -> None:
    assert TRUTH_KEYS <= set(truth)
    assert truth["auth_url"] == "http://127.0.0.1:5000/v3"
    assert truth["compute_microversion"] == MICROVERSION
    for server in truth["servers"]:
        assert SERVER_KEYS <= set(server)


def test_servers_match_nova(truth: dict[str, Any], admin: Any) -> None:
    live = {s["id"]: s for s in live_servers(admin)}

    expected = {}
    for server in live.values():
        image = server["image"]
        expected[server["id"]] = {
            "id": server["id"],
            "name": server["name"],
            "project_id": server["tenant_id"],
            "user_id": server["user_id"],
            "status": server["status"],
            "created": server["created"],
            "updated": server["updated"],
            "launched_at": server.get("OS-SRV-USG:launched_at"),
            "terminated_at": server.get("OS-SRV-USG:terminated_at"),
            "flavor": server["flavor"],
            "image_id": image["id"] if image else None,
            "addresses": server["addresses"],
            "deleted": server["status"] == "DELETED",
        }
    recorded = {
        s["id"]: {k: s[k] for k in SERVER_KEYS} for s in truth["servers"]
    }

    assert recorded == expected


def test_projects_match_keystone(truth: dict[str, Any], admin: Any) -> None:
    identity = testcloud.service(admin, "identity")
    live = identity.get("/projects").json()["projects"]

    expected = [
        {
            "id": p["id"],
            "name": p["name"],
            "domain_id": p["domain_id"],
            "tags": p["tags"],
            "vo": p.get("VO"),
        }
        for p in live
    ]

    assert sorted(truth["projects"], key=lambda p: p["id"]) == sorted(
        expected, key=lambda p: p["id"]
    )


def test_flavors_match_nova(truth: dict[str, Any], admin: Any) -> None:
    compute = testcloud.service(
        admin, "compute", default_microversion=MICROVERSION
    )
    live = compute.get("/flavors/detail?is_public=None").json()["flavors"]

    expected = {
        f["id"]: {
            "id": f["id"],
            "name": f["name"],
            "vcpus": f["vcpus"],
            "ram": f["ram"],
            "disk": f["disk"],
            "ephemeral": f["OS-FLV-EXT-DATA:ephemeral"],
            "extra_specs": f["extra_specs"],
            "deleted": False,
        }
        for f in live
    }
    recorded = {f["id"]: f for f in truth["flavors"] if not f["deleted"]}

    assert recorded == expected
    for flavor in truth["flavors"]:
        if flavor["deleted"]:
            response = compute.get(f"/flavors/{flavor['id']}", raise_exc=False)
            assert response.status_code == 404


def test_volumes_match_cinder(truth: dict[str, Any], admin: Any) -> None:
    storage = testcloud.service(admin, "block-storage")
    live = storage.get("/volumes/detail?all_tenants=1").json()["volumes"]

    expected = {
        v["id"]: {
            "project_id": v["os-vol-tenant-attr:tenant_id"],
            "name": v["name"],
            "size": v["size"],
            "status": v["status"],
            "created_at": v["created_at"],
        }
        for v in live
    }
    recorded = {
        v["id"]: {k: v[k] for k in expected.get(v["id"], v) if k != "id"}
        for v in truth["volumes"]
        if not v["deleted"]
    }

    assert recorded == expected
    for volume in truth["volumes"]:
        if volume["deleted"]:
            response = storage.get(f"/volumes/{volume['id']}", raise_exc=False)
            assert response.status_code == 404


def test_floating_ips_match_neutron(truth: dict[str, Any], admin: Any) -> None:
    network = testcloud.service(admin, "network")
    live = network.get("/v2.0/floatingips").json()["floatingips"]

    expected = {
        (f["id"], f["project_id"], f["floating_ip_address"], f["port_id"])
        for f in live
    }
    recorded = {
        (f["id"], f["project_id"], f["floating_ip_address"], f["port_id"])
        for f in truth["floating_ips"]
    }

    assert recorded == expected


def test_images_match_glance(truth: dict[str, Any], admin: Any) -> None:
    image = testcloud.service(admin, "image")
    live = image.get("/v2/images").json()["images"]

    assert {i["id"]: i["name"] for i in truth["images"]} == {
        i["id"]: i["name"] for i in live
    }
    for recorded in truth["images"]:
        found = next(i for i in live if i["id"] == recorded["id"])
        for key, value in recorded["properties"].items():
            assert found[key] == value


# The scenario itself: what caso's tests count on finding.


@pytest.mark.parametrize(
    "status",
    [
        "ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED", "SHELVED",
        "SHELVED_OFFLOADED", "DELETED", "ERROR",
    ],
)  # fmt: skip
def test_scenario_has_a_server_in_status(
    truth: dict[str, Any], status: str
) -> None:
    assert status in {s["status"] for s in truth["servers"]}


def server(truth: dict[str, Any], role: str) -> dict[str, Any]:
    id_ = truth["scenario"][role]

    return next(s for s in truth["servers"] if s["id"] == id_)


def test_error_server_never_launched(truth: dict[str, Any]) -> None:
    error = server(truth, "never_launched")

    assert (error["status"], error["launched_at"]) == ("ERROR", None)


def test_boot_from_volume_server_has_no_image(truth: dict[str, Any]) -> None:
    assert server(truth, "boot_from_volume")["image_id"] is None


def test_running_server_started_before_month_start(
    truth: dict[str, Any],
) -> None:
    start = parse(truth["month_start"])
    old = server(truth, "running_since_before_month")

    assert old["status"] == "ACTIVE"
    assert old["terminated_at"] is None
    assert parse(old["created"]) < start
    assert parse(old["launched_at"]) < start


def test_server_ended_before_month_start(truth: dict[str, Any]) -> None:
    start = parse(truth["month_start"])
    ended = server(truth, "ended_before_month")

    assert ended["deleted"]
    assert parse(ended["created"]) < start - datetime.timedelta(days=20)
    assert parse(ended["terminated_at"]) < start


def test_server_ran_across_month_start(truth: dict[str, Any]) -> None:
    start = parse(truth["month_start"])
    across = server(truth, "ended_across_month")

    assert across["deleted"]
    assert parse(across["launched_at"]) < start
    assert start < parse(across["terminated_at"])


def test_no_timestamp_is_in_the_future(truth: dict[str, Any]) -> None:
    now = datetime.datetime.now(datetime.timezone.utc)
    for s in truth["servers"]:
        for key in ("created", "updated", "launched_at", "terminated_at"):
            if s[key]:
                assert parse(s[key]) <= now, (s["name"], key)


def test_backdated_timestamps_are_consistent(truth: dict[str, Any]) -> None:
    for s in truth["servers"]:
        if not s["launched_at"]:
            continue
        assert parse(s["created"]) <= parse(s["launched_at"]), s["name"]
        assert parse(s["launched_at"]) <= parse(s["updated"]), s["name"]
        if s["terminated_at"]:
            assert parse(s["launched_at"]) <= parse(s["terminated_at"])


def test_resized_server_carries_the_new_flavor(truth: dict[str, Any]) -> None:
    assert server(truth, "resized")["flavor"]["original_name"] == "m1.large"


def test_rebuilt_server_runs_the_image_without_appdb_property(
    truth: dict[str, Any],
) -> None:
    images = {i["id"]: i for i in truth["images"]}
    rebuilt = server(truth, "rebuilt")

    assert images[rebuilt["image_id"]]["name"] == "testcloud-plain"


def test_server_whose_flavor_was_deleted(truth: dict[str, Any]) -> None:
    gone = next(f for f in truth["flavors"] if f["name"] == "m1.gone")
    running = server(truth, "flavor_deleted")

    assert gone["deleted"]
    assert running["status"] == "ACTIVE"
    assert running["flavor"]["original_name"] == "m1.gone"
    assert running["flavor"]["extra_specs"] == gone["extra_specs"]


def test_awkward_server_names(truth: dict[str, Any]) -> None:
    long_name = server(truth, "long_name")["name"]

    assert server(truth, "non_ascii")["name"] == "café-数据-ünï"
    assert len(long_name) == 255
    assert "%%" in long_name and ":" in long_name


def test_servers_belong_to_alice_and_bob(truth: dict[str, Any]) -> None:
    users = {u["id"]: u["name"] for u in truth["users"]}

    owners = {users.get(s["user_id"]) for s in truth["servers"]}

    assert {"alice", "bob"} <= owners


def test_projects_tags_and_vos(truth: dict[str, Any]) -> None:
    domains = {d["name"]: d["id"] for d in truth["domains"]}
    projects = by_name(truth["projects"])

    assert {
        name: (p["domain_id"], p["tags"], p["vo"])
        for name, p in projects.items()
        if name in ("alpha", "beta", "gamma", "delta")
    } == {
        "alpha": (domains["egi"], ["caso"], "vo.alpha.eu"),
        "beta": (domains["egi"], ["caso"], "vo.beta.eu"),
        "gamma": (domains["Default"], ["other"], "vo.gamma.eu"),
        "delta": (domains["egi"], [], None),
    }


def test_flavor_benchmarks(truth: dict[str, Any]) -> None:
    flavors = by_name(truth["flavors"])

    assert {
        name: flavors[name]["extra_specs"].get("accounting:benchmark_value")
        for name in ("m1.small", "m1.large", "m1.eph", "m1.odd", "g1.gpu")
    } == {
        "m1.small": "10.5",
        "m1.large": "21.0",
        "m1.eph": "12",
        "m1.odd": "fast",
        "g1.gpu": "40",
    }
    assert flavors["m1.eph"]["ephemeral"] == 3
    assert flavors["g1.gpu"]["extra_specs"]["Accelerator:Model"] == "A100"


def test_volume_states(truth: dict[str, Any]) -> None:
    volumes = by_name(truth["volumes"])

    assert {
        name: (v["status"], v["deleted"]) for name, v in volumes.items()
    } == {
        "vol-available": ("available", False),
        "vol-boot": ("in-use", False),
        "vol-attached": ("in-use", False),
        "vol-deleted": ("available", True),
    }


def test_floating_ips_per_project(truth: dict[str, Any]) -> None:
    projects = {p["id"]: p["name"] for p in truth["projects"]}

    counts: dict[str, int] = {}
    for fip in truth["floating_ips"]:
        if fip["ip_version"] == 4:
            name = projects[fip["project_id"]]
            counts[name] = counts.get(name, 0) + 1

    assert counts == {"alpha": 2, "beta": 1}


def test_caso_reads_projects_system_scoped(truth: dict[str, Any]) -> None:
    caso = testcloud.session_for("testcloud-caso-system")
    identity = testcloud.service(caso, "identity")

    projects = identity.get("/projects?tags=caso").json()["projects"]

    assert sorted((p["name"], p["VO"]) for p in projects) == [
        ("alpha", "vo.alpha.eu"),
        ("beta", "vo.beta.eu"),
    ]


def test_application_credential_reads_alpha_only(
    truth: dict[str, Any],
) -> None:
    appcred = testcloud.session_for("testcloud-appcred")
    access = appcred.auth.get_access(appcred)
    alpha = by_name(truth["projects"])["alpha"]["id"]

    assert (access.project_id, access.role_names) == (alpha, ["reader"])
