"""The container install (docker-compose.yml) on the real engine: up, an app deployed through it answering
through the compose Caddy, a restart of api, worker and beat without one failed request, and down then up
keeping apps, env and deployments; then the same install on PostgreSQL (deploy/compose.postgres.yml).

Each test brings its stack up with one Compose and back up after `down` with the other: Debian's Compose v1
(`docker-compose`) then v2 (`docker compose`) on SQLite, v2 then v1 on PostgreSQL. Each has its own project
name and DOCKYARD_INSTANCE, which keep it away from other tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest

from tests.integration.conftest import remove_owned
from tests.platform import Repo, eventually, fastapi_app, free_port, git

REPO_ROOT = Path(__file__).resolve().parents[2]
IMAGE = "dockyard:compose-test"  # kept between runs: its dependency layer is the slow part of the build
GIT_PORT = 8000
SQLITE = ("docker-compose.yml",)
POSTGRES = ("docker-compose.yml", "deploy/compose.postgres.yml")


@dataclass
class Stack:
    """One compose project of Dockyard, driven by Compose v1 or v2."""

    project: str
    instance: str
    env: dict[str, str]
    env_file: Path
    api: str
    http_port: int
    files: tuple[str, ...]
    token: str = ""
    log: list[str] = field(default_factory=list)

    def compose(self, *args: str, v2: bool = False, timeout: float = 600) -> str:
        """Run a compose command on this project; its output (a failure shows it)."""
        binary = ["docker", "compose"] if v2 else ["docker-compose"]
        command = [*binary, "--env-file", str(self.env_file)]
        for file in self.files:
            command += ["-f", str(REPO_ROOT / file)]
        command += ["-p", self.project, *args]
        done = subprocess.run(
            command, cwd=REPO_ROOT, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        output = done.stdout + done.stderr
        self.log.append(f"$ {' '.join(command)}\n{output}")
        assert done.returncode == 0, f"{' '.join(command)} failed:\n{output}"
        return done.stdout

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.request(
            method, f"{self.api}{path}", headers=headers, timeout=30, trust_env=False, **kwargs
        )

    def api_answers(self) -> bool:
        try:
            return httpx.get(f"{self.api}/healthz", timeout=2, trust_env=False).status_code == 200
        except httpx.HTTPError:
            return False

    def app_page(self, app: str) -> httpx.Response:
        """A request to the app through the compose Caddy, by Host header."""
        return httpx.get(
            f"http://127.0.0.1:{self.http_port}/",
            headers={"Host": f"{app}.localhost"},
            timeout=5,
            trust_env=False,
        )

    def app_says(self, app: str, greeting: str) -> bool:
        try:
            response = self.app_page(app)
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and response.json().get("greeting") == greeting

    def logs(self) -> str:
        """The services' last log lines, for failure messages."""
        return self.compose("logs", "--tail=40")[-6000:]


@pytest.fixture
def docker_engine() -> Iterator[docker.DockerClient]:
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as error:
        pytest.fail(f"a Docker engine is required for the compose test: {error}")
    yield client
    client.close()


@contextmanager
def running_stack(
    tmp_path: Path, docker_engine: docker.DockerClient, files: tuple[str, ...], **settings: str
) -> Iterator[Stack]:
    """A compose project of its own on `files`, with `settings` in its environment; removed afterwards with
    its containers, volumes, networks and apps' images."""
    run = uuid.uuid4().hex[:8]
    api_port, http_port, https_port = free_port(), free_port(), free_port()
    # Nothing of this shell's Dockyard settings (or a developer's .env) reaches the stack.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DOCKYARD_", "COMPOSE_"))}
    env.update(
        DOCKYARD_IMAGE=IMAGE,
        DOCKYARD_INSTANCE=f"compose-{run}",
        DOCKYARD_API_LISTEN=f"127.0.0.1:{api_port}",
        DOCKYARD_HTTP_PORT=str(http_port),
        DOCKYARD_HTTPS_PORT=str(https_port),
        DOCKYARD_PUBLIC_URL=f"http://127.0.0.1:{api_port}",
        **settings,
    )
    bundle = os.environ.get("DOCKYARD_BUILD_CA_BUNDLE")
    if bundle:
        # Trusted by app builds (mounted) and by the Dockyard image's own build (deploy/build-ca/).
        env["DOCKYARD_BUILD_CA_BUNDLE"] = bundle
        shutil.copyfile(bundle, REPO_ROOT / "deploy" / "build-ca" / "host.crt")
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    stack = Stack(
        project=f"dyc{run}",
        instance=f"compose-{run}",
        env=env,
        env_file=env_file,
        api=f"http://127.0.0.1:{api_port}",
        http_port=http_port,
        files=files,
    )
    try:
        yield stack
    finally:
        for container in docker_engine.containers.list(all=True, filters={"name": f"{stack.project}-git"}):
            container.remove(force=True)
        stack.compose("down", "--volumes", "--remove-orphans", v2=True)
        remove_owned(docker_engine, stack.instance)


