"""Operating a deployed app, all real (`dockyard server`, Docker, Caddy): scale, run, logs, restart,
a volume across a deploy and a rollback, stop and start, and delete.

Tests run in order on one app, as an operator's day would go.
"""

from __future__ import annotations

import queue
import re
import threading
import time

import docker
import httpx
import pytest

from core import labels
from scheduler import proxy
from tests.platform import Platform, Repo, eventually

APP = "ops"
STAMPED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z (?P<source>[a-z]+\.\d+) \| (?P<text>.*)$")


def ops_app(version: str) -> dict[str, str]:
    """A FastAPI app that says its version and container, and keeps a note on its /data volume."""
    main = f'''import pathlib
import socket

from fastapi import FastAPI

app = FastAPI()
NOTE = pathlib.Path("/data/note")


@app.get("/")
def index():
    return {{"version": "{version}", "host": socket.gethostname()}}


@app.get("/note")
def read_note():
    return {{"note": NOTE.read_text() if NOTE.exists() else None}}


@app.post("/note")
def write_note():
    NOTE.write_text("written by {version}")
    return {{"note": NOTE.read_text()}}
'''
    return {"requirements.txt": "fastapi\nuvicorn\n", "main.py": main}


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    return Repo(tmp_path_factory.mktemp("git"), full_name="octo/ops")


@pytest.fixture(scope="module")
def v1(platform: Platform, repo: Repo) -> dict:
    """The app deployed once, with a volume at /data holding a note that v1 wrote."""
    repo.commit(ops_app("v1"), "first version")
    platform.create_app(APP, repo)
    volume = platform.call(
        "POST", f"/api/v1/apps/{APP}/volumes", json={"name": "data", "mount_path": "/data"}
    )
    assert volume.status_code == 201, volume.text
    deployment = deploy(platform)
    assert deployment["status"] == "live", platform.logs(APP, deployment["id"])
    written = httpx.post(f"http://127.0.0.1:{platform.http_port}/note", headers={"Host": host()}, timeout=10)
    assert written.json() == {"note": "written by v1"}
    return deployment


def host() -> str:
    return f"{APP}.localhost"


def deploy(platform: Platform) -> dict:
    accepted = platform.call("POST", f"/api/v1/apps/{APP}/deployments", json={})
    assert accepted.status_code == 202, accepted.text
    return platform.wait_deployment(APP, accepted.json()["id"])


def running(client: docker.DockerClient, instance: str, **extra: str) -> list[str]:
    """Names of the app's running containers (of a service, with `extra` labels)."""
    filters = {"label": labels.label_filters(labels.owned(instance, APP, **extra)), "status": "running"}
    return sorted(str(c.name) for c in client.containers.list(filters=filters))


def route_upstreams(platform: Platform, instance: str) -> list[str]:
    with proxy.CaddyAdmin(f"127.0.0.1:{platform.admin_port}") as admin:
        for route in admin.routes(instance):
            if route.get("@id") == proxy.route_id(instance, APP):
                return [upstream["dial"] for upstream in route["handle"][0]["upstreams"]]
    return []


def page(platform: Platform, path: str = "/") -> httpx.Response:
    return platform.get_app_page(APP, path)


def serves(platform: Platform, version: str) -> bool:
    try:
        response = page(platform)
    except httpx.HTTPError:
        return False
    return response.status_code == 200 and response.json()["version"] == version


