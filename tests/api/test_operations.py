"""Operating an app through the API: scale, limits, restart, stop and start, rollback, run, logs, delete —
what each answers, and every way a request can be refused."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from typing import Any

import docker
import pytest
import redis
from fastapi.testclient import TestClient
from kombu.exceptions import OperationalError
from sqlalchemy import select

from api import tasks
from api.services.releases import sync_services
from api.services.runtime_logs import follow_logs, read_logs
from core import labels
from core.celery_app import celery_app
from core.db import session_scope
from core.models import App, Deployment, Service
from core.settings import get_settings

REPO = "https://github.com/octo-org/hello-world.git"
PLAN = {"processes": {"web": "uvicorn main:app", "worker": "celery -A tasks worker", "beat": "celery beat"}}
PROBLEM_JSON = "application/problem+json"


@pytest.fixture
def app(client: TestClient, auth: dict[str, str]) -> str:
    response = client.post("/api/v1/apps", json={"name": "hello", "repo_url": REPO}, headers=auth)
    assert response.status_code == 201
    return "hello"


@pytest.fixture
def reconcile_passes() -> Iterator[Callable[[], int]]:
    """How many reconcile passes the API put on this run's real Redis queue."""
    client = redis.Redis.from_url(get_settings().redis_url)
    queue = celery_app.conf.task_routes["api.tasks.reconcile"]["queue"]
    client.delete(queue)
    yield lambda: int(client.llen(queue))
    client.delete(queue)


@pytest.fixture
def docker_client() -> Iterator[docker.DockerClient]:
    client = docker.from_env()
    yield client
    client.close()


@pytest.fixture
def kept_image(docker_client: docker.DockerClient) -> Iterator[str]:
    """A release image that exists on the engine (an empty one, labelled as this instance's)."""
    instance = get_settings().instance
    tag = f"{instance}/hello:kept"
    dockerfile = f"FROM scratch\nLABEL {labels.INSTANCE}={instance} {labels.APP}=hello\n".encode()
    docker_client.images.build(fileobj=io.BytesIO(dockerfile), tag=tag, rm=True)
    yield tag
    docker_client.images.remove(tag, force=True)


def add_deployments(*rows: dict[str, Any]) -> list[int]:
    """Deployments of app `hello` as the pipeline leaves them, oldest first; services follow the plan."""
    ids = []
    with session_scope() as session:
        app = session.scalar(select(App).where(App.name == "hello"))
        assert app is not None
        for fields in rows:
            deployment = Deployment(
                app_id=app.id, trigger="push", ref="main", commit="c" * 40, plan=PLAN, **fields
            )
            session.add(deployment)
            session.flush()
            ids.append(deployment.id)
        sync_services(session, app, PLAN)
    return ids


def services() -> dict[str, tuple[int, str | None, float | None]]:
    with session_scope() as session:
        rows = session.scalars(select(Service)).all()
        return {row.name: (row.replicas, row.memory, row.cpus) for row in rows}


def deployment_row(deployment_id: int) -> tuple[str, str, int | None]:
    with session_scope() as session:
        deployment = session.get(Deployment, deployment_id)
        assert deployment is not None
        return deployment.status, deployment.trigger, deployment.source_deployment_id


def assert_problem(response: Any, status: int, detail: str, where: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["detail"] == detail
    if where is not None:
        assert response.json()["where"] == where


# --- every operation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/scale", {"web": 1}),
        ("PUT", "/processes/web/limits", {"memory": "512m"}),
        ("POST", "/restart", None),
        ("POST", "/stop", None),
        ("POST", "/start", None),
        ("POST", "/rollback", None),
        ("POST", "/run", {"command": "true"}),
        ("GET", "/logs", None),
        ("DELETE", "", None),
    ],
)
def test_unknown_apps_are_404(
    client: TestClient, auth: dict[str, str], method: str, path: str, body: Any
) -> None:
    response = client.request(method, f"/api/v1/apps/nope{path}", json=body, headers=auth)

    assert_problem(response, 404, "no app named 'nope'; `GET /api/v1/apps` lists yours")


