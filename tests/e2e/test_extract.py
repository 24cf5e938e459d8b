"""caso-extract, run as a site runs it, against the real test cloud.

Every queued message must pass the strict APEL checker, and every record
must equal the one the accounting rules give for what the cloud's APIs
reported after seeding (truth.json).
"""

from __future__ import annotations

import datetime
import os
import pathlib
import subprocess
import sys
from typing import Any

import pytest

from tests import apel_checker, ssm_queue
from tests.e2e import expected, testcloud

pytestmark = pytest.mark.e2e

UTC = datetime.timezone.utc
BEGINNING = datetime.datetime(1970, 1, 1, tzinfo=UTC)
BIN = pathlib.Path(sys.executable).parent
SITE = "E2E-SITE"
SERVICE = "e2e.cloud.example"
#: A zone far from UTC: +14 hours, and one far the other way.
FAR_EAST = "Pacific/Kiritimati"
FAR_WEST = "Pacific/Pago_Pago"

Json = dict[str, Any]


@pytest.fixture(scope="module")
def truth() -> Json:
    return testcloud.load_truth()


@pytest.fixture(scope="module")
def selected(truth: Json) -> set[str]:
    """Projects tagged caso, plus gamma, which the config names."""
    return {
        p["id"]
        for p in truth["projects"]
        if "caso" in p["tags"] or p["name"] == "gamma"
    }


