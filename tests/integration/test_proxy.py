"""CaddyAdmin against a real Caddy started by start_caddy, proxying to upstreams on this host."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect
from websockets.sync.server import Server, ServerConnection, serve

from core.errors import TemporaryError
from scheduler.caddy import caddy_binary, start_caddy
from scheduler.proxy import CaddyAdmin, app_route, fallback_route, route_id, server_config

pytestmark = pytest.mark.integration

SERVER = "dockyard"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Caddy:
    """A running Caddy: its admin client and the port Dockyard's server will listen on."""

    def __init__(self, address: str, http_port: int) -> None:
        self.address = address
        self.admin = CaddyAdmin(address)
        self.http_port = http_port

    def get(self, host: str, path: str = "/") -> httpx.Response:
        """A request to the HTTP port as if for `host`."""
        return httpx.get(f"http://127.0.0.1:{self.http_port}{path}", headers={"Host": host}, trust_env=False)


@pytest.fixture
def caddy(tmp_path: Path) -> Iterator[Caddy]:
    address = f"127.0.0.1:{free_port()}"
    process = start_caddy(admin=address, data_dir=tmp_path)
    assert process is not None
    running = Caddy(address, free_port())
    try:
        yield running
    finally:
        running.admin.close()
        process.terminate()
        process.wait(timeout=10)


def test_start_caddy_leaves_an_answering_admin_alone(caddy: Caddy, tmp_path: Path) -> None:
    assert start_caddy(admin=caddy.address, data_dir=tmp_path / "second") is None


def test_ensure_server_creates_the_whole_path_on_an_empty_caddy(caddy: Caddy) -> None:
    config = server_config(http_port=caddy.http_port)

    caddy.admin.ensure_server(SERVER, config)
    caddy.admin.ensure_server(SERVER, config)  # idempotent

    assert caddy.admin.config("apps") == {"http": {"servers": {SERVER: config}}}


