"""Live streams through the real app: a deployment's log resumed from an offset (WebSocket and chunked
HTTP), status changes pushed to followers, and who may open a socket."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from api.services.deployments import deployment_log
from api.services.runtime_logs import read_logs
from core.db import session_scope
from core.deploy_log import DeployLog
from core.models import Deployment
from core.settings import get_settings
from tests.api.test_access import user_in
from tests.api.test_operations import LOGS, FakeRuntime

LOG = "/api/v1/apps/hello/deployments/{id}/logs"


@pytest.fixture
def deployment(client: TestClient, auth: dict[str, str], queued: Callable[[], list[int]]) -> int:
    """A queued deployment of app `hello` (no worker runs it: the tests write its log)."""
    created = client.post(
        "/api/v1/apps", json={"name": "hello", "repo_url": "https://github.com/o/hello.git"}, headers=auth
    )
    assert created.status_code == 201, created.text
    accepted = client.post("/api/v1/apps/hello/deployments", headers=auth)
    assert accepted.status_code == 202, accepted.text
    return int(accepted.json()["id"])


def live_log(deployment_id: int) -> DeployLog:
    settings = get_settings()
    with session_scope() as session:
        row = session.get(Deployment, deployment_id)
        assert row is not None
        return deployment_log(redis.Redis.from_url(settings.redis_url), settings, row)


def set_status(deployment_id: int, status: str) -> None:
    """Change the status through the ORM and commit, as the pipeline does."""
    with session_scope() as session:
        row = session.get(Deployment, deployment_id)
        assert row is not None
        row.status = status


def save_log(deployment_id: int, log: DeployLog) -> None:
    """What the pipeline does once a deployment has ended: the text to the database, the stream ended."""
    with session_scope() as session:
        row = session.get(Deployment, deployment_id)
        assert row is not None
        row.log = log.text()
        log.end()


def next_message(socket: WebSocketTestSession, timeout: float = 10) -> dict[str, Any]:
    """The next JSON message, or `{"close": code}` for the close frame; fails after `timeout` seconds."""
    answer: queue.Queue[dict[str, Any]] = queue.Queue()
    threading.Thread(target=lambda: answer.put(socket.receive()), daemon=True).start()
    try:
        message = answer.get(timeout=timeout)
    except queue.Empty:
        pytest.fail(f"no message within {timeout} s")
    if message["type"] == "websocket.close":
        return {"close": message["code"]}
    return dict(json.loads(message["text"]))


def messages(socket: WebSocketTestSession, count: int) -> list[dict[str, Any]]:
    return [next_message(socket) for _ in range(count)]


def lines(*numbers: int) -> list[dict[str, Any]]:
    return [{"type": "line", "offset": n, "text": f"line {n}"} for n in numbers]


@pytest.fixture
def refused(client: TestClient) -> Iterator[Callable[..., int]]:
    def connect(url: str, **kwargs: Any) -> int:
        with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect(url, **kwargs):
            pass
        return closed.value.code

    yield connect


def test_a_running_deployments_log_resumes_from_an_offset_without_gap_or_repeat(
    client: TestClient, auth: dict[str, str], deployment: int
) -> None:
    log = live_log(deployment)
    for n in (1, 2, 3):
        log.append(f"line {n}")
    url = f"{LOG.format(id=deployment)}/ws"

    with client.websocket_connect(url, headers=auth) as socket:
        assert messages(socket, 4) == [{"type": "status", "status": "queued"}, *lines(1, 2, 3)]
    log.append("line 4\nline 5")  # text with a newline is two lines, as the saved text counts them

    with client.websocket_connect(f"{url}?offset=3", headers=auth) as socket:
        assert messages(socket, 3) == [{"type": "status", "status": "queued"}, *lines(4, 5)]
        set_status(deployment, "building")
        log.append("line 6")
        assert messages(socket, 2) == [{"type": "status", "status": "building"}, *lines(6)]
        set_status(deployment, "live")
        log.append("line 7")  # the pipeline still logs a line or two after going live
        save_log(deployment, log)
        assert messages(socket, 4) == [
            {"type": "status", "status": "live"},
            *lines(7),
            {"type": "end", "status": "live"},
            {"close": 1000},
        ]

    with client.websocket_connect(f"{url}?offset=5", headers=auth) as socket:  # now from the database
        assert messages(socket, 5) == [
            {"type": "status", "status": "live"},
            *lines(6, 7),
            {"type": "end", "status": "live"},
            {"close": 1000},
        ]


def test_a_finished_deployments_log_resumes_from_an_offset(
    client: TestClient, auth: dict[str, str], deployment: int
) -> None:
    log = live_log(deployment)
    for n in range(1, 6):
        log.append(f"line {n}")
    set_status(deployment, "failed")
    save_log(deployment, log)
    log.restart()  # the stream has expired: only the database has the log
    url = f"{LOG.format(id=deployment)}/ws?offset=2"

    with client.websocket_connect(url, headers=auth) as socket:
        assert messages(socket, 6) == [
            {"type": "status", "status": "failed"},
            *lines(3, 4, 5),
            {"type": "end", "status": "failed"},
            {"close": 1000},
        ]
    plain = client.get(LOG.format(id=deployment), params={"offset": 2}, headers=auth)
    followed = client.get(LOG.format(id=deployment), params={"offset": 4, "follow": 1}, headers=auth)
    assert plain.text == "line 3\nline 4\nline 5\n"
    assert followed.text == "line 5\n"
    assert client.get(LOG.format(id=deployment), params={"offset": 9}, headers=auth).text == ""


def test_chunked_http_follows_from_an_offset_until_the_deployment_ends(
    client: TestClient, auth: dict[str, str], deployment: int
) -> None:
    log = live_log(deployment)
    for n in (1, 2, 3):
        log.append(f"line {n}")
    assert client.get(LOG.format(id=deployment), params={"offset": 1}, headers=auth).text == (
        "line 2\nline 3\n"
    )

    def finish_later() -> None:
        time.sleep(0.5)  # while the request below follows the stream
        log.append("line 4")
        set_status(deployment, "failed")
        save_log(deployment, log)

    finisher = threading.Thread(target=finish_later)
    finisher.start()
    followed = client.get(LOG.format(id=deployment), params={"offset": 2, "follow": 1}, headers=auth)
    finisher.join()

    assert followed.status_code == 200
    assert followed.text == "line 3\nline 4\n"


def test_followers_of_an_app_see_each_status_its_deployments_take(
    client: TestClient, auth: dict[str, str], deployment: int, token: str
) -> None:
    # A browser cannot set headers on a WebSocket: the token goes in the query instead.
    with client.websocket_connect(f"/api/v1/apps/hello/events/ws?access_token={token}") as socket:
        set_status(deployment, "building")
        assert next_message(socket) == {"type": "deployment", "id": deployment, "status": "building"}
        second = client.post("/api/v1/apps/hello/deployments", headers=auth).json()["id"]
        assert next_message(socket) == {"type": "deployment", "id": second, "status": "queued"}
        set_status(deployment, "failed")
        assert next_message(socket) == {"type": "deployment", "id": deployment, "status": "failed"}


def test_sockets_need_a_token_that_may_read_the_app(
    client: TestClient, auth: dict[str, str], deployment: int, refused: Callable[..., int]
) -> None:
    assert client.post("/api/v1/teams", json={"name": "beta"}, headers=auth).status_code == 201
    outsider = user_in(client, auth, "mallory", "beta", "owner")
    paths = [f"{LOG.format(id=deployment)}/ws", "/api/v1/apps/hello/events/ws", "/api/v1/apps/hello/logs/ws"]

    for path in paths:
        assert refused(path) == 4401, path
        assert refused(f"{path}?access_token=dy_not-a-token") == 4401, path
        assert refused(path, headers=outsider) == 4404, path
        assert refused(path.replace("hello", "nothing"), headers=auth) == 4404, path
    assert refused(f"{LOG.format(id=deployment + 7)}/ws", headers=auth) == 4404
    assert refused("/api/v1/apps/hello/logs/ws?since=yesterday", headers=auth) == 4422
    assert client.get(LOG.format(id=deployment), headers=outsider).status_code == 404


def test_runtime_lines_resume_after_a_time_at_the_precision_given() -> None:
    runtime: Any = FakeRuntime(LOGS)  # the engine's `since` is whole seconds: the finer cut is ours

    def after(since: str) -> str:
        return read_logs(runtime, "hello", process=None, tail=None, since=since)

    assert after("2026-11-22T23:50:02.123456788Z") == (
        "2026-11-22T23:50:02.123456Z worker.1 | ready\n2026-11-22T23:50:03.500000Z web.1 | GET /\n"
    )
    assert after("2026-11-22T23:50:02.123456Z") == "2026-11-22T23:50:03.500000Z web.1 | GET /\n"
    assert after("2026-11-22T23:50:03Z") == ""
