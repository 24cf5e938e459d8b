"""Sessions on one OpenStack cloud, and the calls every extractor makes.

One keystoneauth1 session is built from ``[keystone_auth]`` with the
scope configured there. Where the privileges require it (Nova does not
accept system-scoped tokens, and a project reader sees only its own
project), a session scoped to each project is made on demand from the same
credentials and kept for the whole run, so a token is fetched once per
scope used, never once per call, service or extractor.

keystoneauth errors are translated here into :mod:`caso.exceptions`,
keeping the cause and the request id.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import urllib.parse
from collections.abc import Iterator, Mapping
from typing import Any

import requests
from keystoneauth1 import adapter as ks_adapter
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import loading
from keystoneauth1 import session as ks_session
from keystoneauth1.access import access as ks_access
from oslo_config import cfg

import caso
from caso import exceptions

LOG = logging.getLogger(__name__)

#: The configuration group holding the keystoneauth1 options.
GROUP = "keystone_auth"

#: Catalog interface used for every service.
INTERFACE = "public"

#: Options that set a token's scope. A per-project session clears all of
#: them but ``project_id`` so that no invalid combination reaches Keystone.
_SCOPE_OPTIONS = (
    "project_name",
    "project_domain_id",
    "project_domain_name",
    "domain_id",
    "domain_name",
    "system_scope",
    "trust_id",
)

Json = dict[str, Any]


class Cloud:
    """Authenticated access to the cloud's services.

    Args:
        conf: the parsed configuration, with ``[keystone_auth]`` and
            ``region_name``.
        http: the HTTP session to send requests with; tests inject one.

    Raises:
        ConfigError: ``[keystone_auth]`` names no or an unknown plugin.
    """

    def __init__(
        self, conf: cfg.ConfigOpts, http: requests.Session | None = None
    ) -> None:
        self._conf = conf
        self.region_name: str | None = conf.region_name
        self._http = http or requests.Session()
        #: HTTP requests sent, and how many of them asked for a token.
        self.requests = 0
        self.token_requests = 0
        self._http.hooks["response"].append(self._count)
        # Version discovery documents, shared by every session.
        self._discovery: dict[str, Any] = {}
        self.base = self._session(self._load_auth())
        self._scoped: dict[str, ks_session.Session] = {}
        self._lock = threading.Lock()
        self._access: ks_access.AccessInfo | None = None

    def _count(self, response: requests.Response, **_: Any) -> None:
        self.requests += 1
        if response.request.url and response.request.url.endswith(
            "/auth/tokens"
        ):
            self.token_requests += 1

    def _load_auth(self, **overrides: Any) -> Any:
        try:
            auth = loading.load_auth_from_conf_options(
                self._conf, GROUP, **overrides
            )
        except ks_exc.NoMatchingPlugin as exc:
            raise exceptions.ConfigError(
                f"option 'auth_type' in [{GROUP}] names an unknown "
                f"keystoneauth plugin {exc.name!r}; use e.g. 'password', "
                "'v3applicationcredential' or 'v3oidcaccesstoken'"
            ) from exc
        except ks_exc.MissingRequiredOptions as exc:
            names = ", ".join(opt.dest for opt in exc.options)
            raise exceptions.ConfigError(
                f"[{GROUP}] lacks required option(s) {names} for its "
                "auth_type; set them in caso.conf"
            ) from exc
        if auth is None:
            raise exceptions.ConfigError(
                f"option 'auth_type' in [{GROUP}] is not set: caso cannot "
                "authenticate; set auth_type (e.g. 'password') and its "
                "options in caso.conf"
            )

        return auth

    def _session(self, auth: Any) -> ks_session.Session:
        session: ks_session.Session = loading.load_session_from_conf_options(
            self._conf,
            GROUP,
            auth=auth,
            session=self._http,
            discovery_cache=self._discovery,
            app_name="caso",
            app_version=caso.__version__,
        )

        return session

    @property
    def access(self) -> ks_access.AccessInfo:
        """The base token's details; authenticates on first use.

        Raises:
            AuthError: Keystone refused the credentials or scope.
        """
        if self._access is None:
            with translated("identity", "authenticate"):
                auth: Any = self.base.auth
                self._access = auth.get_access(self.base)

        return self._access

    @property
    def scope(self) -> str:
        """The base token's scope, in words, for logs and reports."""
        info = self.access
        if info.project_id:
            return f"project {info.project_name} ({info.project_id})"
        if info.system_scoped:
            return "system"
        if info.domain_id:
            return f"domain {info.domain_name} ({info.domain_id})"

        return "unscoped"

    def session_for(self, project_id: str) -> ks_session.Session:
        """A session whose token is scoped to ``project_id``.

        The base session is used when it already has that scope.

        Raises:
            AccessDenied: the configured credentials cannot be scoped to
                that project: an application credential, or a user with
                no role there.
        """
        if self.access.project_id == project_id:
            return self.base
        with self._lock:
            session = self._scoped.get(project_id)
        if session is None:
            # Authenticated outside the lock, so that projects read at once
            # get their tokens at once.
            session = self._session(self._scoped_auth(project_id))
            self._authenticate(session, project_id)
            with self._lock:
                session = self._scoped.setdefault(project_id, session)

        return session

    def _authenticate(
        self, session: ks_session.Session, project_id: str
    ) -> None:
        refusal = None
        try:
            with translated("identity", "get a project-scoped token"):
                session.get_token()
        except exceptions.AuthError as exc:
            refusal = exc
        if refusal is not None:
            raise exceptions.AccessDenied(
                f"Keystone gives the [{GROUP}] user no token scoped to "
                f"project {project_id} ({refusal}); give that user the "
                "reader role in the project",
                service_type="identity",
            ) from refusal

    def _scoped_auth(self, project_id: str) -> Any:
        loader: Any = loading.get_plugin_loader(self._conf[GROUP].auth_type)
        dests = {opt.dest for opt in loader.get_options()}
        # Keystone refuses any scope with an application credential: it is
        # bound to the project it was made in.
        bound = getattr(self.access, "application_credential_id", None)
        if bound or "project_id" not in dests:
            raise exceptions.AccessDenied(
                f"the {self._conf[GROUP].auth_type!r} credentials of "
                f"[{GROUP}] are bound to {self.scope} and cannot be "
                f"scoped to project {project_id}; use a user with the "
                "reader role in each selected project, or credentials "
                "that list the servers of all projects",
                service_type="identity",
            )
        overrides: dict[str, str | None] = {
            name: None for name in _SCOPE_OPTIONS if name in dests
        }
        overrides["project_id"] = project_id

        return self._load_auth(**overrides)

    def adapter(
        self,
        service_type: str,
        session: ks_session.Session | None = None,
        microversion: str | None = None,
        version: str | None = None,
    ) -> ks_adapter.Adapter:
        """An adapter for one service of the catalog, in our region.

        Args:
            version: the major API version to find through version
                discovery; paths are then relative to that version's root.
        """
        return ks_adapter.Adapter(
            session or self.base,
            service_type=service_type,
            interface=INTERFACE,
            region_name=self.region_name,
            version=version,
            default_microversion=microversion,
            connect_retries=2,
        )

    def identity(self) -> ks_adapter.Adapter:
        """An adapter for Keystone's v3 API with the base session.

        Paths are relative to the v3 root (``/projects``), so versioned
        and unversioned catalog entries both work.
        """
        return self.adapter("identity", version="3.0")

    def max_microversion(
        self, service_type: str, session: ks_session.Session | None = None
    ) -> tuple[int, int] | None:
        """The highest microversion the service advertises, if any."""
        adapter = self.adapter(service_type, session)
        with translated(service_type, "discover the API version"):
            data = adapter.get_endpoint_data()
        if data is None or data.max_microversion is None:
            return None
        major, minor = data.max_microversion

        return int(major), int(minor)


