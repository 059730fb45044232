"""Routing app hosts to upstreams through Caddy, driven only through its admin API.

The config builders are pure; `CaddyAdmin` is a thin client that changes one server or route at a time and
never loads a whole config, so servers and apps that others configured in the same Caddy stay untouched.

Caddy's defaults already suit long requests and WebSockets: servers have no read/write timeout (only
`read_header_timeout` 1m and `idle_timeout` 5m between keep-alive requests), and the reverse proxy's
transport has no response-header/read/write timeout (only `dial_timeout` 3s). What they do not suit is a
config change: by default it closes every proxied WebSocket at once, hence `stream_close_delay`.

With HTTPS, Dockyard's server listens on the HTTPS port and Caddy's automatic HTTPS manages a certificate for
every host its routes match, as the routes change; one TLS automation policy says which issuer signs them
(an ACME CA, or Caddy's local CA). A second server on the HTTP port redirects to HTTPS; ACME's HTTP
challenges are answered before any route, so the redirect never hides them.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from core.errors import TemporaryError

# Long enough that a deploy (one admin API change) never cuts an open WebSocket; the old handler's
# connections end on their own or after this delay.
STREAM_CLOSE_DELAY = "8h"

# How long a request that cannot reach an upstream keeps trying.
RETRY_FOR = "5s"

# Seconds to wait before each attempt at an admin request.
ADMIN_RETRY_DELAYS = (0.0, 0.1, 0.3)

# Where Caddy keeps its TLS automation policies.
POLICIES = ["apps", "tls", "automation", "policies"]

# Whether Caddy installs its local CA's root into the host's trust stores (by default it does, when it runs
# as root: into the system bundle, which builds are given). Dockyard never changes the host's trust.
LOCAL_CA_INSTALL_TRUST = ["apps", "pki", "certificate_authorities", "local", "install_trust"]


def route_id(instance: str, app: str) -> str:
    """The `@id` of an app's route, unique per instance across the whole Caddy config."""
    return f"{instance}-app-{app}"


NOT_FOUND_BODY = "No app is deployed at this address. Check the app's URL in Dockyard.\n"


def fallback_route() -> dict[str, Any]:
    """The last route: a plain 404 for hosts no app claims (Caddy would answer an empty 200)."""
    return {
        "handle": [
            {
                "handler": "static_response",
                "status_code": 404,
                "headers": {"Content-Type": ["text/plain; charset=utf-8"]},
                "body": NOT_FOUND_BODY,
            }
        ],
        "terminal": True,
    }


def server_config(*, http_port: int) -> dict[str, Any]:
    """Dockyard's own plain-HTTP server: no app routes yet, and the 404 fallback last."""
    return {
        "listen": [f":{http_port}"],
        # Caddy would otherwise try to obtain certificates for every routed host on a non-80 port.
        "automatic_https": {"disable": True},
        "routes": [fallback_route()],
    }


def tls_server_config(*, https_port: int) -> dict[str, Any]:
    """Dockyard's server with HTTPS: TLS on every connection, certificates for the hosts its routes match.

    Caddy's own redirects are off: they would listen on Caddy's HTTP port (80), which may not be ours.
    """
    return {
        "listen": [f":{https_port}"],
        "automatic_https": {"disable_redirects": True},
        # TLS even before any route names a host (Caddy enables it by itself only once one does).
        "tls_connection_policies": [{}],
        "routes": [fallback_route()],
    }


def redirect_server_config(*, http_port: int, https_port: int) -> dict[str, Any]:
    """A plain-HTTP server that sends every request to the same host and path over HTTPS (308)."""
    port = "" if https_port == 443 else f":{https_port}"
    return {
        "listen": [f":{http_port}"],
        "automatic_https": {"disable": True},
        "routes": [
            {
                "handle": [
                    {
                        "handler": "static_response",
                        "status_code": 308,
                        "headers": {"Location": [f"https://{{http.request.host}}{port}{{http.request.uri}}"]},
                    }
                ],
                "terminal": True,
            }
        ],
    }


def acme_issuer(*, email: str, http_port: int, https_port: int) -> dict[str, Any]:
    """Certificates from an ACME CA (Let's Encrypt), whose challenges reach Caddy on ports 80 and 443.

    The alternate ports are where those connections arrive when Caddy listens elsewhere behind a forward.
    """
    issuer: dict[str, Any] = {"module": "acme"}
    if email:
        issuer["email"] = email
    issuer["challenges"] = {
        "http": {"alternate_port": http_port},
        "tls-alpn": {"alternate_port": https_port},
    }
    return issuer


