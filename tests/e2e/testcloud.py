"""Access to the test cloud (make testcloud) for the end-to-end tests.

The cloud writes everything a test needs under .testcloud/ at the
repository root: truth.json (what its APIs returned after seeding),
clouds.yaml and caso.conf. When the cloud is not up the e2e tests are
skipped, unless the CI environment variable is set: there a missing cloud
is a failure, not a reason to pass quietly.
"""

from __future__ import annotations

import json
import os
import pathlib
from typing import Any

import pytest
import requests
import yaml
from keystoneauth1 import adapter, session
from keystoneauth1.identity import v3

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
TESTCLOUD = REPO_ROOT / ".testcloud"
TRUTH = TESTCLOUD / "truth.json"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"test cloud unavailable in CI: {reason}")
    pytest.skip(f"test cloud not up ({reason}); start it with make testcloud")


def load_truth() -> dict[str, Any]:
    """Return truth.json, or skip (fail under CI) when the cloud is down."""
    if not TRUTH.is_file():
        _unavailable(f"{TRUTH} does not exist")
    truth: dict[str, Any] = json.loads(TRUTH.read_text())
    try:
        requests.get(truth["auth_url"], timeout=5)
    except requests.ConnectionError:
        _unavailable(f"Keystone does not answer on {truth['auth_url']}")

    return truth


def cloud_auth(cloud: str) -> dict[str, Any]:
    """The `auth` and `auth_type` of one entry of .testcloud/clouds.yaml."""
    clouds = yaml.safe_load((TESTCLOUD / "clouds.yaml").read_text())
    entry = clouds["clouds"][cloud]

    return {"auth_type": entry.get("auth_type", "password"), **entry["auth"]}


def session_for(cloud: str) -> session.Session:
    """A keystoneauth session for a clouds.yaml entry (password or appcred)."""
    auth = cloud_auth(cloud)
    if auth.pop("auth_type") == "v3applicationcredential":
        plugin: Any = v3.ApplicationCredential(**auth)
    else:
        plugin = v3.Password(**auth)

    return session.Session(auth=plugin)


def service(
    sess: session.Session, service_type: str, **kwargs: Any
) -> adapter.Adapter:
    """An adapter on one service of the test cloud's public catalog."""
    return adapter.Adapter(
        sess,
        service_type=service_type,
        interface="public",
        region_name="RegionOne",
        **kwargs,
    )
