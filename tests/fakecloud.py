"""A fake OpenStack at the HTTP seam, for what the real test cloud cannot
show cheaply: faults, odd pages, scale.

It answers through ``requests_mock`` with payloads shaped field by field
like Keystone 30 and Nova 34 answers (compute microversion 2.47 and
later): the server detail keys, the usage report keys, the paging links.
Tokens come from keystoneauth1's own fixture.
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import json
import urllib.parse
import uuid
from typing import Any

from keystoneauth1 import fixture as ks_fixture

AUTH_URL = "http://keystone.test:5000/v3"
COMPUTE_URL = "http://nova.test:8774/v2.1"
IMAGE_URL = "http://glance.test:9292"
REGION = "RegionOne"

UTC = datetime.timezone.utc

Json = dict[str, Any]


def iso(value: datetime.datetime, *, zone: bool = True) -> str:
    """Nova's two spellings: ``created`` has ``Z``, usage times none."""
    if zone:
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")

    return value.strftime("%Y-%m-%dT%H:%M:%S.%f")


@dataclasses.dataclass
class FakeServer:
    """A Nova instance row, rendered as the API renders it."""

    id: str
    name: str
    project_id: str
    user_id: str
    created: datetime.datetime
    status: str = "ACTIVE"
    launched_at: datetime.datetime | None = None
    terminated_at: datetime.datetime | None = None
    updated: datetime.datetime | None = None
    flavor: Json = dataclasses.field(default_factory=dict)
    image_id: str | None = "img-1"
    addresses: Json = dataclasses.field(default_factory=dict)
    #: Listed by no listing, only by the usage report (e.g. paging bug).
    hidden: bool = False

    @property
    def deleted(self) -> bool:
        return self.status == "DELETED"

    def payload(self) -> Json:
        updated = self.updated or self.terminated_at or self.created
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "tenant_id": self.project_id,
            "user_id": self.user_id,
            "metadata": {},
            "hostId": "",
            "image": (
                {"id": self.image_id, "links": []} if self.image_id else ""
            ),
            "flavor": self.flavor,
            "created": iso(self.created),
            "updated": iso(updated),
            "addresses": self.addresses,
            "accessIPv4": "",
            "accessIPv6": "",
            "links": [],
            "OS-DCF:diskConfig": "MANUAL",
            "progress": 0,
            "OS-EXT-AZ:availability_zone": "nova",
            "config_drive": "",
            "key_name": None,
            "OS-SRV-USG:launched_at": (
                iso(self.launched_at, zone=False) if self.launched_at else None
            ),
            "OS-SRV-USG:terminated_at": (
                iso(self.terminated_at, zone=False)
                if self.terminated_at
                else None
            ),
            "OS-EXT-STS:task_state": None,
            "OS-EXT-STS:vm_state": self.status.lower(),
            "OS-EXT-STS:power_state": 1,
            "os-extended-volumes:volumes_attached": [],
            "locked": False,
            "description": None,
            "tags": [],
            "trusted_image_certificates": None,
            "server_groups": [],
        }


def flavor(
    name: str = "m1.small",
    vcpus: int = 1,
    ram: int = 512,
    disk: int = 1,
    ephemeral: int = 0,
    extra_specs: Json | None = None,
) -> Json:
    """A flavor as 2.47+ embeds it in a server."""
    return {
        "vcpus": vcpus,
        "ram": ram,
        "disk": disk,
        "ephemeral": ephemeral,
        "swap": 0,
        "original_name": name,
        "extra_specs": extra_specs
        if extra_specs is not None
        else {
            "accounting:benchmark_type": "HEPSPEC06",
            "accounting:benchmark_value": "10.5",
        },
    }


