"""One run of ``caso-extract``: extract, check, publish, remember.

For every selected project and extractor the window starts at
``--extract-from``, else at the saved watermark, else at the beginning
of time, and ends at ``--extract-to`` or the run's start. Records are
checked against what APEL accepts, handed to every messenger, and only
when every messenger took them does each project's watermark move to the
window's end.
"""

from __future__ import annotations

import collections
import dataclasses
import datetime
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from oslo_config import cfg

from caso import config, exceptions, extractors, messengers, state, window
from caso.identity import cloud as cloud_mod
from caso.identity import projects as projects_mod
from caso.identity import users as users_mod
from caso.identity import vomap

LOG = logging.getLogger(__name__)


@dataclasses.dataclass
class ProjectReport:
    """What happened to one project in a run."""

    project: projects_mod.Project
    counts: collections.Counter[str] = dataclasses.field(
        default_factory=collections.Counter
    )
    problems: list[str] = dataclasses.field(default_factory=list)
    #: Extractors whose records all went out; their watermarks may move.
    done: set[str] = dataclasses.field(default_factory=set)

    @property
    def failed(self) -> bool:
        """Whether anything went wrong for this project."""
        return bool(self.problems)

    def summary(self) -> str:
        """One line for the log."""
        counts = ", ".join(
            f"{n} {kind}" for kind, n in sorted(self.counts.items())
        )
        line = (
            f"project {self.project.name} ({self.project.id}) "
            f"VO {self.project.vo or '-'}: {counts or 'no'} records"
        )
        if self.problems:
            line += "; FAILED: " + "; ".join(self.problems)

        return line


@dataclasses.dataclass
class RunReport:
    """What happened in a run, and the exit status it deserves."""

    projects: list[ProjectReport] = dataclasses.field(default_factory=list)
    #: Configured project entries that could not be used.
    unresolved: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    messages: dict[str, int] = dataclasses.field(default_factory=dict)
    failed_messengers: dict[str, str] = dataclasses.field(default_factory=dict)
    records: list[Any] = dataclasses.field(default_factory=list)
    #: HTTP requests the run sent, and how many asked for a token.
    requests: int = 0
    token_requests: int = 0

    @property
    def exit_status(self) -> int:
        """0 all published; 1 some project or messenger failed."""
        if self.unresolved or self.failed_messengers:
            return 1

        return 1 if any(p.failed for p in self.projects) else 0

    def summary(self, elapsed: float, dry_run: bool) -> str:
        """The run's last line."""
        failed = sum(p.failed for p in self.projects) + len(self.unresolved)
        published = len(self.projects) - sum(p.failed for p in self.projects)
        verb = "would be published (dry run)" if dry_run else "published"
        parts = [
            f"{published} project(s) {verb}",
            f"{failed} failed",
            f"{len(self.records)} record(s)",
            f"{self.requests} API request(s), {self.token_requests} for "
            "tokens",
        ]
        if self.messages:
            parts.append(
                "messages: "
                + ", ".join(f"{k} {v}" for k, v in self.messages.items())
            )
        if self.failed_messengers:
            parts.append(
                "messenger(s) failed: " + ", ".join(self.failed_messengers)
            )
        status = self.exit_status

        return f"{'; '.join(parts)}; {elapsed:.1f} s; exit status {status}"


