"""DockerRuntime on the real engine, and the spine: Caddy route → container."""

from __future__ import annotations

import io
import ipaddress
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import docker
import httpx
import pytest

from core import labels
from core.errors import DeployError, TemporaryError
from scheduler.caddy import start_caddy
from scheduler.desired import ServiceSpec, web_service
from scheduler.proxy import CaddyAdmin, app_route, route_id, server_config
from scheduler.reconcile import Remove
from scheduler.runtime.docker import DockerRuntime

pytestmark = pytest.mark.integration

IMAGE = "python:3.13-slim"
HTTP_SERVER = "python3 -m http.server $PORT"


@pytest.fixture(scope="module")
def image(docker_client: docker.DockerClient) -> str:
    """The stand-in base image, pulled through the local mirror once per module."""
    try:
        docker_client.images.get(IMAGE)
    except docker.errors.ImageNotFound:
        docker_client.images.pull(IMAGE)
    return IMAGE


@pytest.fixture(scope="module")
def non_root_image(docker_client: docker.DockerClient, image: str, instance: str) -> str:
    """The base image running as a non-root user, as Dockyard's release images do."""
    dockerfile = f"FROM {image}\nRUN useradd --create-home --uid 1000 app\nUSER app\n"
    tag = f"{instance}/non-root:test"
    docker_client.images.build(
        fileobj=io.BytesIO(dockerfile.encode()), tag=tag, labels=labels.owned(instance), rm=True
    )
    return tag


@pytest.fixture
def runtime(docker_client: docker.DockerClient, instance: str) -> DockerRuntime:
    return DockerRuntime(docker_client, instance)


@pytest.fixture
def app() -> str:
    return f"app{uuid.uuid4().hex[:6]}"


def spec_for(
    instance: str, app: str, image: str, release: int = 1, command: str | None = HTTP_SERVER
) -> ServiceSpec:
    return web_service(
        instance=instance,
        app=app,
        release=release,
        image=image,
        env={"GREETING": "hi"},
        volumes={"data": "/data"},
        command=command,
    )