@pytest.fixture
def stack(tmp_path: Path, docker_engine: docker.DockerClient) -> Iterator[Stack]:
    """The install as docker-compose.yml alone makes it: SQLite on the data volume."""
    with running_stack(tmp_path, docker_engine, SQLITE) as running:
        yield running


@pytest.fixture
def postgres_stack(tmp_path: Path, docker_engine: docker.DockerClient) -> Iterator[Stack]:
    """The install with deploy/compose.postgres.yml: PostgreSQL in its own container, on its own volume."""
    with running_stack(tmp_path, docker_engine, POSTGRES, POSTGRES_PASSWORD=uuid.uuid4().hex) as running:
        yield running


def serve_git(client: docker.DockerClient, stack: Stack, remote: Path) -> str:
    """Serve the bare repositories under `remote` over plain HTTP on the platform's network (as GitHub would
    be reached over the internet); the base URL."""
    name = f"{stack.project}-git"
    client.containers.run(
        IMAGE,
        ["python", "-m", "http.server", str(GIT_PORT), "--directory", "/srv"],
        name=name,
        network=f"{stack.project}_platform",
        volumes={str(remote): {"bind": "/srv", "mode": "ro"}},
        detach=True,
        remove=True,
    )
    return f"http://{name}:{GIT_PORT}"


def push(repo: Repo, files: dict[str, str], message: str) -> str:
    """Commit and push; the dumb HTTP protocol needs the remote's info files refreshed."""
    sha = repo.commit(files, message)
    git(repo.bare, "update-server-info")
    return sha