class Manager:
    """Runs extraction for the configuration it is given.

    Args:
        conf: the loaded and validated configuration.
        cloud: the cloud to read; built from ``conf`` when not given.
    """

    def __init__(
        self, conf: cfg.ConfigOpts, cloud: cloud_mod.Cloud | None = None
    ) -> None:
        self.conf = conf
        self.cloud = cloud or cloud_mod.Cloud(conf)
        self.users = users_mod.UserNames(self.cloud)
        self.store = state.WatermarkStore(Path(conf.spooldir))

    def select(self) -> projects_mod.Selection:
        """The selected projects, with their VOs."""
        mapping = vomap.load(Path(self.conf.mapping_file))

        return projects_mod.select(self.cloud, self.conf, mapping)

    def run(self, out: TextIO | None = None) -> RunReport:
        """Extract, publish and save state; see the module doc.

        Args:
            out: where ``--dry-run`` prints the records.
        """
        started = window.now()
        start, end = config.extract_window_bounds(self.conf)
        # A past --extract-to republishes; a future one was clamped to now.
        republish = end < started
        selection = self.select()
        report = RunReport(
            projects=[ProjectReport(p) for p in selection.projects],
            unresolved=list(selection.problems),
        )
        by_id = {r.project.id: r for r in report.projects}
        for project in selection.without_vo:
            by_id[project.id].problems.append(
                f"no VO: set the '{self.conf.vo_property}' property of the "
                "project (openstack project set --property "
                f"{self.conf.vo_property}=<vo> {project.id})"
            )

        for name in self.conf.extractor:
            self._extract(name, start, end, report, by_id)

        if self.conf.dry_run:
            self._print(report, out)
        else:
            self._publish(report)
            self._save(report, end, republish)
        report.requests = self.cloud.requests
        report.token_requests = self.cloud.token_requests

        return report

    def _extract(
        self,
        name: str,
        start: datetime.datetime | None,
        end: datetime.datetime,
        report: RunReport,
        by_id: dict[str, ProjectReport],
    ) -> None:
        if name in extractors.PLANNED and name not in extractors.available():
            LOG.warning(
                "Extractor %r is not in this version of caso; skipped "
                "(remove it from 'extractor' to silence this)",
                name,
            )
            return
        extractor = extractors.load(name)(self.conf, self.cloud, self.users)
        jobs = []
        for project_report in report.projects:
            project = project_report.project
            if project.vo is None:
                continue
            try:
                span = self._window(project, name, start, end)
            except exceptions.CasoError as exc:
                project_report.problems.append(f"{name}: {exc}")
                continue
            jobs.append(extractors.Job(project, span))

        begun = time.monotonic()
        outcomes = extractor.extract(jobs)
        for job in jobs:
            outcome = outcomes.get(job.project.id)
            project_report = by_id[job.project.id]
            if outcome is None or outcome.error is not None:
                error = outcome.error if outcome else "no outcome"
                LOG.error(
                    "Project %s (%s), extractor %s failed: %s",
                    job.project.name,
                    job.project.id,
                    name,
                    error,
                )
                project_report.problems.append(f"{name}: {error}")
                continue
            if self._check(outcome.records, project_report, name, report):
                project_report.done.add(name)
        LOG.info(
            "Extractor %s: %d project(s) in %.1f s",
            name,
            len(jobs),
            time.monotonic() - begun,
        )

    def _window(
        self,
        project: projects_mod.Project,
        extractor: str,
        start: datetime.datetime | None,
        end: datetime.datetime,
    ) -> window.Window:
        """The project's window for one extractor.

        Raises:
            StateError: the watermark file is damaged.
            CasoError: the window is empty.
        """
        if start is None:
            start = self.store.get(project.id, extractor) or window.BEGINNING
        if start >= end:
            LOG.warning(
                "Project %s, extractor %s: window start %s is not before "
                "its end %s; skipped",
                project.id,
                extractor,
                start.isoformat(),
                end.isoformat(),
            )
            raise exceptions.CasoError(
                f"window is empty: its start {start.isoformat()} is not "
                f"before its end {end.isoformat()}; nothing extracted"
            )

        return window.Window(start, end)

    def _check(
        self,
        records: Sequence[Any],
        project_report: ProjectReport,
        extractor: str,
        report: RunReport,
    ) -> bool:
        """Keep the records APEL accepts; False when one was refused."""
        refused = []
        for record in records:
            if self.conf.site_name:
                try:
                    record = record.checked()
                except exceptions.RecordError as exc:
                    refused.append(f"{extractor}: record refused: {exc}")
                    continue
            report.records.append(record)
            project_report.counts[record.record_type] += 1
        for problem in refused:
            LOG.error("Project %s: %s", project_report.project.id, problem)
        project_report.problems.extend(refused)

        return not refused

    def _publish(self, report: RunReport) -> None:
        for name, kinds in config.routing(self.conf).items():
            routed = [r for r in report.records if r.record_type in kinds]
            try:
                messenger = messengers.load(name)(self.conf, name)
                report.messages[name] = messenger.push(routed)
            except exceptions.CasoError as exc:
                report.failed_messengers[name] = str(exc)
            if name in report.failed_messengers:
                LOG.error(
                    "Messenger %s failed: %s",
                    name,
                    report.failed_messengers[name],
                )

    def _save(
        self, report: RunReport, end: datetime.datetime, republish: bool
    ) -> None:
        if report.failed_messengers:
            LOG.warning(
                "Watermarks stay where they were: messenger(s) %s failed; "
                "the next run sends these windows again",
                ", ".join(report.failed_messengers),
            )
            return
        if republish:
            LOG.info(
                "Republished a past window (--extract-to); watermarks "
                "stay where they were"
            )
            return
        for project_report in report.projects:
            for extractor in sorted(project_report.done):
                try:
                    self.store.set(project_report.project.id, extractor, end)
                except exceptions.StateError as exc:
                    LOG.error("%s", exc)
                    project_report.problems.append(str(exc))

    def _print(self, report: RunReport, out: TextIO | None) -> None:
        if out is None:
            return
        for record in report.records:
            out.write(record.describe().rstrip("\n") + "\n\n")


def log_report(report: RunReport) -> None:
    """One INFO line per project, ERROR for failed ones."""
    for project_report in report.projects:
        level = logging.ERROR if project_report.failed else logging.INFO
        LOG.log(level, "%s", project_report.summary())
    for entry, problem in report.unresolved:
        LOG.error("project %r: %s", entry, problem)
