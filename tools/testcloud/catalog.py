"""Register the service users and the endpoint catalog in Keystone.

Run by up.sh right after Keystone's bootstrap, before the other services
start: they validate tokens and call each other as these users.
"""

from __future__ import annotations

import common

# service type, user, URL; every interface gets the same loopback URL.
SERVICES = [
    ("compute", "nova", "http://127.0.0.1:8774/v2.1"),
    ("placement", "placement", "http://127.0.0.1:8778"),
    ("image", "glance", "http://127.0.0.1:9292"),
    ("network", "neutron", "http://127.0.0.1:9696"),
    ("block-storage", "cinder", "http://127.0.0.1:8776/v3/%(project_id)s"),
    ("volumev3", "cinder", "http://127.0.0.1:8776/v3/%(project_id)s"),
]


def main() -> None:
    common.quiet()
    conn = common.connect()
    identity = conn.identity

    service_project = identity.create_project(
        name="service", domain_id="default"
    )
    roles = [identity.find_role("admin")]
    # Newer services expect the `service` role on their service user.
    roles.append(
        identity.find_role("service") or identity.create_role(name="service")
    )

    users = {}
    for service_type, name, url in SERVICES:
        if name not in users:
            users[name] = identity.create_user(
                name=name,
                password=common.password_of(name),
                domain_id="default",
            )
            for role in roles:
                identity.assign_project_role_to_user(
                    service_project, users[name], role
                )
        service = identity.create_service(name=name, type=service_type)
        for interface in ("public", "internal", "admin"):
            identity.create_endpoint(
                service_id=service.id,
                interface=interface,
                url=url,
                region_id=common.REGION_NAME,
            )
        print(f"registered {service_type} at {url}")


if __name__ == "__main__":
    main()