# Caddy's local CA: its root is at the admin API's /pki/ca/local, for clients to trust.
INTERNAL_ISSUER: dict[str, Any] = {"module": "internal"}


def tls_policy(*, policy_id: str, issuer: dict[str, Any]) -> dict[str, Any]:
    """The TLS automation policy signing every host's certificate with `issuer`.

    Without subjects it is Caddy's catch-all policy, so hosts added later are covered without changing it;
    names that cannot have public certificates (`*.localhost`) still get Caddy's local CA.
    """
    return {"@id": policy_id, "issuers": [issuer]}


def host_match(hosts: list[str]) -> list[dict[str, Any]]:
    """A route's `match`: any of `hosts`."""
    return [{"host": hosts}]


def app_route(
    *, route_id: str, hosts: list[str], upstreams: list[str], request_timeout: int | None = None
) -> dict[str, Any]:
    """A terminal route sending requests for `hosts` to `upstreams` ("host:port"), round robin.

    A request that cannot reach an upstream (a replica restarting) is retried, on the others first, for a
    few seconds. No passive health check: with one replica it would turn a restart's blip into seconds of
    errors. `request_timeout` caps the seconds until a
    response starts; by default nothing is capped, so long requests and WebSockets run as long as they need.
    """
    transport: dict[str, Any] = {"protocol": "http", "network_proxy": {"from": "none"}}
    if request_timeout is not None:
        transport["response_header_timeout"] = f"{request_timeout}s"
    return {
        "@id": route_id,
        "match": host_match(hosts),
        "handle": [
            {
                "handler": "reverse_proxy",
                "upstreams": [{"dial": upstream} for upstream in upstreams],
                "load_balancing": {
                    "selection_policy": {"policy": "round_robin"},
                    "try_duration": RETRY_FOR,
                    "try_interval": "250ms",
                },
                "stream_close_delay": STREAM_CLOSE_DELAY,
                # Upstreams are addresses on our own networks: an HTTP(S)_PROXY in Caddy's environment
                # (honoured by default) must not capture them.
                "transport": transport,
            }
        ],
        "terminal": True,
    }


