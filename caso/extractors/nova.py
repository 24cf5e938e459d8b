"""The ``nova`` extractor: a cloud record for every VM of the window.

A VM is reported for ``[from, to)`` when it existed at some moment in
it. Three reads find them all: every server that still exists, every
server changed since ``from`` (deleted ones included while Nova keeps
their rows), and the simple-tenant-usage report as a cross-check, whose
stray instances are fetched one by one.

With credentials that may list servers of all projects the reads are one
paged stream for the whole run; otherwise they are made per project, with
that project's token, a few projects at a time.
"""

from __future__ import annotations

import concurrent.futures
import logging
import threading
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from caso import exceptions, extractors, window
from caso.extractors import servers as servers_mod
from caso.identity import cloud as cloud_mod

LOG = logging.getLogger(__name__)

#: 2.47 embeds the flavor in each server (a deleted flavor loses nothing);
#: 2.40 pages the usage report. Nothing newer is needed.
MICROVERSION = (2, 47)

#: Items asked for per page; the server may cap it lower.
PAGE_LIMIT = 1000

#: Projects read at once in per-project mode.
WORKERS = 8

Json = dict[str, Any]


class NovaExtractor(extractors.Extractor):
    """Cloud records from Nova, Glance and Keystone."""

    name: ClassVar[str] = "nova"
    record_types: ClassVar[frozenset[str]] = frozenset({"cloud"})

    #: Page size; tests lower it to exercise paging on a small cloud.
    page_limit: int = PAGE_LIMIT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._images = _ImageRefs(self.cloud)
        self._records = servers_mod.RecordMaker(
            self.conf, self.users, self._images.ref
        )
        self._microversion: str | None = None
        self._negotiation = threading.Lock()
        self._flavors: _FlavorList | None = None

    def extract(
        self, jobs: Sequence[extractors.Job]
    ) -> dict[str, extractors.Outcome]:
        """Build the cloud records of every job; see the module doc."""
        if not jobs:
            return {}
        if self.cloud.access.project_id:
            try:
                return self._extract_cloud_wide(jobs)
            except exceptions.AccessDenied as exc:
                refusal = exc
            except exceptions.CasoError as exc:
                # The one stream failed: so did every project.
                return {
                    job.project.id: extractors.Outcome(error=exc)
                    for job in jobs
                }
            # Logged outside the handler: oslo.log would repeat the error.
            LOG.warning(
                "Cannot list servers of all projects (%s); reading each "
                "project with its own token instead",
                refusal,
            )
        else:
            LOG.info(
                "The configured token is %s-scoped; reading each project "
                "with its own token",
                self.cloud.scope,
            )

        return self._extract_per_project(jobs)

    # -- cloud-wide -----------------------------------------------------

    def _extract_cloud_wide(
        self, jobs: Sequence[extractors.Job]
    ) -> dict[str, extractors.Outcome]:
        compute = self._compute(self.cloud.base)
        earliest = min(job.window.start for job in jobs)
        found = self._list_servers(compute, earliest, all_tenants=True)
        self._images.cloud_wide = True
        usages = {
            span: self._usage(compute, span)
            for span in {job.window for job in jobs}
        }
        wanted = {job.project.id for job in jobs}
        by_project: dict[str, dict[str, servers_mod.Server]] = {
            project_id: {} for project_id in wanted
        }
        for server in found.values():
            if server.project_id in wanted:
                by_project[server.project_id][server.id] = server

        outcomes = {}
        for job in jobs:
            outcomes[job.project.id] = self._outcome(
                job,
                compute,
                by_project[job.project.id],
                usages.get(job.window, {}).get(job.project.id, {}),
            )

        return outcomes

    def _usage(
        self, compute: Any, span: window.Window, project_id: str = ""
    ) -> dict[str, dict[str, Json]]:
        """Usage report entries per project, then per instance.

        The cloud-wide report (admin) when no project is given: projects
        sharing a window, the usual case, share one report.
        """
        path, key = "/os-simple-tenant-usage", "tenant_usages"
        if project_id:
            path, key = f"{path}/{project_id}", "tenant_usage"
        per_project: dict[str, dict[str, Json]] = {}
        for body in cloud_mod.pages(
            compute, path, key, _usage_query(span), self.page_limit
        ):
            # One project's report holds one object, the cloud's a list.
            tenants = body[key] if isinstance(body[key], list) else [body[key]]
            for tenant in tenants:
                entries = per_project.setdefault(tenant["tenant_id"], {})
                entries.update(_usage_entries(tenant))

        return per_project

    # -- per project ----------------------------------------------------

    def _extract_per_project(
        self, jobs: Sequence[extractors.Job]
    ) -> dict[str, extractors.Outcome]:
        workers = min(WORKERS, len(jobs))
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            futures = {
                job.project.id: pool.submit(self._one_project, job)
                for job in jobs
            }

        return {
            project_id: future.result()
            for project_id, future in futures.items()
        }

    def _one_project(self, job: extractors.Job) -> extractors.Outcome:
        try:
            session = self.cloud.session_for(job.project.id)
            compute = self._compute(session)
            found = self._list_servers(compute, job.window.start)
            usage = self._usage(compute, job.window, job.project.id)
        except exceptions.CasoError as exc:
            return extractors.Outcome(error=exc)

        return self._outcome(
            job, compute, found, usage.get(job.project.id, {})
        )

    # -- shared ---------------------------------------------------------

    def _outcome(
        self,
        job: extractors.Job,
        compute: Any,
        found: dict[str, servers_mod.Server],
        usage: dict[str, Json],
    ) -> extractors.Outcome:
        """Records of one project from what the reads returned."""
        try:
            servers = dict(found)
            for instance_id in sorted(set(usage) - set(servers)):
                server = self._fetch_stray(compute, job, usage[instance_id])
                if server is not None:
                    servers[server.id] = server
            if self._flavors is not None:
                servers = {
                    sid: self._flavors.complete(server, usage.get(sid))
                    for sid, server in servers.items()
                }
            records = []
            for server in sorted(servers.values(), key=_server_order):
                if server.project_id != job.project.id:
                    continue
                if server.existed_in(job.window):
                    records.extend(
                        self._records.records(server, job.project, job.window)
                    )
        except exceptions.CasoError as exc:
            return extractors.Outcome(error=exc)

        LOG.debug(
            "Project %s: %d servers read, %d cloud records",
            job.project.id,
            len(servers),
            len(records),
        )

        return extractors.Outcome(records=records)

    def _fetch_stray(
        self, compute: Any, job: extractors.Job, entry: Json
    ) -> servers_mod.Server | None:
        """A server the usage report names but no listing returned.

        Nova shows no deleted server, even to an admin: an ended one is
        then reported from the usage entry; a running one it does not
        show is skipped.
        """
        instance_id = entry["instance_id"]
        try:
            body = cloud_mod.get_json(compute, f"/servers/{instance_id}")
        except exceptions.NotFound as exc:
            missing = exc
        else:
            return servers_mod.Server.from_api(body["server"])
        # Logged outside the handler: oslo.log would repeat the error.
        if entry.get("ended_at"):
            LOG.warning(
                "Project %s: instance %s, ended, is only in the usage "
                "report (%s); its record comes from there, without user, "
                "image or benchmark, starting at its launch",
                job.project.id,
                instance_id,
                missing,
            )
            return servers_mod.Server.from_usage(entry)
        LOG.warning(
            "Project %s: the usage report names instance %s, which Nova "
            "does not show (%s); it gets no record this run",
            job.project.id,
            instance_id,
            missing,
        )

        return None

    def _compute(self, session: Any) -> Any:
        # Projects read at once must not each discover the version.
        with self._negotiation:
            if self._microversion is None:
                self._negotiate(session)

        return self.cloud.adapter(
            "compute", session, microversion=self._microversion or None
        )

    def _negotiate(self, session: Any) -> None:
        highest = self.cloud.max_microversion("compute", session)
        if highest is not None and highest >= MICROVERSION:
            self._microversion = _version(MICROVERSION)
            return
        # An old cloud: flavors come from the flavor list, then from the
        # usage report; the usage report may be cut at osapi_max_limit.
        self._microversion = _version(highest) if highest else ""
        LOG.warning(
            "Compute API offers microversion %s, below %d.%d: flavors are "
            "read from the flavor list, and VMs whose flavor was deleted "
            "take their size from the usage report",
            self._microversion or "none",
            *MICROVERSION,
        )
        self._flavors = _FlavorList(
            self.cloud.adapter("compute", session, self._microversion or None)
        )

    def _list_servers(
        self,
        compute: Any,
        since: Any,
        *,
        all_tenants: bool = False,
    ) -> dict[str, servers_mod.Server]:
        """Servers that exist now, plus those changed since ``since``."""
        base: Json = {"all_tenants": 1} if all_tenants else {}
        queries = [dict(base, **{"changes-since": _iso(since)})]
        if since > window.BEGINNING:
            # changes-since from the epoch already holds every server.
            queries.insert(0, base)
        found: dict[str, servers_mod.Server] = {}
        for query in queries:
            for body in cloud_mod.pages(
                compute, "/servers/detail", "servers", query, self.page_limit
            ):
                for payload in body["servers"]:
                    server = servers_mod.Server.from_api(payload)
                    found[server.id] = server

        return found