def wait_live(stack: Stack, app: str, deployment: int, timeout: float = 600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = stack.call("GET", f"/api/v1/apps/{app}/deployments/{deployment}").json()
        if found["status"] in ("live", "failed", "superseded"):
            assert found["status"] == "live", stack.call(
                "GET", f"/api/v1/apps/{app}/deployments/{deployment}/logs"
            ).text[-3000:]
            return dict(found)
        time.sleep(1)
    raise AssertionError(f"deployment {deployment} not final after {timeout} s:\n{stack.logs()}")


def start(stack: Stack, *, v2: bool) -> None:
    """Build the Dockyard image (its dependency layer is cached), bring the stack up with Compose v2 or v1,
    wait until the API answers, and create an API token."""
    stack.compose("build", timeout=900)
    stack.compose("up", "-d", v2=v2)
    assert eventually(stack.api_answers, timeout=180), stack.logs()
    token = stack.compose("exec", "-T", "api", "dockyard", "token", "create", "--name", "ci", v2=v2)
    stack.token = token.split()[-1]


def deploy_hello(stack: Stack, docker_engine: docker.DockerClient, tmp_path: Path) -> int:
    """Create the app `hello` from a repository served on the platform's network, set its GREETING and deploy
    it; once it answers through the compose Caddy, the deployment's id."""
    repo = Repo(tmp_path / "git")
    base = serve_git(docker_engine, stack, repo.root / "remote")
    push(repo, fastapi_app("v1"), "v1")
    created = stack.call(
        "POST",
        "/api/v1/apps",
        json={"name": "hello", "repo_url": f"{base}/{repo.full_name}.git", "branch": repo.branch},
    )
    assert created.status_code == 201, created.text
    assert stack.call("PUT", "/api/v1/apps/hello/env", json={"GREETING": "from compose"}).status_code == 200
    deployment = int(stack.call("POST", "/api/v1/apps/hello/deployments").json()["id"])
    wait_live(stack, "hello", deployment)
    assert eventually(lambda: stack.app_says("hello", "from compose"), timeout=30), stack.logs()
    return deployment


def down_then_up(stack: Stack, docker_engine: docker.DockerClient, *, v2: bool) -> None:
    """`down` with one Compose (the app keeps running, unreachable without the proxy), then `up` with the
    other: v2 when `v2`."""
    docker_engine.containers.get(f"{stack.project}-git").remove(force=True)  # it is on the platform network
    stack.compose("down", v2=not v2)
    running = docker_engine.containers.list(
        filters={"label": [f"dockyard.instance={stack.instance}", "dockyard.app=hello"]}
    )
    assert [c.labels["dockyard.service"] for c in running] == ["web"]
    stack.compose("up", "-d", v2=v2)
    assert eventually(stack.api_answers, timeout=180), stack.logs()


def assert_hello_kept(stack: Stack, deployment: int) -> None:
    """`hello` answers again, with its env and its one deployment, still live."""
    assert eventually(lambda: stack.app_says("hello", "from compose"), timeout=60), stack.logs()
    app = stack.call("GET", "/api/v1/apps/hello").json()
    assert app["live_deployment"]["id"] == deployment
    assert "GREETING" in stack.call("GET", "/api/v1/apps/hello/env").text
    assert [d["id"] for d in stack.call("GET", "/api/v1/apps/hello/deployments").json()] == [deployment]


def delete_hello(stack: Stack, docker_engine: docker.DockerClient) -> None:
    """Delete `hello` through the stack; its containers go with it."""
    assert stack.call("DELETE", "/api/v1/apps/hello").status_code == 204
    leftovers = docker_engine.containers.list(
        all=True, filters={"label": [f"dockyard.instance={stack.instance}", "dockyard.app=hello"]}
    )
    assert leftovers == []


class Load:
    """Requests to the app through the proxy, one every 50 ms, until stopped; counts what failed."""

    def __init__(self, stack: Stack, app: str) -> None:
        self.stack, self.app = stack, app
        self.ok = 0
        self.failures: list[str] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.done.is_set():
            try:
                response = self.stack.app_page(self.app)
                if response.status_code == 200:
                    self.ok += 1
                else:
                    self.failures.append(f"{response.status_code} {response.text[:100]}")
            except httpx.HTTPError as error:
                self.failures.append(repr(error))
            self.done.wait(0.05)

    def __enter__(self) -> Load:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.done.set()
        self.thread.join()


def test_compose_install_serves_apps_across_restarts_and_down_up(
    stack: Stack, docker_engine: docker.DockerClient, tmp_path: Path
) -> None:
    # Up with Compose v1: the Dockyard image (built here), Redis and Caddy from the mirror.
    start(stack, v2=False)
    deployment = deploy_hello(stack, docker_engine, tmp_path)

    # The control plane restarts under light load: the app, not a child of it, never misses a request.
    with Load(stack, "hello") as load:
        time.sleep(1)
        stack.compose("restart", "api", "worker", "beat")
        assert eventually(stack.api_answers, timeout=120), stack.logs()
        time.sleep(3)  # the restarted beat's first reconcile pass has run
    assert load.failures == [], load.failures[:5]
    assert load.ok > 50

    down_then_up(stack, docker_engine, v2=True)
    assert_hello_kept(stack, deployment)
    delete_hello(stack, docker_engine)


def test_compose_install_on_postgresql_keeps_apps_in_postgresql_across_down_and_up(
    postgres_stack: Stack, docker_engine: docker.DockerClient, tmp_path: Path
) -> None:
    stack = postgres_stack
    # Up with Compose v2: PostgreSQL initialises its empty volume and is healthy before the API migrates.
    start(stack, v2=True)
    deployment = deploy_hello(stack, docker_engine, tmp_path)

    down_then_up(stack, docker_engine, v2=False)
    assert_hello_kept(stack, deployment)

    # Kept in PostgreSQL, on its volume: no SQLite database was made on the data volume.
    query = (
        "select a.name, e.key, d.id, d.status from apps a"
        " join env_vars e on e.app_id = a.id join deployments d on d.app_id = a.id"
    )
    psql = ("exec", "-T", "postgres", "psql", "-U", "dockyard", "-d", "dockyard", "-Atc")
    assert stack.compose(*psql, query).split() == [f"hello|GREETING|{deployment}|live"]
    assert "dockyard.db" not in stack.compose("exec", "-T", "api", "ls", "-A", "/var/lib/dockyard").split()

    delete_hello(stack, docker_engine)
    assert stack.compose(*psql, "select count(*) from apps").split() == ["0"]