def test_ensure_server_on_a_caddy_started_without_any_config(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    home = tmp_path / "home"
    env = {**os.environ, "CADDY_ADMIN": address, "XDG_CONFIG_HOME": str(home), "XDG_DATA_HOME": str(home)}
    process = subprocess.Popen(
        [caddy_binary(), "run"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    admin = CaddyAdmin(address)
    try:
        deadline = time.monotonic() + 10
        while not admin.is_up() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert admin.config() is None  # not even an admin object
        config = server_config(http_port=free_port())

        admin.ensure_server(SERVER, config)

        assert admin.config() == {"apps": {"http": {"servers": {SERVER: config}}}}
    finally:
        admin.close()
        process.terminate()
        process.wait(timeout=10)


def test_ensure_server_leaves_another_server_untouched(caddy: Caddy) -> None:
    other = {
        "listen": [f":{free_port()}"],
        "automatic_https": {"disable": True},
        "routes": [{"handle": [{"handler": "static_response", "body": "other"}]}],
    }
    caddy.admin.ensure_server("other", other)
    before = caddy.admin.config()

    caddy.admin.ensure_server(SERVER, server_config(http_port=caddy.http_port))

    after = caddy.admin.config()
    assert after["admin"] == before["admin"]
    assert after["apps"]["http"]["servers"] == {
        "other": other,
        SERVER: server_config(http_port=caddy.http_port),
    }


def test_set_route_replaces_a_route_with_the_same_id(caddy: Caddy) -> None:
    caddy.admin.ensure_server(SERVER, server_config(http_port=caddy.http_port))
    rid = route_id("test", "blog")
    first = app_route(route_id=rid, hosts=["blog.localhost"], upstreams=["127.0.0.1:9001"])
    second = app_route(route_id=rid, hosts=["blog.localhost"], upstreams=["127.0.0.1:9002"])
    neighbour = app_route(
        route_id=route_id("test", "shop"), hosts=["shop.localhost"], upstreams=["127.0.0.1:9003"]
    )

    caddy.admin.set_route(SERVER, first)
    caddy.admin.set_route(SERVER, neighbour)
    caddy.admin.set_route(SERVER, second)

    assert caddy.admin.routes(SERVER) == [neighbour, second, fallback_route()]


def test_a_route_sends_its_host_to_the_upstream_until_removed(
    caddy: Caddy, upstream: tuple[str, list[str]]
) -> None:
    address, seen = upstream
    caddy.admin.ensure_server(SERVER, server_config(http_port=caddy.http_port))
    rid = route_id("test", "blog")
    caddy.admin.set_route(SERVER, app_route(route_id=rid, hosts=["blog.localhost"], upstreams=[address]))

    routed = caddy.get("blog.localhost")
    unknown = caddy.get("nope.localhost")

    assert (routed.status_code, routed.text) == (200, "upstream")
    assert unknown.status_code == 404
    assert "No app is deployed at this address" in unknown.text
    assert seen == ["blog.localhost"]

    caddy.admin.remove_route(rid)
    caddy.admin.remove_route(rid)  # already gone is fine

    assert caddy.get("blog.localhost").status_code == 404
    assert seen == ["blog.localhost"]
    assert caddy.admin.routes(SERVER) == [fallback_route()]


def test_open_websockets_survive_a_deploy(caddy: Caddy) -> None:
    def echo_as(release: str) -> Callable[[ServerConnection], None]:
        def echo(websocket: ServerConnection) -> None:
            for message in websocket:
                websocket.send(f"{release}:{message}")

        return echo

    with serve(echo_as("old"), "127.0.0.1", 0) as old, serve(echo_as("new"), "127.0.0.1", 0) as new:
        for server in (old, new):
            threading.Thread(target=server.serve_forever, daemon=True).start()
        caddy.admin.ensure_server(SERVER, server_config(http_port=caddy.http_port))
        rid = route_id("test", "chat")
        caddy.admin.set_route(
            SERVER, app_route(route_id=rid, hosts=["chat.localhost"], upstreams=[address(old)])
        )

        with open_websocket(caddy, "chat.localhost") as websocket:
            websocket.send("hi")
            assert websocket.recv(timeout=5) == "old:hi"

            # A deploy switches the route to the new release (and another app's route appears): each is a
            # config reload, which without stream_close_delay closes every proxied WebSocket with 1001.
            caddy.admin.set_route(
                SERVER, app_route(route_id=rid, hosts=["chat.localhost"], upstreams=[address(new)])
            )
            caddy.admin.set_route(
                SERVER,
                app_route(
                    route_id=route_id("test", "other"), hosts=["other.localhost"], upstreams=["127.0.0.1:9"]
                ),
            )

            websocket.send("still there?")
            assert websocket.recv(timeout=5) == "old:still there?"
        with open_websocket(caddy, "chat.localhost") as websocket:
            websocket.send("hi")
            assert websocket.recv(timeout=5) == "new:hi"
        old.shutdown()
        new.shutdown()


def address(server: Server) -> str:
    return f"127.0.0.1:{server.socket.getsockname()[1]}"


def open_websocket(caddy: Caddy, host: str) -> ClientConnection:
    """A WebSocket through Caddy's HTTP port, asking for `host` (no DNS needed for *.localhost)."""
    sock = socket.create_connection(("127.0.0.1", caddy.http_port))
    return connect(f"ws://{host}:{caddy.http_port}/", sock=sock)


def test_a_refused_change_raises_temporary_error_with_caddys_message(caddy: Caddy) -> None:
    caddy.admin.ensure_server(SERVER, server_config(http_port=caddy.http_port))

    with pytest.raises(TemporaryError, match="not-a-handler"):
        caddy.admin.set_route(SERVER, {"@id": "broken", "handle": [{"handler": "not-a-handler"}]})

    assert caddy.admin.routes(SERVER) == [fallback_route()]


def test_an_unreachable_admin_api_raises_temporary_error() -> None:
    admin = CaddyAdmin(f"127.0.0.1:{free_port()}", timeout=1)

    assert not admin.is_up()
    with pytest.raises(TemporaryError, match="did not answer"):
        admin.routes(SERVER)


@pytest.fixture
def slow_upstream() -> Iterator[str]:
    """An HTTP server on this host that answers `GET /?seconds=N` after N seconds."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seconds = float(self.path.partition("seconds=")[2] or 0)
            time.sleep(seconds)
            body = f"slept {seconds:g}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_75_second_request_is_not_cut_and_a_per_app_cap_is(caddy: Caddy, slow_upstream: str) -> None:
    caddy.admin.ensure_server(SERVER, server_config(http_port=caddy.http_port))
    caddy.admin.set_route(
        SERVER,
        app_route(route_id=route_id("test", "llm"), hosts=["llm.localhost"], upstreams=[slow_upstream]),
    )
    caddy.admin.set_route(
        SERVER,
        app_route(
            route_id=route_id("test", "capped"),
            hosts=["capped.localhost"],
            upstreams=[slow_upstream],
            request_timeout=2,
        ),
    )
    results: dict[str, httpx.Response] = {}

    def call(host: str, seconds: int) -> None:
        results[host] = httpx.get(
            f"http://127.0.0.1:{caddy.http_port}/?seconds={seconds}",
            headers={"Host": host},
            timeout=120,
            trust_env=False,
        )

    # Side by side, so the test costs one long request.
    threads = [
        threading.Thread(target=call, args=("llm.localhost", 75)),
        threading.Thread(target=call, args=("capped.localhost", 10)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert (results["llm.localhost"].status_code, results["llm.localhost"].text) == (200, "slept 75")
    assert results["capped.localhost"].status_code == 504
