"""Custom domains and HTTPS with a real Caddy: a route's hosts change without touching its upstreams, the
certificate policy is kept in place, and with Caddy's local CA every host answers over TLS with a certificate
for its own name; then a real `dockyard server` with HTTPS, where `dockyard domains` adds and removes a
domain of a live app, and deploys and reconcile passes keep it.
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest

from api.services import routing
from core.settings import Settings
from scheduler.caddy import start_caddy
from scheduler.proxy import CaddyAdmin, app_route, route_id, server_config, tls_policy
from tests.platform import Platform, Repo, eventually, fastapi_app, free_port

pytestmark = pytest.mark.integration

DOCKYARD = str(Path(sys.executable).parent / "dockyard")
# Where Debian keeps the extra roots it adds to the system bundle (the bundle builds are given).
LOCAL_TRUST = Path("/usr/local/share/ca-certificates")


@pytest.fixture(autouse=True)
def host_trust_untouched() -> Iterator[None]:
    """Caddy's local CA is in use here; its root must never land in this host's trust stores."""
    before = sorted(LOCAL_TRUST.glob("*")) if LOCAL_TRUST.is_dir() else []
    yield
    assert (sorted(LOCAL_TRUST.glob("*")) if LOCAL_TRUST.is_dir() else []) == before


@pytest.fixture
def caddy(tmp_path: Path) -> Iterator[CaddyAdmin]:
    address = f"127.0.0.1:{free_port()}"
    process = start_caddy(admin=address, data_dir=tmp_path / "caddy")
    assert process is not None
    admin = CaddyAdmin(address)
    # First of all: tests here load Caddy's local CA, whose root Caddy would add to this host's trust stores.
    admin.keep_local_ca_untrusted()
    try:
        yield admin
    finally:
        admin.close()
        process.terminate()
        process.wait(timeout=10)


def local_root(admin: CaddyAdmin) -> str:
    """The PEM of Caddy's local CA root, as a client that trusts it would install it."""
    return str(admin.http.get("/pki/ca/local").json()["root_certificate"])


def certificate_names(port: int, host: str, root: str) -> list[str]:
    """The DNS names of the certificate Caddy serves on `port` for SNI `host`, verified against `root`."""
    context = ssl.create_default_context(cadata=root)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as sock,
        context.wrap_socket(sock, server_hostname=host) as tls,
    ):
        certificate = tls.getpeercert()
    assert certificate is not None
    names: tuple[tuple[str, str], ...] = certificate["subjectAltName"]  # type: ignore[assignment]
    return [value for kind, value in names if kind == "DNS"]


def answers_over_tls(port: int, host: str, root: str) -> bool:
    try:
        return certificate_names(port, host, root) == [host]
    except (ssl.SSLError, OSError):
        return False


def https_get(port: int, host: str, root: str) -> httpx.Response:
    """GET / of `host` over HTTPS on 127.0.0.1:`port` (SNI and Host are `host`, no DNS needed)."""
    with httpx.Client(verify=ssl.create_default_context(cadata=root), trust_env=False, timeout=10) as client:
        return client.get(
            f"https://127.0.0.1:{port}/", headers={"Host": host}, extensions={"sni_hostname": host}
        )


def http_get(port: int, host: str, path: str = "/") -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{port}{path}", headers={"Host": host}, trust_env=False, timeout=10)


def test_set_route_hosts_changes_what_a_route_matches_and_nothing_else(
    caddy: CaddyAdmin, upstream: tuple[str, list[str]]
) -> None:
    http_port = free_port()
    caddy.ensure_server("dockyard", server_config(http_port=http_port))
    rid = route_id("test", "blog")
    caddy.set_route("dockyard", app_route(route_id=rid, hosts=["blog.localhost"], upstreams=[upstream[0]]))

    assert caddy.set_route_hosts(rid, ["blog.localhost", "www.blog.test"])

    assert caddy.routes("dockyard")[0] == app_route(
        route_id=rid, hosts=["blog.localhost", "www.blog.test"], upstreams=[upstream[0]]
    )
    assert (http_get(http_port, "www.blog.test").status_code, http_get(http_port, "www.blog.test").text) == (
        200,
        "upstream",
    )

    assert caddy.set_route_hosts(rid, ["blog.localhost"])

    assert http_get(http_port, "www.blog.test").status_code == 404
    assert http_get(http_port, "blog.localhost").text == "upstream"
    assert not caddy.set_route_hosts(route_id("test", "nope"), ["nope.localhost"])