class CaddyAdmin:
    """A client of Caddy's admin API at `admin_address` ("host:port")."""

    def __init__(self, admin_address: str, *, timeout: float = 10.0) -> None:
        # trust_env=False: the admin API is local and must never go through an HTTP proxy.
        # Caddy refuses admin requests whose Origin/Host it does not expect; httpx sends Host=admin_address.
        # No keep-alive: Caddy replaces its admin server on every config load, which resets pooled
        # connections; admin calls are rare and local, so a fresh connection each time costs nothing.
        self.http = httpx.Client(
            base_url=f"http://{admin_address}",
            timeout=timeout,
            trust_env=False,
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self.http.close()

    def __enter__(self) -> CaddyAdmin:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def is_up(self) -> bool:
        """Whether the admin API answers."""
        try:
            return self.http.get("/config/").status_code == 200
        except httpx.HTTPError:
            return False

    def ensure_server(self, name: str, config: dict[str, Any]) -> None:
        """Create server `name` with `config` unless it exists; nothing else in the config is changed.

        An existing server is left as is.
        """
        self._ensure(["apps", "http", "servers", name], config)

    def keep_local_ca_untrusted(self) -> None:
        """Stop Caddy from installing its local CA's root into the host's trust stores, unless told already.

        Call before anything can use the local CA: Caddy installs the root when it first creates it.
        """
        self._ensure(LOCAL_CA_INSTALL_TRUST, False)

    def set_policy(self, policy: dict[str, Any]) -> None:
        """Put TLS automation `policy` in place of the one with its `@id`, or add it after Caddy's others.

        After, so that policies others configured for their own hosts keep matching first. Unchanged when
        it is already as wanted, so a periodic call costs one read.
        """
        by_id = f"/id/{policy['@id']}"
        current = self._send("GET", by_id)
        if current.status_code == 200:
            if current.json() != policy:
                self._change("PATCH", by_id, json=policy)
            return
        if not self._is_unknown_id(current):
            self._check(current)
        if self._ensure(POLICIES, [policy]):
            return
        added = self._send("POST", "/config/" + "/".join(POLICIES), json=policy)  # POST appends
        if added.status_code == 400 and "duplicate ID" in added.text:
            self._change("PATCH", by_id, json=policy)  # another writer added it meanwhile
            return
        self._check(added)

    def set_route_hosts(self, route_id: str, hosts: list[str]) -> bool:
        """Make the route with `route_id` match `hosts`, its upstreams untouched; False when there is none.

        Only the route's `match` is written, so a deploy switching the same route's upstreams at the same
        moment is not undone.
        """
        return self._change("PATCH", f"/id/{route_id}/match", json=host_match(hosts))

    def set_route(self, server: str, route: dict[str, Any]) -> None:
        """Put `route` in place of the route with the same `@id`, or insert it first in `server`'s routes.

        First, so that app routes always come before the server's fallback route.
        """
        by_id = f"/id/{route['@id']}"
        if self._change("PATCH", by_id, json=route):
            return
        # PUT on an array index inserts there (POST would append after the fallback).
        response = self._send("PUT", f"/config/apps/http/servers/{server}/routes/0", json=route)
        if response.status_code == 400 and "duplicate ID" in response.text:
            # Another writer inserted the same @id meanwhile (Caddy refuses duplicates): replace theirs.
            if not self._change("PATCH", by_id, json=route):
                raise TemporaryError(f"route {route['@id']} changed concurrently in Caddy; retry")
            return
        self._check(response)

    def remove_route(self, route_id: str) -> None:
        """Delete the route with `route_id`; an absent route is already removed."""
        self._change("DELETE", f"/id/{route_id}")

    def config(self, path: str = "") -> Any:
        """The config at `/config/<path>` (None where nothing is set)."""
        return self._get(f"/config/{path}")

    def routes(self, server: str) -> list[dict[str, Any]]:
        """The routes of `server`, in order, fallback included (empty when the server does not exist)."""
        return self._get(f"/config/apps/http/servers/{server}/routes") or []

    def _ensure(self, levels: list[str], config: Any) -> bool:
        """Create `config` at `/config/<levels>` unless something is there; True when it was created.

        Reads the path first (one request when it exists); else walks down from the root and creates only
        the first missing level, so other apps and servers are kept. The write carries the ETag of the read
        (If-Match), so it cannot overwrite anything another writer created in between.
        """
        existing = self._send("GET", "/config/" + "/".join(levels))
        if existing.status_code == 200 and existing.json() is not None:
            return False
        depth = 0  # 0 is the root, which holds `null` in a Caddy started without any config
        while depth <= len(levels):
            path = "/config/" + "/".join(levels[:depth])
            current = self._send("GET", path)
            self._check(current)
            if current.json() is not None:
                depth += 1
                continue
            value = config
            for key in reversed(levels[depth:]):
                value = {key: value}
            # POST, not PUT: Caddy refuses PUT at the root even when it is empty.
            created = self._send("POST", path, json=value, headers={"If-Match": current.headers["Etag"]})
            if created.status_code == 412:
                continue  # the config changed since we looked: look again
            self._check(created)
            return True
        return False

    def _get(self, path: str) -> Any:
        # Caddy answers 200 with `null` for a path that holds nothing.
        response = self._send("GET", path)
        self._check(response)
        return response.json()

    def _change(self, method: str, by_id: str, *, json: Any = None) -> bool:
        """Change the object at an `/id/...` path; False when no object has that @id."""
        response = self._send(method, by_id, json=json)
        if self._is_unknown_id(response):
            return False
        self._check(response)
        return True

    @staticmethod
    def _is_unknown_id(response: httpx.Response) -> bool:
        return response.status_code == 404 and "unknown object ID" in response.text

    def _send(
        self, method: str, path: str, *, json: Any = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        # Caddy replaces its admin server on every config load, so a request right after a change can be
        # dropped unanswered. Retrying is safe for every call made here: GET, PATCH and DELETE by @id are
        # idempotent, a repeated If-Match POST gets 412, and a repeated route insert gets "duplicate ID".
        dropped: httpx.HTTPError | None = None
        for delay in ADMIN_RETRY_DELAYS:
            time.sleep(delay)
            try:
                return self.http.request(method, path, json=json, headers=headers)
            except (httpx.NetworkError, httpx.RemoteProtocolError) as error:
                dropped = error
            except httpx.HTTPError as error:
                raise self._unanswered(error) from error
        raise self._unanswered(dropped) from dropped

    def _unanswered(self, error: httpx.HTTPError | None) -> TemporaryError:
        return TemporaryError(f"Caddy admin API at {self.http.base_url} did not answer: {error}")

    @staticmethod
    def _check(response: httpx.Response) -> None:
        if response.is_success:
            return
        try:
            message = response.json().get("error", response.text)
        except ValueError:
            message = response.text
        raise TemporaryError(
            f"Caddy refused {response.request.method} {response.request.url.path}: "
            f"{response.status_code} {message}".rstrip()
        )
