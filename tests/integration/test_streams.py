"""Live streams from a real `dockyard server` over real WebSockets: a deployment's log resumed from an
offset while it builds, and the app's runtime log resumed after a line's time — with the socket's token
kept out of the server's log."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from websockets.exceptions import ConnectionClosedOK
from websockets.sync.client import ClientConnection, connect

from tests.platform import Platform, Repo, fastapi_app

APP = "streams"


@pytest.fixture(scope="module")
def deployment(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> int:
    """The id of the app's first deployment, queued (not waited for)."""
    repo = Repo(tmp_path_factory.mktemp("git"), full_name="octo/streams")
    repo.commit(fastapi_app("v1"), "first version")
    platform.create_app(APP, repo)
    accepted = platform.call("POST", f"/api/v1/apps/{APP}/deployments", json={})
    assert accepted.status_code == 202, accepted.text
    return int(accepted.json()["id"])


def socket_url(platform: Platform, path: str, **params: Any) -> str:
    return f"ws://127.0.0.1:{platform.api_port}{path}?{urlencode(params)}"


def receive(socket: ClientConnection) -> dict[str, Any]:
    return dict(json.loads(socket.recv(timeout=300)))


def test_a_building_deployments_log_resumes_from_an_offset(platform: Platform, deployment: int) -> None:
    url = socket_url(
        platform, f"/api/v1/apps/{APP}/deployments/{deployment}/logs/ws", access_token=platform.token
    )
    first: list[dict[str, Any]] = []
    with connect(url, open_timeout=10) as socket:
        while len(first) < 3:
            message = receive(socket)
            if message["type"] == "line":
                first.append(message)
    rest: list[dict[str, Any]] = []
    with connect(f"{url}&offset={first[-1]['offset']}", open_timeout=10) as socket:
        while (message := receive(socket))["type"] != "end":
            rest.append(message)
        with pytest.raises(ConnectionClosedOK) as closed:
            socket.recv(timeout=10)

    assert message == {"type": "end", "status": "live"}, platform.logs(APP, deployment)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000
    statuses = [m["status"] for m in rest if m["type"] == "status"]
    assert statuses[-2:] == ["deploying", "live"]
    text = [m["text"] for m in first + rest if m["type"] == "line"]
    assert text == platform.logs(APP, deployment).splitlines()
    assert [m["offset"] for m in first + rest if m["type"] == "line"] == list(range(1, len(text) + 1))
    server_log = (platform.data_dir / "server.log").read_text(errors="replace")
    assert "logs/ws?access_token=***" in server_log
    assert platform.token not in server_log


def test_the_runtime_log_resumes_after_a_lines_time(platform: Platform, deployment: int) -> None:
    assert platform.wait_deployment(APP, deployment)["status"] == "live", platform.logs(APP, deployment)
    headers = {"Authorization": f"Bearer {platform.token}"}
    url = socket_url(platform, f"/api/v1/apps/{APP}/logs/ws", process="web", tail=0)
    with connect(url, additional_headers=headers, open_timeout=10) as socket:
        seen = until_request(platform, socket, "/first")[-1]
    platform.get_app_page(APP, "/second")  # written while nobody follows
    with connect(f"{url}&since={seen['time']}", additional_headers=headers, open_timeout=10) as socket:
        resumed = until_request(platform, socket, "/second", send=False)

    assert seen["source"] == "web.1"
    assert all(message["time"] > seen["time"] for message in resumed), resumed
    assert seen not in resumed
    as_text = platform.call("GET", f"/api/v1/apps/{APP}/logs", params={"since": seen["time"]}).text
    assert '"GET /second HTTP/1.1" 404' in as_text
    assert f"web.1 | {seen['text']}" not in as_text


def until_request(
    platform: Platform, socket: ClientConnection, path: str, *, send: bool = True
) -> list[dict[str, Any]]:
    """The messages up to the app's access line for `path` (requesting it until it shows when `send`)."""
    received: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if send:
            platform.get_app_page(APP, path)  # again: the socket attaches to the container a moment after
        try:
            message = dict(json.loads(socket.recv(timeout=1)))
        except TimeoutError:
            continue
        received.append(message)
        if f'"GET {path} HTTP/1.1" 404' in message["text"]:
            return received
    raise AssertionError(f"no access line for {path} within 30 s: {received}")
