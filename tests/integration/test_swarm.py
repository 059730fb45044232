"""SwarmRuntime on a real single-node swarm: deploy, scale to 2, rolling update, rollback.

Requests go the way the proxy's would: from a container on the app's overlay network to `{service}:{port}`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import replace

import docker
import docker.errors
import pytest

from core import labels
from core.errors import DeployError
from scheduler.desired import WEB, Release, app_network, desired_processes
from scheduler.reconcile import CreateService, UpdateService, diff_services
from scheduler.runtime.swarm import SwarmRuntime

pytestmark = pytest.mark.integration

BASE_IMAGE = "python:3.13-slim"
# Answers "<version> <hostname>" so a test can tell releases and tasks apart. Stdlib only: containers cannot
# reach PyPI over TLS here.
SERVER = """\
import http.server, os, socket

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"{os.environ['VERSION']} {socket.gethostname()}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

http.server.ThreadingHTTPServer(("", int(os.environ["PORT"])), Handler).serve_forever()
"""
# `each HOST PORT`: GET every address the name resolves to. `poll URL`: GET it until stopped.
PROBE = """\
import socket, sys, time, urllib.request

opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

def get(url):
    try:
        return "ok " + opener.open(url, timeout=2).read().decode()
    except Exception as error:
        return f"error {error!r}"

if sys.argv[1] == "each":
    host, port = sys.argv[2], int(sys.argv[3])
    for address in sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}):
        print(address, get(f"http://{address}:{port}/"), flush=True)
else:
    while True:
        print(time.monotonic(), get(sys.argv[2]), flush=True)
        time.sleep(0.05)
"""


@pytest.fixture(scope="module")
def swarm(docker_client: docker.DockerClient, instance: str) -> Iterator[None]:
    """A single-node swarm: joined only if the engine is not in one, and left only if we joined it."""
    initialized = False
    if docker_client.info()["Swarm"]["LocalNodeState"] != "active":
        docker_client.swarm.init(advertise_addr="127.0.0.1")
        initialized = True
    yield
    owned = {"label": labels.label_filters(labels.owned(instance))}
    for service in docker_client.services.list(filters=owned):
        service.remove()
    if initialized:
        docker_client.swarm.leave(force=True)  # takes its overlay networks along
        return
    deadline = time.monotonic() + 60
    for network in docker_client.networks.list(filters=owned):
        while True:
            try:
                network.remove()
                break
            except docker.errors.APIError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)


@pytest.fixture(scope="module")
def images(
    docker_client: docker.DockerClient, instance: str, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """Two releases of a tiny web app, "v1" and "v2", labelled for the session's cleanup."""
    context = tmp_path_factory.mktemp("swarm-app")
    (context / "server.py").write_text(SERVER)
    (context / "probe.py").write_text(PROBE)
    try:
        docker_client.images.get(BASE_IMAGE)
    except docker.errors.ImageNotFound:
        docker_client.images.pull(BASE_IMAGE)
    tags = {}
    for version in ("v1", "v2"):
        dockerfile = f"FROM {BASE_IMAGE}\nCOPY server.py probe.py /\nENV VERSION={version}\n"
        (context / "Dockerfile").write_text(dockerfile + 'CMD ["python3", "/server.py"]\n')
        tag = f"{instance}/swarm-app:{version}"
        docker_client.images.build(path=str(context), tag=tag, labels=labels.owned(instance), rm=True)
        tags[version] = tag
    return tags


@pytest.fixture
def runtime(docker_client: docker.DockerClient, instance: str, swarm: None) -> SwarmRuntime:
    return SwarmRuntime(docker_client, instance, monitor=1.0, health_interval=0.5)


@pytest.fixture
def app(runtime: SwarmRuntime) -> Iterator[str]:
    name = f"app{uuid.uuid4().hex[:6]}"
    yield name
    runtime.remove_app(name)


def release_of(instance: str, app: str, number: int, image: str, **changes: object) -> Release:
    release = Release(
        instance=instance,
        app=app,
        release=number,
        image=image,
        processes={WEB: None, "worker": "exec sleep 100000"},
        env={"GREETING": "hi"},
    )
    return replace(release, **changes)  # type: ignore[arg-type]


def converge(runtime: SwarmRuntime, release: Release, *, timeout: float = 120) -> float:
    """Diff, apply and wait for every process of `release`; the seconds it took."""
    started = time.monotonic()
    desired = desired_processes(release)
    for action in diff_services(desired, [s for s in runtime.observe() if s.app == release.app]):
        runtime.apply(action)
    for spec in desired:
        runtime.wait_converged(release.app, spec.process, timeout=timeout)
    return time.monotonic() - started


def probe(docker_client: docker.DockerClient, instance: str, app: str, image: str, *args: str) -> str:
    """Run the probe to completion in a container on the app's overlay network; its output."""
    container = docker_client.containers.run(
        image,
        ["python3", "/probe.py", *args],
        network=app_network(instance, app),
        labels=labels.owned(instance),
        detach=True,
    )
    try:
        container.wait(timeout=60)
        return str(container.logs().decode())
    finally:
        container.remove(force=True)