def test_a_started_container_answers_on_its_upstream(
    runtime: DockerRuntime, docker_client: docker.DockerClient, instance: str, app: str, image: str
) -> None:
    spec = spec_for(instance, app, image)

    container_id = runtime.start(spec)
    upstream = runtime.wait_healthy(container_id, port=spec.port, timeout=30)

    assert upstream == runtime.upstream(container_id, spec.port)
    assert httpx.get(f"http://{upstream}/", trust_env=False).status_code == 200
    assert runtime.containers(app) == [
        {"name": spec.name, "service": "web", "release": 1, "status": "running"}
    ]
    container = docker_client.containers.get(container_id)
    assert container.labels == {**spec.labels, labels.STOP_TIMEOUT: "30"}
    assert container.attrs["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    assert not container.attrs["HostConfig"]["PortBindings"]  # reachable only through the proxy
    assert {"GREETING=hi", "PORT=8000"} <= set(container.attrs["Config"]["Env"])
    network = docker_client.networks.get(spec.network)
    assert network.attrs["Labels"] == labels.owned(instance, app)
    (subnet,) = [config["Subnet"] for config in network.attrs["IPAM"]["Config"]]
    assert ipaddress.ip_network(subnet).subnet_of(ipaddress.ip_network("10.213.0.0/16")), (
        "from Dockyard's pool"
    )
    assert docker_client.volumes.get(f"{instance}-{app}-data").attrs["Labels"] == labels.owned(instance, app)


def test_a_crashing_command_fails_fast_with_its_exit_code_and_logs(
    runtime: DockerRuntime, instance: str, app: str, image: str
) -> None:
    # Python takes long enough to crash that the engine has usually restarted it before the first poll:
    # the exit code must survive the restart.
    crash = "python3 -c \"import os; print('booting', flush=True); os.environ['SECRET_KEY']\""
    spec = spec_for(instance, app, image, command=crash)
    container_id = runtime.start(spec)
    started = time.monotonic()

    with pytest.raises(DeployError) as failure:
        runtime.wait_healthy(container_id, port=spec.port, timeout=60)

    assert time.monotonic() - started < 10
    assert f"{spec.name} exited with code 1 before answering" in failure.value.detail
    assert "booting" in failure.value.detail
    assert "KeyError: 'SECRET_KEY'" in failure.value.detail


def test_a_silent_container_times_out_with_its_logs(
    runtime: DockerRuntime, instance: str, app: str, image: str
) -> None:
    spec = spec_for(instance, app, image, command="echo 'listening on the wrong port'; sleep 600")
    container_id = runtime.start(spec)

    with pytest.raises(DeployError) as failure:
        runtime.wait_healthy(container_id, port=spec.port, timeout=2)

    assert "did not answer GET / below 500 within 2 s" in failure.value.detail
    assert "listening on the wrong port" in failure.value.detail


def test_start_replaces_a_stale_container_of_the_same_name(
    runtime: DockerRuntime, instance: str, app: str, image: str
) -> None:
    spec = spec_for(instance, app, image)
    first = runtime.start(spec)

    second = runtime.start(spec)

    assert second != first
    assert [row["name"] for row in runtime.containers(app)] == [spec.name]


def test_start_refuses_to_replace_a_container_it_does_not_own(
    runtime: DockerRuntime, docker_client: docker.DockerClient, instance: str, app: str, image: str
) -> None:
    spec = spec_for(instance, app, image)
    foreign = docker_client.containers.create(image, name=spec.name, command=["true"])
    try:
        with pytest.raises(DeployError, match="does not belong"):
            runtime.start(spec)
        foreign.reload()  # still there
    finally:
        foreign.remove(force=True)


def test_observe_reads_the_labels_and_a_remove_action_stops_gracefully(
    runtime: DockerRuntime, instance: str, app: str, image: str
) -> None:
    specs = [spec_for(instance, app, image, release=release) for release in (1, 2)]
    for spec in specs:
        runtime.start(spec)

    seen = sorted((c for c in runtime.observe() if c.app == app), key=lambda c: c.release)
    assert [(c.name, c.service, c.release, c.state) for c in seen] == [
        (specs[0].name, "web", 1, "running"),
        (specs[1].name, "web", 2, "running"),
    ]
    started = time.monotonic()
    runtime.apply(Remove(seen[0], "release 1 is no longer live"))

    # The init forwards SIGTERM, so the stop does not wait out the stop timeout.
    assert time.monotonic() - started < 8
    assert [c.name for c in runtime.observe() if c.app == app] == [specs[1].name]


def test_run_once_gives_the_exit_code_and_output_and_leaves_nothing(
    runtime: DockerRuntime, instance: str, app: str, image: str
) -> None:
    spec = replace(
        spec_for(instance, app, image, command="echo migrating $GREETING; exit 3"),
        labels={**labels.owned(instance, app), labels.ONE_OFF: "release"},
    )

    assert runtime.run_once(spec, timeout=30) == (3, "migrating hi\n")
    assert runtime.containers(app) == []


def test_remove_app_keeps_its_volumes(
    runtime: DockerRuntime, docker_client: docker.DockerClient, instance: str, app: str, image: str
) -> None:
    spec = spec_for(instance, app, image)
    runtime.start(spec)

    runtime.remove_app(app)

    assert runtime.containers(app) == []
    with pytest.raises(docker.errors.NotFound):
        docker_client.networks.get(spec.network)
    assert docker_client.volumes.get(f"{instance}-{app}-data")


def test_stop_remove_and_last_logs(runtime: DockerRuntime, instance: str, app: str, image: str) -> None:
    spec = spec_for(instance, app, image, command="echo one; echo two; exec sleep 600")
    container_id = runtime.start(spec)
    deadline = time.monotonic() + 10
    while "two" not in runtime.last_logs(container_id) and time.monotonic() < deadline:
        time.sleep(0.1)

    assert runtime.last_logs(container_id) == "one\ntwo"
    assert runtime.last_logs(container_id, lines=1) == "two"

    runtime.stop(container_id, timeout=5)
    assert [row["status"] for row in runtime.containers(app)] == ["exited"]
    runtime.remove(container_id)
    runtime.remove(container_id)  # already gone is fine
    runtime.stop(container_id)
    assert runtime.containers(app) == []


def test_an_unreachable_engine_is_a_temporary_error() -> None:
    client = docker.DockerClient(base_url=f"tcp://127.0.0.1:{free_port()}", version="1.41", timeout=2)

    with pytest.raises(TemporaryError, match="did not answer"):
        DockerRuntime(client, "test").containers("app")


def test_a_missing_image_is_a_deploy_error(runtime: DockerRuntime, instance: str, app: str) -> None:
    with pytest.raises(DeployError, match="image not found"):
        runtime.start(spec_for(instance, app, f"dockyard-test/missing:{uuid.uuid4().hex}"))


def test_a_new_volume_is_writable_by_a_non_root_app_and_outlives_its_release(
    runtime: DockerRuntime, docker_client: docker.DockerClient, instance: str, app: str, non_root_image: str
) -> None:
    writes = "echo kept > /data/upload.txt && " + HTTP_SERVER
    first = runtime.start(spec_for(instance, app, non_root_image, release=1, command=writes))
    runtime.wait_healthy(first, port=8000, timeout=30)

    second = runtime.start(spec_for(instance, app, non_root_image, release=2))
    runtime.wait_healthy(second, port=8000, timeout=30)
    runtime.stop(first)
    runtime.remove(first)

    exit_code, output = docker_client.containers.get(second).exec_run(["cat", "/data/upload.txt"])
    assert (exit_code, output) == (0, b"kept\n")
    leftovers = docker_client.containers.list(all=True, filters={"label": f"{labels.APP}={app}"})
    assert [container.id for container in leftovers] == [second], "the chown helper leaves nothing behind"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def caddy(tmp_path: Path) -> Iterator[tuple[CaddyAdmin, int]]:
    address = f"127.0.0.1:{free_port()}"
    process = start_caddy(admin=address, data_dir=tmp_path)
    assert process is not None
    admin = CaddyAdmin(address)
    try:
        yield admin, free_port()
    finally:
        admin.close()
        process.terminate()
        process.wait(timeout=10)


def test_a_request_through_caddy_reaches_the_container(
    runtime: DockerRuntime, caddy: tuple[CaddyAdmin, int], instance: str, app: str, image: str
) -> None:
    admin, http_port = caddy
    spec = spec_for(instance, app, image)
    upstream = runtime.wait_healthy(runtime.start(spec), port=spec.port, timeout=30)
    admin.ensure_server(instance, server_config(http_port=http_port))

    admin.set_route(
        instance,
        app_route(route_id=route_id(instance, app), hosts=[f"{app}.localhost"], upstreams=[upstream]),
    )
    response = httpx.get(
        f"http://127.0.0.1:{http_port}/", headers={"Host": f"{app}.localhost"}, trust_env=False
    )

    assert response.status_code == 200
    assert "Directory listing" in response.text
