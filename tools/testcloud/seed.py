"""Seed caso's accounting scenario into the test cloud (issue #2).

Builds identities, flavors, images, networks, volumes and servers through
the real APIs, moves a few servers back in time in Nova's database so the
scenario spans a month boundary, then reads everything back into
.testcloud/truth.json and writes the login files (see identities.py).
The scenario is tabled in docs/testcloud.md.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime
import sys
import time
from collections.abc import Callable

import common
import identities
import openstack.connection
import openstack.exceptions
import pymysql
import truth

APPDB_MPURI = "https://appdb.egi.eu/store/vo/image/abc123:42/"
NON_ASCII_NAME = "café-数据-ünï"
# Nova's longest server name, with the characters that trip up format
# strings and "key:value" parsers.
LONG_NAME = ("long-%%-name:" * 20 + "x" * 255)[:255]

HS06 = "HEPSPEC06"
FLAVORS = {
    # name: (vcpus, ram MB, disk GB, ephemeral GB, extra specs)
    "m1.small": (1, 512, 1, 0, {"type": HS06, "value": "10.5"}),
    "m1.large": (2, 2048, 10, 0, {"type": HS06, "value": "21.0"}),
    "m1.eph": (1, 1024, 5, 3, {"type": HS06, "value": "12"}),
    "m1.odd": (1, 512, 1, 0, {"type": HS06, "value": "fast"}),
    "g1.gpu": (4, 8192, 20, 0, {"type": "HEPSCORE23", "value": "40"}),
    "m1.gone": (1, 512, 1, 0, {"type": HS06, "value": "9"}),
    # More memory than the fake hypervisor has: the scheduler finds no
    # host and the server goes to ERROR without ever launching.
    "x1.huge": (1, 2_000_000_000, 1, 0, {}),
}
GPU_SPECS = {
    "Accelerator:Type": "GPU",
    "Accelerator:Vendor": "NVIDIA",
    "Accelerator:Model": "A100",
    "Accelerator:Number": "1",
}


@dataclasses.dataclass(frozen=True)
class ServerPlan:
    """One server of the scenario and what happens to it after boot."""

    name: str
    project: str
    user: str
    flavor: str
    image: str  # "appdb", "plain", or "volume" to boot from vol-boot
    action: str = "none"
    role: str | None = None  # key in truth.json's "scenario"


SERVERS = [
    ServerPlan("alpha-web", "alpha", "alice", "m1.small", "appdb"),
    ServerPlan("alpha-stopped", "alpha", "alice", "m1.small", "plain",
               "stop"),
    ServerPlan("alpha-paused", "alpha", "alice", "m1.large", "plain",
               "pause"),
    ServerPlan("alpha-suspended", "alpha", "alice", "m1.small", "appdb",
               "suspend"),
    ServerPlan("alpha-bfv", "alpha", "alice", "m1.small", "volume",
               role="boot_from_volume"),
    ServerPlan(LONG_NAME, "alpha", "alice", "m1.odd", "plain",
               role="long_name"),
    ServerPlan("alpha-flavor-gone", "alpha", "alice", "m1.gone", "plain",
               role="flavor_deleted"),
    ServerPlan("alpha-old-running", "alpha", "alice", "m1.small", "appdb",
               role="running_since_before_month"),
    ServerPlan("beta-shelved", "beta", "bob", "m1.small", "plain",
               "shelve"),
    ServerPlan("beta-offloaded", "beta", "bob", "m1.small", "plain",
               "offload"),
    ServerPlan("beta-resized", "beta", "alice", "m1.small", "appdb",
               "resize", role="resized"),
    ServerPlan("beta-rebuilt", "beta", "bob", "m1.small", "appdb",
               "rebuild", role="rebuilt"),
    ServerPlan("beta-eph", "beta", "bob", "m1.eph", "plain"),
    ServerPlan("beta-old-deleted", "beta", "bob", "m1.small", "plain",
               "delete", role="ended_before_month"),
    ServerPlan(NON_ASCII_NAME, "gamma", "bob", "g1.gpu", "appdb",
               role="non_ascii"),
    ServerPlan("gamma-deleted", "gamma", "bob", "m1.small", "plain",
               "delete", role="deleted"),
    ServerPlan("gamma-error", "gamma", "bob", "x1.huge", "plain",
               "error", role="never_launched"),
    ServerPlan("gamma-across", "gamma", "bob", "m1.large", "plain",
               "delete", role="ended_across_month"),
    ServerPlan("delta-novo", "delta", "admin", "m1.small", "plain"),
]  # fmt: skip

WAIT = {"interval": 0.5, "wait": 240}


def log(message: str) -> None:
    print(message, flush=True)


class Cloud:
    """Connections per identity and the ids seeded so far."""

    def __init__(self) -> None:
        self.admin = common.connect()
        self.projects: dict[str, openstack.identity.v3.project.Project] = {}
        self.users: dict[str, str] = {}
        self.flavors: dict[str, str] = {}
        self.images: dict[str, str] = {}
        self.volumes: dict[str, str] = {}
        self.notes: list[str] = []
        self._conns: dict[tuple[str, str], openstack.connection.Connection]
        self._conns = {}

    def as_user(
        self, user: str, project: str
    ) -> openstack.connection.Connection:
        """A connection as `user`, scoped to `project` (cached)."""
        key = (user, project)
        if key not in self._conns:
            user_domain = "egi" if user in ("alice", "caso") else "Default"
            project_domain = "Default" if project == "gamma" else "egi"
            self._conns[key] = common.connect(
                user, user_domain, project, project_domain
            )

        return self._conns[key]


def seed_identity(cloud: Cloud) -> tuple[str, str]:
    """Domains, projects, users and roles; returns the app credential."""
    identity = cloud.admin.identity
    egi = identity.create_domain(name="egi", description="EGI federation")
    default = identity.get_domain("default")
    projects = [
        ("alpha", egi, ["caso"], "vo.alpha.eu"),
        ("beta", egi, ["caso"], "vo.beta.eu"),
        ("gamma", default, ["other"], "vo.gamma.eu"),
        ("delta", egi, [], None),
    ]
    for name, domain, tags, vo in projects:
        # Keystone keeps unknown project attributes and returns them.
        attrs = {"VO": vo} if vo else {}
        cloud.projects[name] = identity.create_project(
            name=name, domain_id=domain.id, tags=tags, **attrs
        )

    roles = {r: identity.find_role(r) for r in ("reader", "member", "admin")}
    members = {"alice": ["alpha", "beta"], "bob": ["beta", "gamma"]}
    for name, domain in (("caso", egi), ("alice", egi), ("bob", default)):
        user = identity.create_user(
            name=name,
            password=common.password_of(name),
            domain_id=domain.id,
        )
        cloud.users[name] = user.id
        for project in members.get(name, []):
            identity.assign_project_role_to_user(
                cloud.projects[project], user, roles["member"]
            )

    # The accounting user reads, and only reads: each project, and the
    # system scope for listing projects and users.
    caso = cloud.users["caso"]
    for project in cloud.projects.values():
        identity.assign_project_role_to_user(project, caso, roles["reader"])
    identity.assign_system_role_to_user(caso, roles["reader"], "all")

    # admin boots the delta server and offloads shelved ones.
    admin = identity.find_user("admin", domain_id="default")
    for project in cloud.projects.values():
        identity.assign_project_role_to_user(project, admin, roles["admin"])

    caso_alpha = cloud.as_user("caso", "alpha")
    credential = caso_alpha.identity.create_application_credential(
        user=caso, name="caso-appcred", roles=[{"name": "reader"}]
    )
    log(
        f"identity: projects {sorted(cloud.projects)}, users "
        f"{sorted(cloud.users)}, application credential caso-appcred"
    )

    return credential.id, credential.secret


def seed_flavors_and_images(cloud: Cloud) -> None:
    compute = cloud.admin.compute
    for name, (vcpus, ram, disk, ephemeral, bench) in FLAVORS.items():
        flavor = compute.create_flavor(
            name=name, vcpus=vcpus, ram=ram, disk=disk, ephemeral=ephemeral
        )
        specs = {}
        if bench:
            specs = {
                "accounting:benchmark_type": bench["type"],
                "accounting:benchmark_value": bench["value"],
            }
        if name == "g1.gpu":
            specs.update(GPU_SPECS)
        if specs:
            compute.create_flavor_extra_specs(flavor, specs)
        cloud.flavors[name] = flavor.id

    for key, properties in (
        ("appdb", {"vmcatcher_event_ad_mpuri": APPDB_MPURI}),
        ("plain", {}),
    ):
        image = cloud.admin.image.create_image(
            name=f"testcloud-{key}",
            disk_format="raw",
            container_format="bare",
            visibility="public",
            data=b"\0" * 65536,
            wait=True,
            **properties,
        )
        cloud.images[key] = image.id
    log(f"flavors {sorted(cloud.flavors)}; images {sorted(cloud.images)}")


def seed_network(cloud: Cloud) -> None:
    """External network `public`, floating IPs, one of them associated."""
    network = cloud.admin.network
    public = network.create_network(
        name="public",
        is_router_external=True,
        provider_network_type="flat",
        provider_physical_network="public",
    )
    network.create_subnet(
        network_id=public.id,
        name="public-v4",
        ip_version=4,
        cidr="203.0.113.0/24",
        is_dhcp_enabled=False,
    )
    fips = []
    for project, count in (("alpha", 2), ("beta", 1)):
        for _ in range(count):
            fips.append(
                network.create_ip(
                    floating_network_id=public.id,
                    project_id=cloud.projects[project].id,
                )
            )
    try_ipv6_floating_ip(cloud, public.id)
    try_associate(cloud, public.id, fips[0])
    log(f"network: public, {len(fips)} IPv4 floating IPs")


def try_ipv6_floating_ip(cloud: Cloud, public_id: str) -> None:
    network = cloud.admin.network
    try:
        subnet = network.create_subnet(
            network_id=public_id,
            name="public-v6",
            ip_version=6,
            cidr="2001:db8::/64",
            is_dhcp_enabled=False,
        )
        network.create_ip(
            floating_network_id=public_id,
            subnet_id=subnet.id,
            project_id=cloud.projects["alpha"].id,
        )
    except openstack.exceptions.HttpException as error:
        cloud.notes.append(f"IPv6 floating IP refused by Neutron: {error}")
        log(
            "network: no IPv6 floating IP (expected: this Neutron "
            "refuses them; see docs/testcloud.md)"
        )


def try_associate(cloud: Cloud, public_id: str, fip) -> None:
    """Associate a floating IP with a port behind a router to `public`."""
    network = cloud.admin.network
    alpha = cloud.projects["alpha"].id
    try:
        private = network.create_network(
            name="alpha-private",
            project_id=alpha,
            provider_network_type="flat",
            provider_physical_network="private",
        )
        subnet = network.create_subnet(
            network_id=private.id,
            project_id=alpha,
            ip_version=4,
            cidr="10.0.0.0/24",
            is_dhcp_enabled=False,
        )
        router = network.create_router(
            name="alpha-router",
            project_id=alpha,
            external_gateway_info={"network_id": public_id},
        )
        network.add_interface_to_router(router, subnet_id=subnet.id)
        port = network.create_port(
            network_id=private.id, project_id=alpha, name="alpha-port"
        )
        network.update_ip(fip, port_id=port.id)
    except openstack.exceptions.HttpException as error:
        cloud.notes.append(f"floating IP association failed: {error}")
        log(f"network: association failed, all detached: {error}")


def seed_volumes(cloud: Cloud) -> None:
    """The boot volume and the volumes to keep, attach and delete."""
    cloud.admin.block_storage.create_type(
        name="fake", extra_specs={"volume_backend_name": "fake"}
    )
    plan = [
        ("vol-available", "alpha", "alice", 2),
        ("vol-boot", "alpha", "alice", 1),
        ("vol-attached", "beta", "bob", 1),
        ("vol-deleted", "gamma", "bob", 1),
    ]
    created = []
    for name, project, user, size in plan:
        storage = cloud.as_user(user, project).block_storage
        created.append((storage, storage.create_volume(name=name, size=size)))
    for storage, volume in created:
        storage.wait_for_status(
            volume, status="available", failures=["error"], **WAIT
        )
        cloud.volumes[volume.name] = volume.id
    # Nova boots only from a volume Cinder calls bootable.
    cloud.as_user("alice", "alpha").block_storage.set_volume_bootable_status(
        cloud.volumes["vol-boot"], True
    )
    log(f"volumes {sorted(cloud.volumes)}")


def boot(cloud: Cloud, plan: ServerPlan) -> str:
    compute = cloud.as_user(plan.user, plan.project).compute
    attrs = {
        "name": plan.name,
        "flavor_id": cloud.flavors[plan.flavor],
        "networks": "none",
    }
    if plan.image == "volume":
        attrs["block_device_mapping"] = [
            {
                "boot_index": 0,
                "uuid": cloud.volumes["vol-boot"],
                "source_type": "volume",
                "destination_type": "volume",
                "delete_on_termination": False,
            }
        ]
    else:
        attrs["image_id"] = cloud.images[plan.image]
    server = compute.create_server(**attrs)
    if plan.action == "error":
        compute.wait_for_server(server, status="ERROR", failures=[], **WAIT)
        return server.id

    compute.wait_for_server(server, status="ACTIVE", **WAIT)
    ACTIONS[plan.action](cloud, compute, server)

    return server.id


def _wait(compute, server, status: str) -> None:
    compute.wait_for_server(server, status=status, **WAIT)


def _resize(cloud: Cloud, compute, server) -> None:
    compute.resize_server(server, cloud.flavors["m1.large"])
    _wait(compute, server, "VERIFY_RESIZE")
    compute.confirm_server_resize(server)
    _wait(compute, server, "ACTIVE")


def _rebuild(cloud: Cloud, compute, server) -> None:
    image = cloud.images["plain"]
    compute.rebuild_server(server, image=image)
    # The fake driver rebuilds so fast that REBUILD may never be seen:
    # wait for the new image and ACTIVE instead.
    for _ in range(WAIT["wait"] * 2):
        server = compute.get_server(server)
        if server.image.id == image and server.status == "ACTIVE":
            return
        time.sleep(WAIT["interval"])
    raise SystemExit(f"rebuild of {server.name} did not finish")


def _offload(cloud: Cloud, compute, server) -> None:
    compute.shelve_server(server)
    _wait(compute, server, "SHELVED")
    # Only an admin may offload on demand (shelved_offload_time is -1).
    cloud.admin.compute.shelve_offload_server(server)
    _wait(compute, server, "SHELVED_OFFLOADED")


def _delete(cloud: Cloud, compute, server) -> None:
    compute.delete_server(server)
    compute.wait_for_delete(server, **WAIT)


ACTIONS: dict[str, Callable] = {
    "none": lambda cloud, compute, server: None,
    "stop": lambda c, compute, s: (
        compute.stop_server(s),
        _wait(compute, s, "SHUTOFF"),
    ),
    "pause": lambda c, compute, s: (
        compute.pause_server(s),
        _wait(compute, s, "PAUSED"),
    ),
    "suspend": lambda c, compute, s: (
        compute.suspend_server(s),
        _wait(compute, s, "SUSPENDED"),
    ),
    "shelve": lambda c, compute, s: (
        compute.shelve_server(s),
        _wait(compute, s, "SHELVED"),
    ),
    "offload": _offload,
    "resize": _resize,
    "rebuild": _rebuild,
    "delete": _delete,
}


def seed_servers(cloud: Cloud) -> dict[str, str]:
    """Boot every planned server in parallel; returns name -> id."""
    ids = {}
    # Four builds at a time keep the two-core machine busy without
    # starving the single conductor and scheduler workers.
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        futures = {pool.submit(boot, cloud, p): p for p in SERVERS}
        for future in concurrent.futures.as_completed(futures):
            plan = futures[future]
            ids[plan.name] = future.result()
            log(f"server {plan.name[:40]}: {plan.action}")

    return ids


def after_servers(cloud: Cloud, ids: dict[str, str]) -> dict[str, list]:
    """Attach, then delete the flavor and the volume meant to go."""
    bob_beta = cloud.as_user("bob", "beta")
    bob_beta.compute.create_volume_attachment(
        ids["beta-eph"], volume_id=cloud.volumes["vol-attached"]
    )
    bob_beta.block_storage.wait_for_status(
        bob_beta.block_storage.get_volume(cloud.volumes["vol-attached"]),
        status="in-use",
        failures=["error"],
        **WAIT,
    )

    gone_flavor = truth.read_flavor(cloud.admin, cloud.flavors["m1.gone"])
    cloud.admin.compute.delete_flavor(cloud.flavors["m1.gone"])
    gone_volume = truth.read_volume(cloud.admin, cloud.volumes["vol-deleted"])
    bob_gamma = cloud.as_user("bob", "gamma").block_storage
    bob_gamma.delete_volume(cloud.volumes["vol-deleted"])
    bob_gamma.wait_for_delete(
        bob_gamma.get_volume(cloud.volumes["vol-deleted"]), **WAIT
    )
    log("attached vol-attached; deleted flavor m1.gone and vol-deleted")

    return {
        "flavors": [{**gone_flavor, "deleted": True}],
        "volumes": [{**gone_volume, "deleted": True}],
    }


def backdate(
    ids: dict[str, str], now: datetime.datetime, start: datetime.datetime
) -> None:
    """Move three servers back in time in Nova's database.

    The APIs (servers, changes-since, simple tenant usage) report these
    columns as they are, so the scenario spans the month boundary B without
    waiting a month. Launch follows creation by two minutes; a deleted
    server was terminated, deleted and last updated at the same moment.
    """
    minutes2 = datetime.timedelta(minutes=2)
    day = datetime.timedelta(days=1)
    ended_after_start = start + (now - start) / 2
    history = {
        # name: (created_at, end or None while it still runs)
        "alpha-old-running": (now - 40 * day, None),
        "beta-old-deleted": (start - 25 * day, start - 10 * day),
        "gamma-across": (start - 5 * day, ended_after_start),
    }
    socket = str(common.TESTCLOUD / "run" / "mysqld.sock")
    db = pymysql.connect(unix_socket=socket, user="root", database="nova")
    with db, db.cursor() as cursor:
        for name, (created, ended) in history.items():
            naive = created.replace(tzinfo=None)
            launched = naive + minutes2
            if ended is None:
                cursor.execute(
                    "UPDATE instances SET created_at = %s,"
                    " launched_at = %s,"
                    " updated_at = GREATEST(updated_at, %s) WHERE uuid = %s",
                    (naive, launched, launched, ids[name]),
                )
            else:
                end = ended.replace(tzinfo=None)
                cursor.execute(
                    "UPDATE instances SET created_at = %s,"
                    " launched_at = %s, terminated_at = %s,"
                    " deleted_at = %s, updated_at = %s WHERE uuid = %s",
                    (naive, launched, end, end, end, ids[name]),
                )
            if cursor.rowcount != 1:
                raise SystemExit(f"backdating {name}: no row in nova")
        db.commit()
    log(f"backdated {sorted(history)} (B = {truth.iso_z(start)})")


def main() -> int:
    common.quiet()
    now = datetime.datetime.now(datetime.timezone.utc)
    start = truth.month_start(now)
    cloud = Cloud()

    appcred_id, appcred_secret = seed_identity(cloud)
    identities.write(common.TESTCLOUD, appcred_id, appcred_secret)
    seed_flavors_and_images(cloud)
    seed_network(cloud)
    seed_volumes(cloud)
    ids = seed_servers(cloud)
    gone = after_servers(cloud, ids)
    backdate(ids, now, start)

    roles = {p.role: ids[p.name] for p in SERVERS if p.role}
    extra = {"scenario": roles, "notes": cloud.notes}
    content = truth.collect(cloud.admin, start, gone, extra)
    truth.write(common.TESTCLOUD / "truth.json", content)
    log(
        f"truth.json: {len(content['servers'])} servers, "
        f"{len(content['volumes'])} volumes, "
        f"{len(content['floating_ips'])} floating IPs"
    )

    return 0


if __name__ == "__main__":
    sys.exit(main())