def test_deploy_scale_rolling_update_and_rollback(
    runtime: SwarmRuntime, docker_client: docker.DockerClient, instance: str, app: str, images: dict[str, str]
) -> None:
    v1 = release_of(instance, app, 1, images["v1"])
    v2 = release_of(instance, app, 2, images["v2"])
    web = f"{instance}-{app}-web"
    durations = {}

    # Deploy: one web task and a worker, each a service of its own.
    actions = diff_services(desired_processes(v1), runtime.observe())
    assert [type(a) for a in actions] == [CreateService, CreateService]
    durations["deploy"] = converge(runtime, v1)
    assert runtime.upstreams(app, port=8000) == [f"{web}:8000"]
    assert probe(docker_client, instance, app, images["v1"], "each", web, "8000").split()[1:3] == ["ok", "v1"]
    assert len(runtime.running_tasks(app, "worker")) == 1
    service = docker_client.services.get(web)
    assert service.attrs["Spec"]["EndpointSpec"]["Mode"] == "dnsrr"
    assert service.attrs["Spec"]["UpdateConfig"]["Order"] == "start-first"
    assert service.attrs["Spec"]["Labels"] == labels.owned(instance, app, service="web", release="1")
    assert docker_client.networks.get(app_network(instance, app)).attrs["Driver"] == "overlay"

    # Scale web to 2: just a replica change, and both tasks answer by the same name.
    scaled = replace(v1, scale={WEB: 2})
    [action] = diff_services(desired_processes(scaled), runtime.observe())
    assert isinstance(action, UpdateService) and action.spec is None and action.replicas == 2
    durations["scale"] = converge(runtime, scaled)
    tasks = runtime.running_tasks(app, WEB)
    assert len(tasks) == 2
    answers = probe(docker_client, instance, app, images["v1"], "each", web, "8000").splitlines()
    assert sorted(line.split()[0] for line in answers) == sorted(str(task.address) for task in tasks)
    assert [line.split()[1:3] for line in answers] == [["ok", "v1"], ["ok", "v1"]]
    assert len({line.split()[3] for line in answers}) == 2, "two different containers answered"

    # Rolling update to v2 while a client keeps asking: every answer is v1 or v2, none fails.
    poller = start_poller(docker_client, instance, app, images["v1"], f"http://{web}:8000/")
    try:
        time.sleep(1)
        durations["rolling update"] = converge(runtime, replace(v2, scale={WEB: 2}))
        time.sleep(1)
    finally:
        polled = stop_poller(poller)
    assert polled, "the poller got no answers"
    assert [a for a in polled if not a.startswith(("ok v1 ", "ok v2 "))] == []
    assert polled[0].startswith("ok v1 ") and polled[-1].startswith("ok v2 ")
    assert {task.release for task in runtime.running_tasks(app, WEB)} == {2}

    # Rollback: the v1 release applied again is one more rolling update.
    durations["rollback"] = converge(runtime, replace(v1, scale={WEB: 2}))
    answers = probe(docker_client, instance, app, images["v1"], "each", web, "8000").splitlines()
    assert [line.split()[1:3] for line in answers] == [["ok", "v1"], ["ok", "v1"]]
    assert diff_services(desired_processes(replace(v1, scale={WEB: 2})), runtime.observe()) == []
    print(
        "swarm durations (s):",
        {phase: round(seconds, 1) for phase, seconds in durations.items()},
        f"; {len(polled)} answers polled during the update",
    )


def test_a_crashing_update_is_rolled_back_by_the_engine(
    runtime: SwarmRuntime, docker_client: docker.DockerClient, instance: str, app: str, images: dict[str, str]
) -> None:
    v1 = release_of(instance, app, 1, images["v1"], processes={WEB: None})
    converge(runtime, v1)
    crashing = release_of(instance, app, 2, images["v2"], processes={WEB: "echo booting; exit 3"})

    with pytest.raises(DeployError, match="failed and the engine rolled it back") as failure:
        converge(runtime, crashing)

    assert "exit code 3" in failure.value.detail
    assert [task.release for task in runtime.running_tasks(app, WEB)] == [1]
    web = f"{instance}-{app}-web"
    assert probe(docker_client, instance, app, images["v1"], "each", web, "8000").split()[1:3] == ["ok", "v1"]


def test_remove_app_removes_its_services_and_network(
    runtime: SwarmRuntime, docker_client: docker.DockerClient, instance: str, images: dict[str, str]
) -> None:
    app = f"app{uuid.uuid4().hex[:6]}"
    converge(runtime, release_of(instance, app, 1, images["v1"]))

    runtime.remove_app(app)

    assert [s for s in runtime.observe() if s.app == app] == []
    with pytest.raises(docker.errors.NotFound):
        docker_client.networks.get(app_network(instance, app))


def test_a_service_of_another_instance_is_never_touched(
    runtime: SwarmRuntime, docker_client: docker.DockerClient, instance: str, app: str, images: dict[str, str]
) -> None:
    spec = desired_processes(release_of(instance, app, 1, images["v1"], processes={WEB: None}))[0]
    foreign = docker_client.services.create(images["v1"], name=f"{instance}-{app}-web")
    try:
        with pytest.raises(DeployError, match="does not belong"):
            runtime.create(spec)
        assert [s for s in runtime.observe() if s.app == app] == []
    finally:
        foreign.remove()


def start_poller(
    docker_client: docker.DockerClient, instance: str, app: str, image: str, url: str
) -> docker.models.containers.Container:
    return docker_client.containers.run(
        image,
        ["python3", "/probe.py", "poll", url],
        network=app_network(instance, app),
        labels=labels.owned(instance),
        detach=True,
    )


def stop_poller(container: docker.models.containers.Container) -> list[str]:
    """Stop the poller; the answers it got, in order."""
    try:
        container.kill()
        return [line.split(" ", 1)[1] for line in container.logs().decode().splitlines()]
    finally:
        container.remove(force=True)
