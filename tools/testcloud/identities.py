"""Write the files through which people and tests log in to the test cloud.

- clouds.yaml: openstacksdk / openstackclient clouds.
- caso.conf, caso-appcred.conf: ready [keystone_auth] sections for caso.
- env.sh: `source` it to use `openstack --os-cloud ...` from a shell.
"""

from __future__ import annotations

import pathlib

import common
import yaml


def _password_cloud(username: str, user_domain: str, **scope: str) -> dict:
    auth = {
        "auth_url": common.AUTH_URL,
        "username": username,
        "password": common.ADMIN_PASSWORD
        if username == "admin"
        else common.password_of(username),
        "user_domain_name": user_domain,
        **scope,
    }

    return {
        "auth": auth,
        "region_name": common.REGION_NAME,
        "identity_api_version": 3,
    }


def clouds(appcred_id: str, appcred_secret: str) -> dict:
    """Return the clouds.yaml content for every test identity."""
    egi = {"project_domain_name": "egi"}
    default = {"project_domain_name": "Default"}
    entries = {
        "testcloud-admin": _password_cloud(
            "admin", "Default", project_name="admin", **default
        ),
        "testcloud-system": _password_cloud(
            "admin", "Default", system_scope="all"
        ),
        "testcloud-caso": _password_cloud(
            "caso", "egi", project_name="alpha", **egi
        ),
        "testcloud-caso-system": _password_cloud(
            "caso", "egi", system_scope="all"
        ),
        "testcloud-alice": _password_cloud(
            "alice", "egi", project_name="alpha", **egi
        ),
        "testcloud-bob": _password_cloud(
            "bob", "Default", project_name="gamma", **default
        ),
        "testcloud-appcred": {
            "auth_type": "v3applicationcredential",
            "auth": {
                "auth_url": common.AUTH_URL,
                "application_credential_id": appcred_id,
                "application_credential_secret": appcred_secret,
            },
            "region_name": common.REGION_NAME,
            "identity_api_version": 3,
        },
    }

    return {"clouds": entries}


CASO_CONF = """\
# caso's credentials on the test cloud (make testcloud). The accounting
# user has role `reader` on projects alpha, beta, gamma and delta and on
# system scope `all`: Keystone calls (projects, users) run system-scoped,
# and caso opens one project-scoped session per project for Nova itself.
[keystone_auth]
auth_type = password
auth_url = {auth_url}
username = caso
password = {password}
user_domain_name = egi
system_scope = all
"""

CASO_APPCRED_CONF = """\
# caso on the test cloud through application credential `caso-appcred`
# of user caso, bound to project alpha with role `reader` only.
[keystone_auth]
auth_type = v3applicationcredential
auth_url = {auth_url}
application_credential_id = {id}
application_credential_secret = {secret}
"""

ENV_SH = """\
# source this file: the test cloud's openstack CLI and its clouds, e.g.
#   openstack --os-cloud testcloud-admin server list --all-projects
export OS_CLIENT_CONFIG_FILE={clouds}
export PATH={bin}:$PATH
"""


def write(testcloud: pathlib.Path, appcred_id: str, secret: str) -> None:
    """Write clouds.yaml, caso.conf, caso-appcred.conf and env.sh."""
    clouds_yaml = testcloud / "clouds.yaml"
    clouds_yaml.write_text(
        yaml.safe_dump(clouds(appcred_id, secret), sort_keys=False)
    )
    (testcloud / "caso.conf").write_text(
        CASO_CONF.format(
            auth_url=common.AUTH_URL, password=common.password_of("caso")
        )
    )
    (testcloud / "caso-appcred.conf").write_text(
        CASO_APPCRED_CONF.format(
            auth_url=common.AUTH_URL, id=appcred_id, secret=secret
        )
    )
    (testcloud / "env.sh").write_text(
        ENV_SH.format(clouds=clouds_yaml, bin=testcloud / "venv" / "bin")
    )