def _version(pair: tuple[int, int]) -> str:
    return f"{pair[0]}.{pair[1]}"


def _server_order(server: servers_mod.Server) -> tuple[Any, str]:
    return server.created, server.id


def _iso(value: Any) -> str:
    text: str = value.strftime("%Y-%m-%dT%H:%M:%SZ")

    return text


def _usage_query(span: window.Window) -> Json:
    # The usage API reads naive times as UTC and takes no zone suffix.
    return {
        "start": span.start.strftime("%Y-%m-%dT%H:%M:%S"),
        "end": span.end.strftime("%Y-%m-%dT%H:%M:%S"),
        "detailed": 1,
    }


def _usage_entries(tenant_usage: Json) -> dict[str, Json]:
    return {
        entry["instance_id"]: entry
        for entry in tenant_usage.get("server_usages") or ()
    }


class _ImageRefs:
    """Image id to the reference a record carries, once per image."""

    def __init__(self, cloud: cloud_mod.Cloud) -> None:
        self._cloud = cloud
        self._refs: dict[str, str] = {}
        self._lock = threading.Lock()
        #: Whether the base token reads every project's images; else each
        #: image is read with the token of the project using it, which
        #: sees that project's private images.
        self.cloud_wide = False

    def ref(self, image_id: str, project_id: str) -> str:
        """The image's ``vmcatcher_event_ad_mpuri`` if set, else its id."""
        with self._lock:
            if image_id not in self._refs:
                self._refs[image_id] = self._read(image_id, project_id)

            return self._refs[image_id]

    def _read(self, image_id: str, project_id: str) -> str:
        session = (
            self._cloud.base
            if self.cloud_wide
            else self._cloud.session_for(project_id)
        )
        glance = self._cloud.adapter("image", session)
        try:
            image = cloud_mod.get_json(glance, f"/v2/images/{image_id}")
        except (exceptions.NotFound, exceptions.AccessDenied) as exc:
            LOG.debug(
                "Image %s not readable (%s); using its id", image_id, exc
            )
            return image_id
        mpuri = image.get("vmcatcher_event_ad_mpuri")

        return str(mpuri) if mpuri else image_id