class FakeCloud:
    """Keystone, Nova and Glance behind one ``requests_mock`` mocker.

    Args:
        mocker: the ``requests_mock`` fixture.
        admin: whether the caso user may list servers of all projects.
        max_limit: Nova's ``osapi_max_limit``: pages are cut there.
        microversion: the highest compute microversion offered. Below
            2.47 servers carry only their flavor's id and link, and the
            flavors of servers are listed under ``/flavors``.
    """

    def __init__(
        self,
        mocker: Any,
        *,
        admin: bool = True,
        max_limit: int = 1000,
        microversion: str = "2.96",
    ) -> None:
        self.mocker = mocker
        self.microversion = microversion
        #: Flavor names deleted since their servers booted (old clouds).
        self.deleted_flavors: set[str] = set()
        self.admin = admin
        self.max_limit = max_limit
        self.projects: dict[str, Json] = {}
        self.users: dict[str, Json] = {}
        self.images: dict[str, Json] = {}
        self.servers: dict[str, FakeServer] = {}
        #: Instances the usage report names that Nova does not show.
        self.usage_only: list[Json] = []
        self.user_reads_forbidden = False
        #: Projects whose usage report answers 500 (a Nova fault).
        self.usage_fails_for: set[str] = set()
        #: Whether every server listing answers 500.
        self.listing_fails = False
        self.token_requests: list[Json] = []
        #: Answer the n-th compute call (counting from 1) with 401 once.
        self.expire_token_at_call: int | None = None
        self._compute_calls = 0
        self._tokens = itertools.count(1)
        self.home_project = self.add_project("admin", vo=None, tags=[])
        self._register()

    # -- scenario ---------------------------------------------------------

    def add_project(
        self,
        name: str,
        *,
        vo: str | None = "vo.example.eu",
        tags: list[str] | None = None,
        project_id: str | None = None,
    ) -> str:
        project_id = project_id or uuid.uuid4().hex
        payload: Json = {
            "id": project_id,
            "name": name,
            "domain_id": "default",
            "description": "",
            "enabled": True,
            "parent_id": "default",
            "is_domain": False,
            "tags": ["caso"] if tags is None else tags,
            "options": {},
            "links": {"self": f"{AUTH_URL}/projects/{project_id}"},
        }
        if vo is not None:
            payload["VO"] = vo
        self.projects[project_id] = payload
        return project_id

    def add_user(self, name: str, *, domain_id: str = "default") -> str:
        user_id = uuid.uuid4().hex
        self.users[user_id] = {
            "id": user_id,
            "name": name,
            "domain_id": domain_id,
            "enabled": True,
            "password_expires_at": None,
            "options": {},
            "links": {"self": f"{AUTH_URL}/users/{user_id}"},
        }
        return user_id

    def add_image(self, image_id: str, **properties: str) -> None:
        self.images[image_id] = {
            "id": image_id,
            "name": image_id,
            "status": "active",
            "visibility": "public",
            "disk_format": "raw",
            "container_format": "bare",
            **properties,
        }

    def add_server(self, **fields: Any) -> FakeServer:
        fields.setdefault("id", str(uuid.uuid4()))
        fields.setdefault("name", f"vm-{len(self.servers)}")
        fields.setdefault("flavor", flavor())
        if "launched_at" not in fields:
            fields["launched_at"] = fields["created"]
        server = FakeServer(**fields)
        self.servers[server.id] = server
        return server

    # -- requests -----------------------------------------------------------

    def requests(self, method: str, prefix: str) -> list[Any]:
        """Requests made, by method and URL prefix (query excluded)."""
        return [
            r
            for r in self.mocker.request_history
            if r.method == method and r.url.split("?")[0].startswith(prefix)
        ]

    def _register(self) -> None:
        m = self.mocker
        m.post(f"{AUTH_URL}/auth/tokens", json=self._token)
        m.get(AUTH_URL, json=_identity_version())
        m.get(f"{AUTH_URL}/projects", json=self._projects)
        m.get(f"{AUTH_URL}/auth/projects", json=self._projects)
        m.get(
            _prefix(f"{AUTH_URL}/users/"),
            json=self._user,
        )
        m.get(COMPUTE_URL, json=_compute_version(self.microversion))
        # requests_mock tries the newest registration first.
        m.get(_prefix(f"{COMPUTE_URL}/servers/"), json=self._server_show)
        m.get(f"{COMPUTE_URL}/servers/detail", json=self._servers_detail)
        m.get(
            _prefix(f"{COMPUTE_URL}/os-simple-tenant-usage"),
            json=self._usage,
        )
        m.get(_prefix(f"{IMAGE_URL}/v2/images/"), json=self._image)
        if self._embeds_flavor:
            # No flavor is left: every flavor of every server was deleted.
            # From 2.47 a server embeds its flavor, so nothing needs these.
            m.get(
                _prefix(f"{COMPUTE_URL}/flavors"),
                status_code=404,
                json=_error(404, "Flavor could not be found."),
            )
        else:
            m.get(_prefix(f"{COMPUTE_URL}/flavors/"), json=self._specs)
            m.get(f"{COMPUTE_URL}/flavors/detail", json=self._flavors)

    @property
    def _embeds_flavor(self) -> bool:
        major, minor = self.microversion.split(".")
        return (int(major), int(minor)) >= (2, 47)

    def _live_flavors(self) -> dict[str, Json]:
        found = {}
        for server in self.servers.values():
            name = server.flavor["original_name"]
            if name not in self.deleted_flavors:
                found[name] = server.flavor
        return found

    def _flavors(self, request: Any, context: Any) -> Json:
        # GET /flavors/detail before 2.61: no extra specs in the listing.
        return {
            "flavors": [
                {
                    "id": name,
                    "name": name,
                    "vcpus": f["vcpus"],
                    "ram": f["ram"],
                    "disk": f["disk"],
                    "OS-FLV-EXT-DATA:ephemeral": f["ephemeral"],
                    "swap": "",
                    "rxtx_factor": 1.0,
                    "os-flavor-access:is_public": True,
                    "links": [],
                }
                for name, f in sorted(self._live_flavors().items())
            ]
        }

    def _specs(self, request: Any, context: Any) -> Json | None:
        name = request.path.split("/flavors/")[1].split("/")[0]
        flavor = self._live_flavors().get(name)
        if flavor is None or not request.path.endswith("/os-extra-specs"):
            context.status_code = 404
            return _error(404, "Flavor could not be found.")
        return {"extra_specs": flavor["extra_specs"]}

    def _token(self, request: Any, context: Any) -> Json:
        body = request.json()["auth"]
        self.token_requests.append(body)
        scope = body.get("scope") or {}
        if "system" in scope:
            # A system-scoped token carries ``"system": {"all": true}``
            # and no project (Keystone's token body since Queens).
            token = ks_fixture.V3Token(
                user_id="caso-user",
                user_name="caso",
                user_domain_id="default",
            )
            token.system = {"all": True}
        else:
            project_id = (scope.get("project") or {}).get("id")
            if project_id is None:
                project_id = self.home_project
            token = ks_fixture.V3Token(
                user_id="caso-user",
                user_name="caso",
                user_domain_id="default",
                project_id=project_id,
                project_name=self.projects[project_id]["name"],
                project_domain_id="default",
                project_domain_name="Default",
            )
        token.add_role(name="admin" if self.admin else "reader")
        for kind, url in (
            ("identity", AUTH_URL),
            ("compute", COMPUTE_URL),
            ("image", IMAGE_URL),
        ):
            service = token.add_service(kind)
            service.add_standard_endpoints(
                public=url, internal=url, admin=url, region=REGION
            )
        context.status_code = 201
        context.headers["X-Subject-Token"] = f"token-{next(self._tokens)}"
        return dict(token)

    def _token_scope(self, request: Any) -> Json:
        token = request.headers.get("X-Auth-Token", "")
        index = int(token.split("-")[1]) - 1
        scope: Json = self.token_requests[index].get("scope") or {}
        return scope

    def _scope(self, request: Any) -> str:
        project = (self._token_scope(request).get("project") or {}).get("id")
        return project or self.home_project

    def _projects(self, request: Any, context: Any) -> Json:
        return {
            "projects": list(self.projects.values()),
            "links": {"self": request.url, "next": None, "previous": None},
        }

    def _user(self, request: Any, context: Any) -> Json | None:
        # Keystone's default identity:get_user policy lets an admin, or a
        # reader on system scope, read any user; a project reader gets 403.
        allowed = self.admin or "system" in self._token_scope(request)
        if self.user_reads_forbidden or not allowed:
            context.status_code = 403
            return _error(403, "You are not authorized to perform that.")
        user = self.users.get(request.path.rsplit("/", 1)[1])
        if user is None:
            context.status_code = 404
            return _error(404, "Could not find user.")
        return {"user": user}

    def _compute_auth(self, context: Any) -> bool:
        self._compute_calls += 1
        if self._compute_calls == self.expire_token_at_call:
            context.status_code = 401
            return False
        return True

    def _servers_detail(self, request: Any, context: Any) -> Json | None:
        if not self._compute_auth(context):
            return _error(401, "The request you have made requires auth.")
        if self.listing_fails:
            context.status_code = 500
            return _error(500, "Unexpected API Error.")
        query = _query(request)
        scope = self._scope(request)
        if query.get("all_tenants") and not self.admin:
            context.status_code = 403
            return _error(403, "Policy doesn't allow ... to be performed.")
        servers = [s for s in self.servers.values() if not s.hidden]
        if not query.get("all_tenants"):
            servers = [s for s in servers if s.project_id == scope]
        since = query.get("changes-since")
        if since:
            when = _parse(since)
            servers = [
                s
                for s in servers
                if (s.updated or s.terminated_at or s.created) >= when
            ]
        else:
            servers = [s for s in servers if not s.deleted]
        # Nova sorts by created_at, then id, newest first.
        servers.sort(key=lambda s: (s.created, s.id), reverse=True)
        page, links = self._page(servers, query, "servers", request)
        body: Json = {"servers": [self._render(s) for s in page]}
        if links:
            body["servers_links"] = links
        return body

    def _render(self, server: FakeServer) -> Json:
        payload = server.payload()
        if not self._embeds_flavor:
            name = server.flavor["original_name"]
            payload["flavor"] = {"id": name, "links": []}
        return payload

    def _page(
        self, items: list[Any], query: Json, key: str, request: Any
    ) -> tuple[list[Any], list[Json]]:
        limit = min(int(query.get("limit", self.max_limit)), self.max_limit)
        marker = query.get("marker")
        if marker:
            ids = [getattr(i, "id", None) or i["instance_id"] for i in items]
            items = items[ids.index(marker) + 1 :]
        page = items[:limit]
        links = []
        if page and len(page) == limit:
            last = getattr(page[-1], "id", None) or page[-1]["instance_id"]
            params = {k: v for k, v in query.items() if k != "marker"}
            params["marker"] = last
            href = (
                request.url.split("?")[0]
                + "?"
                + urllib.parse.urlencode(params)
            )
            links.append({"rel": "next", "href": href})
        return page, links

    def _server_show(self, request: Any, context: Any) -> Json | None:
        if not self._compute_auth(context):
            return _error(401, "The request you have made requires auth.")
        server = self.servers.get(request.path.rsplit("/", 1)[1])
        # Nova 34 shows no deleted server, even to an admin.
        if server is None or server.deleted:
            context.status_code = 404
            return _error(404, "Instance could not be found.")
        return {"server": self._render(server)}

    def _usage(self, request: Any, context: Any) -> Json | None:
        if not self._compute_auth(context):
            return _error(401, "The request you have made requires auth.")
        query = _query(request)
        start, end = _parse(query["start"]), _parse(query["end"])
        tail = request.path.split("os-simple-tenant-usage")[1].strip("/")
        if tail in self.usage_fails_for:
            context.status_code = 500
            return _error(500, "Unexpected API Error.")
        entries = [
            self._usage_entry(s, start, end)
            for s in self.servers.values()
            if s.launched_at
            and s.launched_at <= end
            and (s.terminated_at is None or s.terminated_at >= start)
        ] + self.usage_only
        if tail:
            entries = [e for e in entries if e["tenant_id"] == tail]
        elif not self.admin:
            context.status_code = 403
            return _error(403, "Policy doesn't allow ... to be performed.")
        entries.sort(key=lambda e: e["instance_id"])
        page, links = self._page(entries, query, "usage", request)
        if tail:
            body: Json = {
                "tenant_usage": {
                    "tenant_id": tail,
                    "server_usages": page,
                    "total_hours": 0.0,
                }
                if page
                else {}
            }
            if links:
                body["tenant_usage_links"] = links
            return body
        per_tenant: dict[str, list[Json]] = {}
        for entry in page:
            per_tenant.setdefault(entry["tenant_id"], []).append(entry)
        body = {
            "tenant_usages": [
                {"tenant_id": t, "server_usages": e, "total_hours": 0.0}
                for t, e in per_tenant.items()
            ]
        }
        if links:
            body["tenant_usages_links"] = links
        return body

    def _usage_entry(
        self,
        server: FakeServer,
        start: datetime.datetime,
        end: datetime.datetime,
    ) -> Json:
        f = server.flavor
        return {
            "instance_id": server.id,
            "name": server.name,
            "hours": 1.0,
            "flavor": f.get("original_name"),
            "vcpus": f.get("vcpus"),
            "memory_mb": f.get("ram"),
            "local_gb": f.get("disk"),
            "started_at": iso(
                server.launched_at or server.created, zone=False
            ),
            "ended_at": (
                iso(server.terminated_at, zone=False)
                if server.terminated_at
                else None
            ),
            # Nova 34 says "terminated" for a deleted instance.
            "state": "terminated" if server.deleted else server.status.lower(),
            "tenant_id": server.project_id,
            "uptime": 3600,
        }

    def usage_only_entry(self, project_id: str, instance_id: str) -> None:
        """Make the usage report name an instance Nova does not show."""
        now = datetime.datetime.now(UTC)
        self.usage_only.append(
            {
                "instance_id": instance_id,
                "name": "ghost",
                "hours": 1.0,
                "flavor": "m1.small",
                "vcpus": 1,
                "memory_mb": 512,
                "local_gb": 1,
                "started_at": iso(now, zone=False),
                "ended_at": None,
                "state": "active",
                "tenant_id": project_id,
                "uptime": 3600,
            }
        )

    def _image(self, request: Any, context: Any) -> Json | None:
        image = self.images.get(request.path.rsplit("/", 1)[1])
        if image is None:
            context.status_code = 404
            return None
        return image