@contextlib.contextmanager
def translated(service_type: str, what: str) -> Iterator[None]:
    """Turn keystoneauth errors raised inside the block into ours.

    Args:
        service_type: the service called, for the message.
        what: what was being done, e.g. ``GET /servers/detail``.
    """
    try:
        yield
    except ks_exc.ClientException as exc:
        raise _translate(exc, service_type, what) from exc


def _translate(
    exc: ks_exc.ClientException, service_type: str, what: str
) -> exceptions.OpenStackError:
    request_id = getattr(exc, "request_id", None)
    detail = (
        _service_message(exc)
        or getattr(exc, "details", None)
        or exc.message
        or str(exc)
    )
    if request_id and request_id in detail:
        request_id = None  # keystoneauth's message names it already
    where = f"{service_type}: {what}"
    kind: type[exceptions.OpenStackError] = exceptions.OpenStackError
    if isinstance(exc, ks_exc.Forbidden):
        kind = exceptions.AccessDenied
        detail = f"forbidden: {detail}"
    elif isinstance(exc, ks_exc.NotFound):
        kind = exceptions.NotFound
        detail = f"not found: {detail}"
    elif isinstance(exc, ks_exc.EndpointNotFound):
        detail = (
            f"no {INTERFACE} endpoint in the catalog for this region; "
            "check 'region_name' in [DEFAULT]"
        )
    elif isinstance(exc, ks_exc.Unauthorized | ks_exc.AuthorizationFailure):
        kind = exceptions.AuthError
        detail = (
            f"authentication failed ({detail}); check the credentials "
            f"and scope in [{GROUP}]"
        )
    elif isinstance(exc, ks_exc.ConnectionError):
        # keystoneauth appends urllib3's retry story; the URL is enough.
        detail = f"cannot connect: {detail.split(': HTTP', 1)[0]}"

    return kind(
        f"{where}: {detail}", service_type=service_type, request_id=request_id
    )