class Site:
    """A site's caso.conf and spool, as a cron job would use them."""

    def __init__(self, root: pathlib.Path, credentials: str) -> None:
        self.root = root
        self.outgoing = root / "outgoing"
        self.spool = root / "spool"
        self.conf = root / "caso.conf"
        self.credentials = credentials
        root.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(
            "[DEFAULT]\n"
            f"site_name = {SITE}\n"
            f"service_name = {SERVICE}\n"
            "region_name = RegionOne\n"
            "projects = gamma\n"
            "extractor = nova\n"
            "messengers = ssm\n"
            f"spooldir = {self.spool}\n"
            "[ssm]\n"
            f"output_path = {self.outgoing}\n"
        )

    def run(
        self, *args: str, tz: str | None = None, command: str = "caso-extract"
    ) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ)
        if tz:
            env["TZ"] = tz
        return subprocess.run(
            [
                str(BIN / command),
                "--config-file",
                str(self.conf),
                "--config-file",
                self.credentials,
                *args,
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )

    def messages(self) -> list[str]:
        return ssm_queue.messages(self.outgoing)

    def take_records(self) -> list[Json]:
        """Parse, check and remove every queued message."""
        records = []
        for text in self.messages():
            records.extend(apel_checker.parse_cloud_message(text))
        ssm_queue.clear(self.outgoing)
        return records

    def watermarks(self) -> dict[str, datetime.datetime]:
        found = {}
        for path in (self.spool / "watermarks").glob("*.nova"):
            found[path.name.split(".")[0]] = expected.instant(
                path.read_text().strip()
            )
        return found  # type: ignore[return-value]


def caso_conf() -> str:
    return str(testcloud.TESTCLOUD / "caso.conf")


def admin_conf(root: pathlib.Path) -> str:
    auth = testcloud.cloud_auth("testcloud-admin")
    lines = ["[keystone_auth]", "auth_type = password"]
    for key in (
        "auth_url",
        "username",
        "password",
        "user_domain_name",
        "project_name",
        "project_domain_name",
    ):
        lines.append(f"{key} = {auth[key]}")
    path = root / "admin.conf"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def by_vm(records: list[Json]) -> dict[str, list[Json]]:
    grouped: dict[str, list[Json]] = {}
    for record in records:
        grouped.setdefault(record["VMUUID"], []).append(record)
    for group in grouped.values():
        group.sort(key=_order)
    return grouped


def _order(record: Json) -> tuple[int, int]:
    return int(record["WallDuration"]), int(record.get("EndTime", 0))


def expected_by_vm(
    truth: Json,
    start: datetime.datetime,
    end: datetime.datetime,
    projects: set[str],
) -> dict[str, list[Json]]:
    found = expected.records(truth, start, end, SITE, SERVICE, projects)
    return by_vm(list(found.values()))


def without_cloud_type(records: list[Json]) -> list[Json]:
    for record in records:
        assert record.pop("CloudType").startswith("caso/")
    return records


def test_first_run_queues_the_records_the_truth_demands(
    tmp_path: pathlib.Path, truth: Json, selected: set[str]
) -> None:
    site = Site(tmp_path / "site", caso_conf())

    done = site.run(tz=FAR_EAST)

    assert done.returncode == 0, done.stderr + done.stdout
    assert done.stdout.splitlines()[-1].endswith("exit status 0")
    marks = site.watermarks()
    assert set(marks) == selected
    (end,) = set(marks.values())
    records = without_cloud_type(site.take_records())
    assert by_vm(records) == expected_by_vm(truth, BEGINNING, end, selected)


def test_second_run_reports_running_vms_again_and_loses_nothing(
    tmp_path: pathlib.Path, truth: Json, selected: set[str]
) -> None:
    site = Site(tmp_path / "site", caso_conf())
    assert site.run().returncode == 0
    (first_end,) = set(site.watermarks().values())
    first = by_vm(without_cloud_type(site.take_records()))

    done = site.run(tz=FAR_WEST)

    assert done.returncode == 0, done.stderr + done.stdout
    (second_end,) = set(site.watermarks().values())
    assert second_end > first_end
    second = by_vm(without_cloud_type(site.take_records()))
    assert second == expected_by_vm(truth, first_end, second_end, selected)
    running = [
        s["id"]
        for s in truth["servers"]
        if s["project_id"] in selected
        and expected.ended(s) is None
        and s["launched_at"]
    ]
    assert running
    for server_id in running:
        grown = int(second[server_id][-1]["WallDuration"]) - int(
            first[server_id][-1]["WallDuration"]
        )
        assert grown == int((second_end - first_end).total_seconds())
    everything = expected_by_vm(truth, BEGINNING, second_end, selected)
    assert set(first) | set(second) == set(everything)


def test_window_across_a_month_start_closes_the_month(
    tmp_path: pathlib.Path, truth: Json, selected: set[str]
) -> None:
    boundary = expected.instant(truth["month_start"])
    assert boundary is not None
    start = boundary - datetime.timedelta(days=2)
    now = datetime.datetime.now(UTC).replace(microsecond=0)
    end = min(boundary + datetime.timedelta(days=1), now)
    site = Site(tmp_path / "site", caso_conf())

    done = site.run(
        "--extract-from", start.isoformat(), "--extract-to", end.isoformat()
    )

    assert done.returncode == 0, done.stderr + done.stdout
    records = by_vm(without_cloud_type(site.take_records()))
    assert records == expected_by_vm(truth, start, end, selected)
    closing = epoch = expected.epoch(boundary) - 1
    closed = [
        vm
        for vm, group in records.items()
        if any(
            "EndTime" not in r
            and int(r["StartTime"]) + int(r["WallDuration"]) == closing
            for r in group
        )
    ]
    assert closed, f"no record closes the month before {epoch}"
    # A republished past window leaves the watermarks alone.
    assert site.watermarks() == {}


def test_least_privilege_user_and_admin_queue_identical_messages(
    tmp_path: pathlib.Path, truth: Json
) -> None:
    end = datetime.datetime.now(UTC).replace(microsecond=0)
    window = ("--extract-from", "None", "--extract-to", end.isoformat())
    reader = Site(tmp_path / "reader", caso_conf())
    admin = Site(tmp_path / "admin", admin_conf(tmp_path))

    for site in (reader, admin):
        done = site.run(*window)
        assert done.returncode == 0, done.stderr + done.stdout

    assert reader.messages() == admin.messages()
    assert reader.messages()


def test_caso_projects_names_the_project_without_vo(
    tmp_path: pathlib.Path, truth: Json
) -> None:
    site = Site(tmp_path / "site", caso_conf())

    done = site.run("--projects", "gamma,delta", command="caso-projects")

    assert done.returncode == 1, done.stderr + done.stdout
    rows = {
        line.split("\t")[1]: line.split("\t")
        for line in done.stdout.splitlines()
        if line.count("\t") == 3
    }
    ids = {p["name"]: p["id"] for p in truth["projects"]}
    assert rows == {
        "alpha": [ids["alpha"], "alpha", "vo.alpha.eu", "ok"],
        "beta": [ids["beta"], "beta", "vo.beta.eu", "ok"],
        "gamma": [ids["gamma"], "gamma", "vo.gamma.eu", "ok"],
        "delta": [ids["delta"], "delta", "-", "no VO"],
    }


def test_dry_run_prints_records_and_changes_nothing(
    tmp_path: pathlib.Path, truth: Json, selected: set[str]
) -> None:
    site = Site(tmp_path / "site", caso_conf())

    done = site.run("--dry-run")

    assert done.returncode == 0, done.stderr + done.stdout
    assert site.messages() == []
    assert not (site.spool / "watermarks").exists()
    for server in truth["servers"]:
        if server["project_id"] in selected:
            assert server["id"] in done.stdout


def test_application_credential_reports_its_project_and_names_the_rest(
    tmp_path: pathlib.Path, truth: Json
) -> None:
    ids = {p["name"]: p["id"] for p in truth["projects"]}
    credentials = str(testcloud.TESTCLOUD / "caso-appcred.conf")
    site = Site(tmp_path / "site", credentials)

    done = site.run()

    # Bound to alpha, the credential cannot be scoped to beta or gamma;
    # as a project reader it may not read other users' names either.
    assert done.returncode == 1, done.stderr + done.stdout
    marks = site.watermarks()
    assert set(marks) == {ids["alpha"]}
    records = by_vm(without_cloud_type(site.take_records()))
    wanted = expected_by_vm(
        truth, BEGINNING, marks[ids["alpha"]], {ids["alpha"]}
    )
    for group in wanted.values():
        for record in group:
            del record["GlobalUserName"]
    assert records == wanted
    for name in ("beta", "gamma"):
        assert f"cannot be scoped to project {ids[name]}" in done.stdout, (
            done.stdout
        )


def test_project_without_a_role_for_caso_is_named_with_the_fix(
    tmp_path: pathlib.Path, truth: Json
) -> None:
    # Keystone's own 'service' project: the caso user has no role there.
    mapping = tmp_path / "voms.json"
    mapping.write_text('{"vo.service.eu": {"projects": ["service"]}}')
    site = Site(tmp_path / "site", caso_conf())
    args = ("--projects", "service", "--caso_tag", "", "--mapping_file")

    listed = site.run(*args, str(mapping), command="caso-projects")
    done = site.run(*args, str(mapping))

    assert listed.returncode == 1, listed.stderr + listed.stdout
    (row,) = [
        line.split("\t")
        for line in listed.stdout.splitlines()
        if line.count("\t") == 3
    ]
    assert row[1:3] == ["service", "vo.service.eu"]
    assert row[3].startswith(
        "no access: Keystone gives the [keystone_auth] user no token "
        f"scoped to project {row[0]}"
    )
    assert row[3].endswith("give that user the reader role in the project")
    assert done.returncode == 1, done.stderr + done.stdout
    assert site.messages() == []
    assert site.watermarks() == {}