class Prober:
    """Requests the app through Caddy without pause in a thread, counting what did not answer 200."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.stop = threading.Event()
        self.answers = 0
        self.failures: list[str] = []
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Prober:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=30)

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                response = page(self.platform)
                if response.status_code == 200:
                    self.answers += 1
                else:
                    self.failures.append(f"{response.status_code}: {response.text[:100]}")
            except httpx.HTTPError as error:
                self.failures.append(repr(error))
            time.sleep(0.05)


def test_scale_web_to_two_replicas_serves_from_both(
    platform: Platform, v1: dict, docker_client: docker.DockerClient, instance: str
) -> None:
    response = platform.call("POST", f"/api/v1/apps/{APP}/scale", json={"web": 2})

    assert response.status_code == 200, response.text
    assert [(s["name"], s["replicas"]) for s in response.json()] == [("web", 2)]
    web = [f"{instance}-{APP}-web-{v1['id']}-{n}" for n in (1, 2)]
    assert eventually(lambda: running(docker_client, instance, service="web") == web, timeout=30)
    assert eventually(lambda: len(route_upstreams(platform, instance)) == 2, timeout=30), (
        platform.server_log()
    )
    hosts: set[str] = set()
    assert eventually(lambda: hosts.add(page(platform).json()["host"]) or len(hosts) == 2, timeout=20)
    services = platform.call("GET", f"/api/v1/apps/{APP}/services").json()
    assert [(s["name"], s["status"], len(s["containers"])) for s in services] == [("web", "running", 2)]

    back = platform.call("POST", f"/api/v1/apps/{APP}/scale", json={"web": 1})

    assert back.status_code == 200
    assert eventually(lambda: running(docker_client, instance, service="web") == web[:1], timeout=30)
    assert eventually(lambda: len(route_upstreams(platform, instance)) == 1, timeout=30)
    assert page(platform).status_code == 200


def test_run_a_one_off_command_in_the_live_release(
    platform: Platform, v1: dict, docker_client: docker.DockerClient, instance: str
) -> None:
    response = platform.call(
        "POST", f"/api/v1/apps/{APP}/run", json={"command": "cat /data/note; echo; echo port=$PORT; exit 3"}
    )

    assert response.status_code == 200, response.text
    assert response.json() == {"exit_code": 3, "output": "written by v1\nport=8000\n"}
    ok = platform.call("POST", f"/api/v1/apps/{APP}/run", json={"command": "python -c 'print(6 * 7)'"})
    assert ok.json() == {"exit_code": 0, "output": "42\n"}
    one_offs = {"label": labels.label_filters({**labels.owned(instance, APP), labels.ONE_OFF: "run"})}
    assert docker_client.containers.list(all=True, filters=one_offs) == []


def test_logs_show_each_line_with_its_time_and_process(platform: Platform, v1: dict) -> None:
    page(platform, "/logged-request")

    response = platform.call("GET", f"/api/v1/apps/{APP}/logs", params={"process": "web", "tail": 50})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    lines = response.text.splitlines()
    assert lines and all(STAMPED.match(line) for line in lines), response.text
    assert {STAMPED.match(line)["source"] for line in lines} == {"web.1"}  # type: ignore[index]
    assert any("Uvicorn running on" in line for line in lines)
    assert any('"GET /logged-request HTTP/1.1" 404' in line for line in lines)
    assert lines == sorted(lines), "oldest first"
    last = platform.call("GET", f"/api/v1/apps/{APP}/logs", params={"tail": 1}).text.splitlines()
    assert last == lines[-1:]


def test_follow_logs_streams_new_lines(platform: Platform, v1: dict) -> None:
    lines: queue.Queue[str] = queue.Queue()
    stop = threading.Event()

    def read() -> None:
        url = f"{platform.api}/api/v1/apps/{APP}/logs?follow=true&tail=0"
        headers = {"Authorization": f"Bearer {platform.token}"}
        with httpx.stream("GET", url, headers=headers, timeout=httpx.Timeout(10, read=None)) as stream:
            for line in stream.iter_lines():
                lines.put(line)
                if stop.is_set():
                    return  # closing the stream is the client going away

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    seen: list[str] = []

    def followed() -> bool:
        page(platform, "/followed-request")  # again and again: the stream attaches a moment after it opens
        while not lines.empty():
            seen.append(lines.get())
        return any('"GET /followed-request HTTP/1.1" 404' in line for line in seen)

    try:
        assert eventually(followed, timeout=20, interval=0.5), seen
    finally:
        stop.set()
        page(platform, "/after")  # one more line, so the reader sees `stop` and disconnects
        reader.join(timeout=10)
    assert all(STAMPED.match(line) and line.split()[1] == "web.1" for line in seen), seen


def test_restart_rolls_out_a_new_deployment_without_dropping_requests(platform: Platform, v1: dict) -> None:
    before = platform.call("GET", f"/api/v1/apps/{APP}").json()["live_deployment"]["id"]

    with Prober(platform) as prober:
        response = platform.call("POST", f"/api/v1/apps/{APP}/restart")
        assert response.status_code == 202, response.text
        deployment = platform.wait_deployment(APP, response.json()["id"], timeout=120)

    assert deployment["status"] == "live", platform.logs(APP, deployment["id"])
    assert deployment["trigger"] == "restart"
    assert deployment["image"] == v1["image"]
    assert "Running the release command" not in platform.logs(APP, deployment["id"])
    assert platform.deployment(APP, before)["status"] == "superseded"
    assert prober.answers > 0
    assert prober.failures == []


def test_a_volume_keeps_its_file_across_a_deploy_and_a_rollback(
    platform: Platform, v1: dict, repo: Repo
) -> None:
    repo.commit(ops_app("v2"), "second version")
    v2 = deploy(platform)
    assert v2["status"] == "live", platform.logs(APP, v2["id"])
    assert page(platform).json()["version"] == "v2"
    assert page(platform, "/note").json() == {"note": "written by v1"}

    response = platform.call("POST", f"/api/v1/apps/{APP}/rollback")

    assert response.status_code == 202, response.text
    rollback = platform.wait_deployment(APP, response.json()["id"], timeout=120)
    assert rollback["status"] == "live", platform.logs(APP, rollback["id"])
    assert rollback["trigger"] == "rollback"
    assert rollback["image"] == v1["image"]
    assert page(platform).json()["version"] == "v1"
    assert page(platform, "/note").json() == {"note": "written by v1"}
    again = platform.call("POST", f"/api/v1/apps/{APP}/rollback", json={"deployment": rollback["id"]})
    assert again.status_code == 409


def test_stop_removes_everything_that_runs_and_start_brings_it_back(
    platform: Platform, v1: dict, docker_client: docker.DockerClient, instance: str
) -> None:
    stopped = platform.call("POST", f"/api/v1/apps/{APP}/stop")

    assert stopped.status_code == 200
    assert stopped.json()["stopped"] is True
    assert eventually(lambda: running(docker_client, instance) == [], timeout=30)
    assert eventually(lambda: page(platform).status_code == 404, timeout=30)
    assert "No app is deployed at this address" in page(platform).text

    started = platform.call("POST", f"/api/v1/apps/{APP}/start")

    assert started.status_code == 200
    assert started.json()["stopped"] is False
    assert eventually(lambda: serves(platform, "v1"), timeout=60), platform.server_log()


def test_delete_removes_the_app_and_keeps_its_volume_unless_asked(
    platform: Platform, v1: dict, docker_client: docker.DockerClient, instance: str
) -> None:
    owned = {"label": labels.label_filters(labels.owned(instance, APP))}
    volume = f"{instance}-{APP}-data"

    response = platform.call("DELETE", f"/api/v1/apps/{APP}")

    assert response.status_code == 204, response.text
    assert platform.call("GET", f"/api/v1/apps/{APP}").status_code == 404
    assert docker_client.containers.list(all=True, filters=owned) == []
    assert docker_client.networks.list(filters=owned) == []
    assert docker_client.images.list(filters=owned) == []
    assert route_upstreams(platform, instance) == []
    assert page(platform).status_code == 404
    assert [v.name for v in docker_client.volumes.list(filters=owned)] == [volume]

    # The same name again finds its data; deleting with volumes=true removes it.
    platform.call("POST", "/api/v1/apps", json={"name": APP, "repo_url": "file:///nowhere/octo/ops.git"})
    platform.call("POST", f"/api/v1/apps/{APP}/volumes", json={"name": "data", "mount_path": "/data"})
    response = platform.call("DELETE", f"/api/v1/apps/{APP}", params={"volumes": "true"})

    assert response.status_code == 204, response.text
    assert docker_client.volumes.list(filters=owned) == []