def _service_message(exc: ks_exc.ClientException) -> str | None:
    """The message of a Nova-style error body, ``{"<kind>": {"message"}}``.

    keystoneauth reads only ``{"error": ...}`` bodies; Nova, Glance and
    Cinder name the outer key after the fault (``itemNotFound``).
    """
    response = getattr(exc, "response", None)
    if response is None:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or len(body) != 1:
        return None
    (inner,) = body.values()
    if not isinstance(inner, dict) or not inner.get("message"):
        return None

    return f"{inner['message']} (HTTP {response.status_code})"


def get_json(
    adapter: ks_adapter.Adapter,
    path: str,
    params: Mapping[str, Any] | None = None,
) -> Json:
    """``GET`` a path of the adapter's service and return the JSON body.

    Raises:
        OpenStackError: the call failed; 403 and 404 as AccessDenied and
            NotFound.
    """
    service_type = adapter.service_type or "?"
    with translated(service_type, f"GET {path}"):
        response = adapter.get(path, params=dict(params or {}))
    body: Json = response.json()

    return body


def pages(
    adapter: ks_adapter.Adapter,
    path: str,
    key: str,
    params: Mapping[str, Any],
    limit: int,
) -> Iterator[Json]:
    """Follow a Nova-style paged listing, yielding each page's body.

    The server may cap pages below ``limit`` (``osapi_max_limit``), so a
    short page is not the end: only an empty page or a page without a
    ``next`` link is.

    Args:
        key: the list's key; its links are under ``<key>_links``.
    """
    query = dict(params, limit=limit)
    while True:
        body = get_json(adapter, path, query)
        items = body.get(key)
        if not items:
            return
        yield body
        marker = next_marker(body.get(f"{key}_links"))
        if marker is None:
            return
        query["marker"] = marker


def next_marker(links: Any) -> str | None:
    """The ``marker`` of a ``rel: next`` link, or None when there is none."""
    for link in links or ():
        if link.get("rel") != "next":
            continue
        query = urllib.parse.urlsplit(link.get("href", "")).query
        markers = urllib.parse.parse_qs(query).get("marker")
        if markers:
            return str(markers[0])

    return None
