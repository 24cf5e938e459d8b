"""Read the seeded cloud back through its APIs into .testcloud/truth.json.

Every value comes from an API answer, never from what seed.py asked for.
The exceptions are objects an API can no longer show once deleted (a
flavor, a volume): seed.py reads them just before deleting them and passes
them in, marked "deleted": true.
"""

from __future__ import annotations

import datetime
import json
import pathlib
from typing import Any

import common
import openstack.connection

# Glance's own image fields; everything else in an image is a property.
IMAGE_FIELDS = {
    "checksum", "container_format", "created_at", "disk_format", "file",
    "id", "min_disk", "min_ram", "name", "os_hash_algo", "os_hash_value",
    "os_hidden", "owner", "protected", "schema", "self", "size", "status",
    "tags", "updated_at", "virtual_size", "visibility", "direct_url",
    "locations", "stores",
}  # fmt: skip

EPOCH = "1970-01-01T00:00:00Z"


def month_start(now: datetime.datetime) -> datetime.datetime:
    """Return the start of `now`'s calendar month (UTC)."""
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def iso_z(moment: datetime.datetime) -> str:
    """Format a UTC moment as ISO 8601 with a Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def all_servers(conn: openstack.connection.Connection) -> list[dict]:
    """Every server, deleted ones included, as Nova lists them, paged."""
    servers: list[dict] = []
    url = f"/servers/detail?all_tenants=1&limit=8&changes-since={EPOCH}"
    while url:
        body = conn.compute.get(
            url, microversion=common.COMPUTE_MICROVERSION
        ).json()
        servers.extend(body["servers"])
        nexts = [
            link["href"]
            for link in body.get("servers_links", [])
            if link["rel"] == "next"
        ]
        url = nexts[0] if nexts else ""

    return servers


def server_truth(server: dict) -> dict:
    """The fields caso's tests compare, as Nova returned them."""
    image = server["image"]

    return {
        "id": server["id"],
        "name": server["name"],
        "project_id": server["tenant_id"],
        "user_id": server["user_id"],
        "status": server["status"],
        "vm_state": server.get("OS-EXT-STS:vm_state"),
        "created": server["created"],
        "updated": server["updated"],
        "launched_at": server.get("OS-SRV-USG:launched_at"),
        "terminated_at": server.get("OS-SRV-USG:terminated_at"),
        "flavor": server["flavor"],
        # Nova shows "" for a server booted from a volume.
        "image_id": image["id"] if image else None,
        "addresses": server["addresses"],
        "deleted": server["status"] == "DELETED",
    }


def identity_truth(conn: openstack.connection.Connection) -> dict:
    identity = conn.identity
    domains = identity.get("/domains").json()["domains"]
    projects = identity.get("/projects").json()["projects"]
    users = identity.get("/users").json()["users"]

    return {
        "domains": [{"id": d["id"], "name": d["name"]} for d in domains],
        "projects": [
            {
                "id": p["id"],
                "name": p["name"],
                "domain_id": p["domain_id"],
                "tags": p.get("tags", []),
                "vo": p.get("VO"),
            }
            for p in projects
        ],
        "users": [
            {"id": u["id"], "name": u["name"], "domain_id": u["domain_id"]}
            for u in users
        ],
    }


def flavor_truth(flavor: dict, deleted: bool = False) -> dict:
    return {
        "id": flavor["id"],
        "name": flavor["name"],
        "vcpus": flavor["vcpus"],
        "ram": flavor["ram"],
        "disk": flavor["disk"],
        "ephemeral": flavor["OS-FLV-EXT-DATA:ephemeral"],
        "extra_specs": flavor.get("extra_specs", {}),
        "deleted": deleted,
    }


def read_flavor(conn: openstack.connection.Connection, id_: str) -> dict:
    """One flavor as Nova shows it (extra specs included)."""
    response = conn.compute.get(
        f"/flavors/{id_}", microversion=common.COMPUTE_MICROVERSION
    )

    return flavor_truth(response.json()["flavor"])


def volume_truth(volume: dict, deleted: bool = False) -> dict:
    return {
        "id": volume["id"],
        "name": volume["name"],
        "project_id": volume["os-vol-tenant-attr:tenant_id"],
        "size": volume["size"],
        "status": volume["status"],
        "created_at": volume["created_at"],
        "bootable": volume["bootable"] == "true",
        "attachments": [
            {"server_id": a["server_id"]} for a in volume["attachments"]
        ],
        "deleted": deleted,
    }


def read_volume(conn: openstack.connection.Connection, id_: str) -> dict:
    body = conn.block_storage.get(f"/volumes/{id_}").json()

    return volume_truth(body["volume"])


def image_truth(image: dict) -> dict:
    properties = {k: v for k, v in image.items() if k not in IMAGE_FIELDS}

    return {"id": image["id"], "name": image["name"], "properties": properties}


def collect(
    conn: openstack.connection.Connection,
    month_start_: datetime.datetime,
    gone: dict[str, list[dict]],
    extra: dict[str, Any],
) -> dict:
    """Build truth.json's content from the live APIs.

    Args:
        conn: an admin connection.
        month_start_: B, the start of the current month (UTC).
        gone: deleted flavors and volumes, read before their deletion.
        extra: more top-level keys (scenario roles, notes).
    """
    flavors = conn.compute.get(
        "/flavors/detail?is_public=None",
        microversion=common.COMPUTE_MICROVERSION,
    ).json()["flavors"]
    volumes = conn.block_storage.get("/volumes/detail?all_tenants=1").json()[
        "volumes"
    ]
    images = conn.image.get("/images").json()["images"]
    floating_ips = conn.network.get("/floatingips").json()["floatingips"]

    return {
        "auth_url": common.AUTH_URL,
        "region_name": common.REGION_NAME,
        "compute_microversion": common.COMPUTE_MICROVERSION,
        "month_start": iso_z(month_start_),
        **identity_truth(conn),
        "flavors": [flavor_truth(f) for f in flavors] + gone["flavors"],
        "images": [image_truth(i) for i in images],
        "volumes": [volume_truth(v) for v in volumes] + gone["volumes"],
        "floating_ips": [
            {
                "id": f["id"],
                "project_id": f["project_id"],
                "floating_ip_address": f["floating_ip_address"],
                "ip_version": 6 if ":" in f["floating_ip_address"] else 4,
                "port_id": f["port_id"],
            }
            for f in floating_ips
        ],
        "servers": [server_truth(s) for s in all_servers(conn)],
        **extra,
    }


def write(path: pathlib.Path, truth: dict) -> None:
    """Write truth.json atomically: up.sh takes its presence as "seeded"."""
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(truth, indent=1, ensure_ascii=False))
    partial.replace(path)