def _prefix(url: str) -> Any:
    import re

    return re.compile(re.escape(url) + r".*")


def _query(request: Any) -> Json:
    return {
        k: v[0]
        for k, v in urllib.parse.parse_qs(
            urllib.parse.urlsplit(request.url).query, keep_blank_values=True
        ).items()
    }


def _parse(text: str) -> datetime.datetime:
    value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _error(code: int, message: str) -> Json:
    kind = {
        401: "unauthorized",
        403: "forbidden",
        404: "itemNotFound",
        500: "computeFault",
    }
    return {kind.get(code, "error"): {"code": code, "message": message}}


def _identity_version() -> Json:
    return {
        "version": {
            "id": "v3.14",
            "status": "stable",
            "updated": "2020-04-07T00:00:00Z",
            "links": [{"rel": "self", "href": f"{AUTH_URL}/"}],
            "media-types": [
                {
                    "base": "application/json",
                    "type": "application/vnd.openstack.identity-v3+json",
                }
            ],
        }
    }


def _compute_version(microversion: str) -> Json:
    return {
        "version": {
            "id": "v2.1",
            "status": "CURRENT",
            "version": microversion,
            "min_version": "2.1",
            "updated": "2013-07-23T11:33:21Z",
            "links": [{"rel": "self", "href": f"{COMPUTE_URL}/"}],
            "media-types": [
                {
                    "base": "application/json",
                    "type": (
                        "application/vnd.openstack.compute+json;version=2.1"
                    ),
                }
            ],
        }
    }


def dump(value: Any) -> str:
    """JSON for assertion messages."""
    return json.dumps(value, indent=1, sort_keys=True, default=str)