class _FlavorList:
    """Flavors for clouds older than microversion 2.47."""

    def __init__(self, compute: Any) -> None:
        self._compute = compute
        self._flavors: dict[str, servers_mod.Flavor] | None = None
        self._lock = threading.Lock()

    def complete(
        self, server: servers_mod.Server, usage: Json | None
    ) -> servers_mod.Server:
        """The server with its flavor filled in, as far as known."""
        if server.flavor is not None and server.flavor.vcpus:
            return server
        flavor = self._all().get(server.flavor_id or "")
        if flavor is None and usage is not None:
            flavor = servers_mod.Flavor.from_usage(usage)

        return server.with_flavor(flavor)

    def _all(self) -> dict[str, servers_mod.Flavor]:
        with self._lock:
            if self._flavors is None:
                self._flavors = dict(self._read())

            return self._flavors

    def _read(self) -> Iterable[tuple[str, servers_mod.Flavor]]:
        for body in cloud_mod.pages(
            self._compute,
            "/flavors/detail",
            "flavors",
            {"is_public": "None"},
            PAGE_LIMIT,
        ):
            for payload in body["flavors"]:
                specs = cloud_mod.get_json(
                    self._compute, f"/flavors/{payload['id']}/os-extra-specs"
                ).get("extra_specs", {})
                yield (
                    payload["id"],
                    servers_mod.Flavor.from_api(
                        dict(payload, extra_specs=specs)
                    ),
                )