def test_set_policy_adds_its_policy_after_others_and_replaces_only_its_own(caddy: CaddyAdmin) -> None:
    theirs = {"subjects": ["intranet.example.com"], "issuers": [{"module": "internal"}]}
    caddy.http.put("/config/apps/tls", json={"automation": {"policies": [theirs]}}).raise_for_status()
    internal = tls_policy(policy_id="dockyard-tls", issuer={"module": "internal"})
    acme = tls_policy(policy_id="dockyard-tls", issuer={"module": "acme", "email": "ops@example.com"})

    caddy.set_policy(internal)
    assert caddy.config("apps/tls/automation/policies") == [theirs, internal]

    caddy.set_policy(acme)
    assert caddy.config("apps/tls/automation/policies") == [theirs, acme]

    before = caddy.http.get("/config/").headers["Etag"]
    caddy.set_policy(acme)
    assert caddy.http.get("/config/").headers["Etag"] == before, "an unchanged policy is not written again"


def test_set_policy_on_a_caddy_without_tls_config(caddy: CaddyAdmin) -> None:
    policy = tls_policy(policy_id="dockyard-tls", issuer={"module": "internal"})

    caddy.set_policy(policy)

    assert caddy.config("apps/tls") == {"automation": {"policies": [policy]}}


def test_with_the_local_ca_an_app_host_and_its_domain_answer_over_tls_for_their_own_names(
    caddy: CaddyAdmin, upstream: tuple[str, list[str]], tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path, instance="test", https="internal", http_port=free_port(), https_port=free_port()
    )
    routing.ensure_server(caddy, settings)
    routing.ensure_server(caddy, settings)  # idempotent
    caddy.set_route("test", routing.app_route(settings, "blog", [upstream[0]], domains=["www.blog.test"]))
    root = local_root(caddy)

    for host in ("blog.localhost", "www.blog.test"):
        assert eventually(partial(answers_over_tls, settings.https_port, host, root), timeout=10), host
        assert https_get(settings.https_port, host, root).text == "upstream"
    redirected = http_get(settings.http_port, "www.blog.test", "/a?b=1")
    assert (redirected.status_code, redirected.headers["Location"]) == (
        308,
        f"https://www.blog.test:{settings.https_port}/a?b=1",
    )
    # Caddy would otherwise add its root to this host's trust stores (and so to every build's CA bundle).
    assert caddy.config("apps/pki") == {"certificate_authorities": {"local": {"install_trust": False}}}

    assert routing.set_hosts(caddy, settings, "blog", [])

    assert eventually(lambda: not answers_over_tls(settings.https_port, "www.blog.test", root), timeout=10)
    assert https_get(settings.https_port, "blog.localhost", root).text == "upstream"


# A real `dockyard server` with HTTPS from Caddy's local CA; one app deployed once, tests in file order.

APP = "shop"
DOMAIN = "www.shop.test"