def test_operations_need_a_token(client: TestClient, app: str) -> None:
    assert client.post(f"/api/v1/apps/{app}/stop").status_code == 401
    assert client.delete(f"/api/v1/apps/{app}").status_code == 401


def test_openapi_documents_the_operations(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    for path in (
        "scale",
        "processes/{process}/limits",
        "restart",
        "stop",
        "start",
        "rollback",
        "run",
        "logs",
    ):
        assert f"/api/v1/apps/{{name}}/{path}" in paths
    assert "delete" in paths["/api/v1/apps/{name}"]


# --- scale -------------------------------------------------------------------------------------------


def test_scale_sets_replicas_and_queues_a_reconcile_pass(
    client: TestClient, auth: dict[str, str], app: str, reconcile_passes: Callable[[], int]
) -> None:
    add_deployments({"status": "live", "image": "test/hello:1"})

    response = client.post(f"/api/v1/apps/{app}/scale", json={"web": 2, "worker": 3, "beat": 0}, headers=auth)

    assert response.status_code == 200, response.text
    assert [(s["name"], s["replicas"], s["containers"]) for s in response.json()] == [
        ("beat", 0, []),
        ("web", 2, []),
        ("worker", 3, []),
    ]
    assert services() == {"web": (2, None, None), "worker": (3, None, None), "beat": (0, None, None)}
    assert reconcile_passes() == 1


@pytest.mark.parametrize(
    ("body", "where", "detail"),
    [
        (
            {"web": 2, "clock": 1},
            "clock",
            "the live release has no `clock` process; it runs web, beat, worker",
        ),
        ({"web": -1}, "web", "must be 0 or more replicas"),
        ({"web": 2, "worker": 21}, "worker", "must be at most 20 replicas"),
        (
            {"web": 2, "beat": 2},
            "beat",
            "beat runs at most one replica: two would send every periodic task twice",
        ),
        ({}, "body", 'name at least one process and its replicas, e.g. {"web": 2}'),
    ],
)
def test_scale_refuses_what_cannot_run(
    client: TestClient,
    auth: dict[str, str],
    app: str,
    reconcile_passes: Callable[[], int],
    body: dict[str, int],
    where: str,
    detail: str,
) -> None:
    add_deployments({"status": "live", "image": "test/hello:1"})

    response = client.post(f"/api/v1/apps/{app}/scale", json=body, headers=auth)

    assert_problem(response, 422, f"{where}: {detail}", where)
    assert services()["web"] == (1, None, None), "nothing changes when any process is refused"
    assert reconcile_passes() == 0


def test_scale_before_a_release_names_the_processes_the_app_has(
    client: TestClient, auth: dict[str, str], app: str
) -> None:
    response = client.post(f"/api/v1/apps/{app}/scale", json={"worker": 1}, headers=auth)

    assert_problem(response, 422, "worker: app 'hello' has no `worker` process; it runs web", "worker")


def test_scale_takes_whole_numbers(client: TestClient, auth: dict[str, str], app: str) -> None:
    response = client.post(f"/api/v1/apps/{app}/scale", json={"web": "two"}, headers=auth)

    assert response.status_code == 422
    assert response.json()["detail"].startswith("web: Input should be a valid integer")


def test_scale_without_redis_is_503_but_keeps_the_new_scale(
    client: TestClient, auth: dict[str, str], app: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse() -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.reconcile, "delay", refuse)

    response = client.post(f"/api/v1/apps/{app}/scale", json={"web": 3}, headers=auth)

    assert response.status_code == 503
    assert response.json()["detail"].startswith("the new scale is saved, but Redis did not take")
    assert "the next periodic pass applies it once Redis is back" in response.json()["detail"]
    assert services()["web"] == (3, None, None)


# --- limits ------------------------------------------------------------------------------------------


def test_limits_of_a_live_app_roll_out_its_image(
    client: TestClient, auth: dict[str, str], app: str, queued: Callable[[], list[int]]
) -> None:
    [live] = add_deployments({"status": "live", "image": "test/hello:1"})

    response = client.put(
        f"/api/v1/apps/{app}/processes/worker/limits", json={"memory": "512m", "cpus": 0.5}, headers=auth
    )

    assert response.status_code == 202, response.text
    rollout = response.json()["deployment"]
    assert queued() == [rollout]
    assert deployment_row(rollout) == ("queued", "config", live)
    assert services()["worker"] == (1, "512m", 0.5)
    cleared = client.put(f"/api/v1/apps/{app}/processes/worker/limits", json={"memory": None}, headers=auth)
    assert cleared.status_code == 202
    assert services()["worker"] == (1, None, None)


def test_limits_before_a_release_are_kept_for_it(
    client: TestClient, auth: dict[str, str], app: str, queued: Callable[[], list[int]]
) -> None:
    response = client.put(f"/api/v1/apps/{app}/processes/web/limits", json={"memory": "1g"}, headers=auth)

    assert response.status_code == 202
    assert response.json() == {"deployment": None}
    assert queued() == []
    assert services()["web"] == (1, "1g", None)


@pytest.mark.parametrize(
    ("process", "body", "where", "detail"),
    [
        ("web", {"memory": "lots"}, "memory", "must be a size such as 512m or 1g (got 'lots')"),
        ("web", {"memory": "0m"}, "memory", "must be a size such as 512m or 1g (got '0m')"),
        ("web", {"cpus": 0}, "cpus", "must be a positive number such as 0.5 or 2"),
        ("web", {"cpus": -1.5}, "cpus", "must be a positive number such as 0.5 or 2"),
        ("clock", {"cpus": 1}, "clock", "app 'hello' has no `clock` process; it runs web"),
    ],
)
def test_limits_are_validated(
    client: TestClient,
    auth: dict[str, str],
    app: str,
    process: str,
    body: dict[str, Any],
    where: str,
    detail: str,
) -> None:
    response = client.put(f"/api/v1/apps/{app}/processes/{process}/limits", json=body, headers=auth)

    assert_problem(response, 422, f"{where}: {detail}", where)
    assert services()["web"] == (1, None, None)


# --- restart, stop, start ----------------------------------------------------------------------------


def test_restart_rolls_out_the_live_release(
    client: TestClient, auth: dict[str, str], app: str, queued: Callable[[], list[int]]
) -> None:
    [live] = add_deployments({"status": "live", "image": "test/hello:1"})

    response = client.post(f"/api/v1/apps/{app}/restart", headers=auth)

    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    assert queued() == [response.json()["id"]]
    assert deployment_row(response.json()["id"]) == ("queued", "restart", live)


def test_restart_needs_a_live_release(client: TestClient, auth: dict[str, str], app: str) -> None:
    add_deployments({"status": "failed"})

    response = client.post(f"/api/v1/apps/{app}/restart", headers=auth)

    assert_problem(
        response,
        409,
        "app 'hello' has no live release to restart; deploy it first: POST /api/v1/apps/hello/deployments",
    )


def test_stop_and_start_flip_stopped_and_queue_reconcile_passes(
    client: TestClient, auth: dict[str, str], app: str, reconcile_passes: Callable[[], int]
) -> None:
    add_deployments({"status": "live", "image": "test/hello:1"})
    assert client.get(f"/api/v1/apps/{app}", headers=auth).json()["stopped"] is False

    stopped = client.post(f"/api/v1/apps/{app}/stop", headers=auth)

    assert stopped.status_code == 200
    assert stopped.json()["stopped"] is True
    assert client.get(f"/api/v1/apps/{app}", headers=auth).json()["stopped"] is True
    assert reconcile_passes() == 1
    restart = client.post(f"/api/v1/apps/{app}/restart", headers=auth)
    assert_problem(
        restart, 409, "app 'hello' is stopped; start it (POST /api/v1/apps/hello/start), then restart it"
    )
    started = client.post(f"/api/v1/apps/{app}/start", headers=auth)
    assert started.status_code == 200
    assert started.json()["stopped"] is False
    assert reconcile_passes() == 2


# --- rollback ----------------------------------------------------------------------------------------


def test_rollback_picks_the_newest_earlier_release_whose_image_is_kept(
    client: TestClient, auth: dict[str, str], app: str, kept_image: str, queued: Callable[[], list[int]]
) -> None:
    kept, _gone, _same, _failed, live = add_deployments(
        {"status": "superseded", "image": kept_image},
        {"status": "superseded", "image": "test/hello:garbage-collected"},
        {"status": "superseded", "image": "test/hello:live"},  # the live image: rolling back changes nothing
        {"status": "failed"},
        {"status": "live", "image": "test/hello:live"},
    )

    response = client.post(f"/api/v1/apps/{app}/rollback", headers=auth)

    assert response.status_code == 202, response.text
    rollback = response.json()["id"]
    assert queued() == [rollback]
    assert deployment_row(rollback) == ("queued", "rollback", kept)
    assert deployment_row(live)[0] == "live", "the live release serves until the rollback is live"


def test_rollback_to_a_named_release(
    client: TestClient, auth: dict[str, str], app: str, kept_image: str, queued: Callable[[], list[int]]
) -> None:
    target, _newer, _live = add_deployments(
        {"status": "superseded", "image": kept_image},
        {"status": "superseded", "image": kept_image},
        {"status": "live", "image": "test/hello:live"},
    )

    response = client.post(f"/api/v1/apps/{app}/rollback", json={"deployment": target}, headers=auth)

    assert response.status_code == 202, response.text
    assert deployment_row(response.json()["id"]) == ("queued", "rollback", target)


def test_rollback_without_an_earlier_release_is_a_conflict(
    client: TestClient, auth: dict[str, str], app: str
) -> None:
    add_deployments(
        {"status": "superseded", "image": "test/hello:garbage-collected"},
        {"status": "live", "image": "test/hello:live"},
    )

    response = client.post(f"/api/v1/apps/{app}/rollback", headers=auth)

    assert response.status_code == 409
    assert response.json()["detail"].startswith("app 'hello' has no earlier release to roll back to")
    assert (
        'deploy a commit instead: POST /api/v1/apps/hello/deployments {"ref": "<commit>"}'
        in (response.json()["detail"])
    )


def test_rollback_targets_that_cannot_be_released(client: TestClient, auth: dict[str, str], app: str) -> None:
    failed, gone, live = add_deployments(
        {"status": "failed", "error": "pip failed"},
        {"status": "superseded", "image": "test/hello:garbage-collected"},
        {"status": "live", "image": "test/hello:live"},
    )
    redeploy = f'deploy its commit instead: POST /api/v1/apps/hello/deployments {{"ref": "{"c" * 40}"}}'

    def rollback_to(deployment_id: int) -> Any:
        return client.post(f"/api/v1/apps/{app}/rollback", json={"deployment": deployment_id}, headers=auth)

    assert_problem(rollback_to(999), 404, "app 'hello' has no deployment 999")
    assert_problem(
        rollback_to(failed),
        409,
        f"deployment {failed} never went live (it is failed), so there is no release to return to; "
        + redeploy,
    )
    assert_problem(
        rollback_to(gone),
        409,
        f"the image of deployment {gone} was garbage-collected (only the last releases are kept); {redeploy}",
    )
    assert_problem(
        rollback_to(live), 409, f"deployment {live} is the live release already; name an earlier one"
    )


# --- run, logs, delete -------------------------------------------------------------------------------


def test_run_needs_a_live_release_and_a_command(client: TestClient, auth: dict[str, str], app: str) -> None:
    nothing_live = client.post(f"/api/v1/apps/{app}/run", json={"command": "true"}, headers=auth)
    assert_problem(
        nothing_live,
        409,
        "app 'hello' has no live release to run a command in; deploy it first: "
        "POST /api/v1/apps/hello/deployments",
    )
    add_deployments({"status": "live", "image": "test/hello:1"})
    empty = client.post(f"/api/v1/apps/{app}/run", json={"command": "  "}, headers=auth)
    assert_problem(empty, 422, "command: must be a shell command, e.g. python manage.py migrate", "command")
    too_long = client.post(f"/api/v1/apps/{app}/run", json={"command": "true", "timeout": 0}, headers=auth)
    assert too_long.status_code == 422


def test_logs_of_an_app_without_containers_are_empty(
    client: TestClient, auth: dict[str, str], app: str
) -> None:
    response = client.get(f"/api/v1/apps/{app}/logs", headers=auth)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == ""
    unknown = client.get(f"/api/v1/apps/{app}/logs?process=clock", headers=auth)
    assert_problem(unknown, 422, "clock: app 'hello' has no `clock` process; it runs web", "clock")


def test_delete_waits_for_a_running_deployment(client: TestClient, auth: dict[str, str], app: str) -> None:
    _live, building = add_deployments({"status": "live", "image": "test/hello:1"}, {"status": "building"})

    response = client.delete(f"/api/v1/apps/{app}", headers=auth)

    assert_problem(
        response,
        409,
        f"deployment {building} of 'hello' is building; wait for deployment {building} to finish, "
        "then delete the app",
    )
    assert client.get(f"/api/v1/apps/{app}", headers=auth).status_code == 200


# --- runtime logs, without an engine ----------------------------------------------------------------


class FakeStream:
    """Log lines of one container; `close()` ends them as the engine's stream does."""

    def __init__(self, lines: list[str]) -> None:
        self.pending = list(lines)
        self.closed = threading.Event()

    def __iter__(self) -> Iterator[str]:
        yield from self.pending
        self.closed.wait(timeout=30)  # following: nothing more until closed

    def close(self) -> None:
        self.closed.set()


class FakeRuntime:
    def __init__(self, logs: dict[str, list[str]]) -> None:
        self.streams = {source: FakeStream(lines) for source, lines in logs.items()}

    def log_sources(self, app: str, process: str | None = None) -> list[dict[str, str]]:
        return [{"id": source, "source": source, "state": "running"} for source in self.streams]

    def logs(self, container_id: str, *, tail: int | None, follow: bool, since: float | None = None) -> Any:
        stream = self.streams[container_id]
        lines = stream.pending[-tail:] if tail else stream.pending
        return (iter(lines) if not follow else iter(stream)), stream


LOGS = {
    "web.1": ["2026-11-22T23:50:01.000000100Z started", "2026-11-22T23:50:03.5Z GET /"],
    "worker.1": ["2026-11-22T23:50:02.123456789Z ready"],
}


def test_logs_merge_containers_in_time_order() -> None:
    text = read_logs(FakeRuntime(LOGS), "hello", process=None, tail=100)  # type: ignore[arg-type]

    assert text == (
        "2026-11-22T23:50:01.000000Z web.1 | started\n"
        "2026-11-22T23:50:02.123456Z worker.1 | ready\n"
        "2026-11-22T23:50:03.500000Z web.1 | GET /\n"
    )
    assert read_logs(FakeRuntime(LOGS), "hello", process=None, tail=1) == (  # type: ignore[arg-type]
        "2026-11-22T23:50:03.500000Z web.1 | GET /\n"
    )


def test_following_logs_ends_every_stream_when_the_reader_stops() -> None:
    runtime = FakeRuntime(LOGS)
    lines = follow_logs(runtime, "hello", process=None, tail=10)  # type: ignore[arg-type]

    received = {next(line for line in lines if line) for _ in range(3)}
    lines.close()

    assert received == {
        "2026-11-22T23:50:01.000000Z web.1 | started\n",
        "2026-11-22T23:50:03.500000Z web.1 | GET /\n",
        "2026-11-22T23:50:02.123456Z worker.1 | ready\n",
    }
    assert all(stream.closed.is_set() for stream in runtime.streams.values())
