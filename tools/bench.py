"""Requests and wall time of one caso-extract run on a large fake cloud.

The test cloud boots 50-85 servers a minute, so thousands of servers are
out of its reach; this benchmark runs the real run (configuration,
identity, nova extractor, checks, ssm messenger, state) against the
HTTP-seam fake of tests/fakecloud.py, whose answers are shaped like Nova's
and Keystone's, with Nova's default page cap of 1000.

Usage: .venv/bin/python -m tools.bench [PROJECTS] [SERVERS_PER_PROJECT]
"""

from __future__ import annotations

import datetime
import pathlib
import sys
import tempfile
import time

import requests_mock
from oslo_config import cfg

from caso import config, manager
from tests import fakecloud

UTC = datetime.timezone.utc


def scenario(cloud: fakecloud.FakeCloud, projects: int, servers: int) -> None:
    """Projects with running, stopped and deleted servers, 20 users."""
    now = datetime.datetime.now(UTC).replace(microsecond=0)
    users = [cloud.add_user(f"user{i}") for i in range(20)]
    for p in range(projects):
        project = cloud.add_project(f"project{p:04d}", vo=f"vo{p % 7}.eu")
        for s in range(servers):
            created = now - datetime.timedelta(days=1 + s % 90, seconds=s)
            deleted = s % 10 == 0
            cloud.add_server(
                project_id=project,
                user_id=users[s % len(users)],
                created=created,
                status="DELETED" if deleted else "ACTIVE",
                terminated_at=now - datetime.timedelta(minutes=30)
                if deleted
                else None,
            )
    cloud.add_image("img-1")


def run(
    projects: int, servers: int, admin: bool, work: pathlib.Path
) -> tuple[int, int, int, float]:
    """(records, requests, token requests, seconds) of one first run."""
    with requests_mock.Mocker() as mocker:
        cloud = fakecloud.FakeCloud(mocker, admin=admin)
        scenario(cloud, projects, servers)
        conf_file = work / f"caso-{admin}.conf"
        conf_file.write_text(
            "[DEFAULT]\n"
            "site_name = BENCH\n"
            "messengers = ssm\n"
            "extractor = nova\n"
            f"spooldir = {work / f'spool-{admin}'}\n"
            "[ssm]\n"
            f"output_path = {work / f'out-{admin}'}\n"
            "[keystone_auth]\n"
            "auth_type = password\n"
            f"auth_url = {fakecloud.AUTH_URL}\n"
            "username = caso\npassword = secret\n"
            "user_domain_name = Default\n"
            + (
                "project_name = admin\nproject_domain_name = Default\n"
                if admin
                else "system_scope = all\n"
            )
        )
        conf = config.load(
            ["--config-file", str(conf_file), "--extract-from", "None"],
            conf=cfg.ConfigOpts(),
            default_config_files=[],
        )
        begun = time.perf_counter()
        report = manager.Manager(conf).run()
        elapsed = time.perf_counter() - begun

    return (
        len(report.records),
        report.requests,
        report.token_requests,
        elapsed,
    )


def main(argv: list[str]) -> int:
    """Print one line per mode."""
    projects = int(argv[0]) if argv else 50
    servers = int(argv[1]) if len(argv) > 1 else 200
    total = projects * servers
    print(f"{projects} projects x {servers} servers = {total} servers")
    print("mode          records  requests  tokens  seconds")
    with tempfile.TemporaryDirectory() as tmp:
        for admin, mode in ((True, "cloud-wide"), (False, "per-project")):
            records, sent, tokens, seconds = run(
                projects, servers, admin, pathlib.Path(tmp)
            )
            print(
                f"{mode:12s} {records:8d} {sent:9d} {tokens:7d} {seconds:8.1f}"
            )
    # The older tool's own estimate, from the project's specification:
    # about 2 + P * (23 + F + S + U) requests per hourly run.
    print(
        "previous tool, estimated: "
        f"{2 + projects * (23 + 3 + servers + 20)} requests"
    )

    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