@pytest.fixture(scope="module")
def https_platform(
    tmp_path_factory: pytest.TempPathFactory, instance: str, docker_client: docker.DockerClient
) -> Iterator[Platform]:
    running = Platform(
        data_dir=tmp_path_factory.mktemp("platform"),
        instance=instance,
        env={"DOCKYARD_HTTPS": "internal", "DOCKYARD_HTTPS_PORT": str(free_port())},
    )
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def live_app(https_platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    repo = Repo(tmp_path_factory.mktemp("git"), full_name="octo/shop")
    repo.commit(fastapi_app("v1"), "first version")
    https_platform.create_app(APP, repo)
    deployment = https_platform.call("POST", f"/api/v1/apps/{APP}/deployments", json={}).json()
    done = https_platform.wait_deployment(APP, deployment["id"])
    assert done["status"] == "live", https_platform.logs(APP, deployment["id"])
    return dict(https_platform.call("GET", f"/api/v1/apps/{APP}").json())


def https_port(platform: Platform) -> int:
    return int(platform.env["DOCKYARD_HTTPS_PORT"])


def dockyard(platform: Platform, *args: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DOCKYARD_URL": platform.api, "DOCKYARD_TOKEN": platform.token}
    done = subprocess.run([DOCKYARD, *args], env=environment, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    return done


def platform_root(platform: Platform) -> str:
    with CaddyAdmin(f"127.0.0.1:{platform.admin_port}") as admin:
        return local_root(admin)


def shop_answers_at(platform: Platform, host: str) -> bool:
    """Whether the app answers for `host` over HTTPS, with a certificate for `host`."""
    root = platform_root(platform)
    if not answers_over_tls(https_port(platform), host, root):
        return False
    response = https_get(https_port(platform), host, root)
    return response.status_code == 200 and response.json()["version"] == "v1"


def test_a_live_app_is_served_over_https_and_http_redirects(
    https_platform: Platform, live_app: dict[str, Any]
) -> None:
    port = https_port(https_platform)

    assert live_app["url"] == f"https://{APP}.localhost:{port}/"
    assert eventually(lambda: shop_answers_at(https_platform, f"{APP}.localhost"), timeout=10)
    redirected = http_get(https_platform.http_port, f"{APP}.localhost")
    assert (redirected.status_code, redirected.headers["Location"]) == (308, live_app["url"])


def test_dockyard_domains_add_serves_the_domain_at_once_with_its_certificate(
    https_platform: Platform, live_app: dict[str, Any]
) -> None:
    assert not shop_answers_at(https_platform, DOMAIN)

    added = dockyard(https_platform, "domains", "add", APP, DOMAIN.upper())

    assert added.returncode == 0, added.stderr
    assert added.stdout == f"added {DOMAIN}: https://{DOMAIN}:{https_port(https_platform)}/\n"
    assert eventually(lambda: shop_answers_at(https_platform, DOMAIN), timeout=10)
    listed = dockyard(https_platform, "domains", "list", APP)
    assert [line.split() for line in listed.stdout.splitlines()] == [
        ["DOMAIN", "URL"],
        [DOMAIN, f"https://{DOMAIN}:{https_port(https_platform)}/"],
    ]
    assert https_platform.call("GET", f"/api/v1/apps/{APP}").json()["domains"] == [DOMAIN]


def test_a_deploy_and_the_reconciler_keep_the_domain_in_the_route(
    https_platform: Platform, live_app: dict[str, Any]
) -> None:
    admin = CaddyAdmin(f"127.0.0.1:{https_platform.admin_port}")
    rid = route_id(https_platform.instance, APP)
    before = next(route for route in admin.routes(https_platform.instance) if route.get("@id") == rid)

    restart = https_platform.call("POST", f"/api/v1/apps/{APP}/restart").json()
    assert https_platform.wait_deployment(APP, restart["id"])["status"] == "live"

    # Read as soon as the restart is live, while its deploy lock keeps the reconciler off the app: the
    # route the rollout switched to new replicas carries the domain.
    after = next(route for route in admin.routes(https_platform.instance) if route.get("@id") == rid)
    assert after["handle"][0]["upstreams"] != before["handle"][0]["upstreams"]
    assert after["match"] == [{"host": [f"{APP}.localhost", DOMAIN]}]

    admin.remove_route(rid)  # as a restarted proxy would have lost it
    admin.close()

    assert eventually(lambda: shop_answers_at(https_platform, DOMAIN), timeout=20), (
        "the reconciler put it back"
    )


def test_a_domain_of_the_apps_domain_is_refused_with_the_servers_reason(
    https_platform: Platform, live_app: dict[str, Any]
) -> None:
    refused = dockyard(https_platform, "domains", "add", APP, "other.localhost")

    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "error: hostname: other.localhost is in the apps domain localhost, where each app already answers at "
        "<name>.localhost; add a domain outside it"
    )


def test_dockyard_domains_remove_stops_serving_the_domain_at_once(
    https_platform: Platform, live_app: dict[str, Any]
) -> None:
    removed = dockyard(https_platform, "domains", "remove", APP, DOMAIN)

    assert removed.returncode == 0, removed.stderr
    assert removed.stdout == f"removed {DOMAIN}\n"
    assert eventually(lambda: not shop_answers_at(https_platform, DOMAIN), timeout=10)
    assert shop_answers_at(https_platform, f"{APP}.localhost")
    empty = dockyard(https_platform, "domains", "list", APP)
    assert (empty.stdout, empty.stderr) == (
        "",
        f"no custom domains: `dockyard domains add {APP} HOST` adds one\n",
    )
