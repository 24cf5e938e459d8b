"""Names and connections shared by the test cloud's Python steps.

These scripts run with the test cloud's own interpreter
(.testcloud/venv/bin/python), which has openstacksdk; caso's virtualenv
does not and need not.
"""

from __future__ import annotations

import pathlib
import warnings

import openstack
import openstack.connection

TOOLS = pathlib.Path(__file__).resolve().parent
TESTCLOUD = TOOLS.parent.parent / ".testcloud"

AUTH_URL = "http://127.0.0.1:5000/v3"
REGION_NAME = "RegionOne"
COMPUTE_MICROVERSION = "2.79"

# Throw-away passwords of a loopback-only cloud; configs.sh uses the same.
ADMIN_PASSWORD = "admin-secret"  # noqa: S105


def password_of(user: str) -> str:
    """Return the password the test cloud gives to `user`."""
    return f"{user}-secret"


def quiet() -> None:
    """Silence the deprecation chatter of the OpenStack libraries."""
    warnings.simplefilter("ignore")


def connect(
    username: str = "admin",
    user_domain: str = "Default",
    project: str | None = "admin",
    project_domain: str = "Default",
    system_scope: str | None = None,
) -> openstack.connection.Connection:
    """Open an openstacksdk connection with password authentication."""
    auth = {
        "auth_url": AUTH_URL,
        "username": username,
        "password": ADMIN_PASSWORD
        if username == "admin"
        else password_of(username),
        "user_domain_name": user_domain,
    }
    if system_scope:
        auth["system_scope"] = system_scope
    else:
        auth["project_name"] = project
        auth["project_domain_name"] = project_domain

    return openstack.connect(
        auth=auth,
        region_name=REGION_NAME,
        identity_api_version="3",
        compute_api_version=COMPUTE_MICROVERSION,
        connect_retries=3,
    )
