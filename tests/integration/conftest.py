"""Integration fixtures: a real Docker engine, scoped to this test run's own INSTANCE.

A missing engine fails these tests (never skips): CI must prove the real path.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import docker
import pytest

from core import labels
from tests.conftest import TEST_INSTANCE
from tests.platform import Platform


@pytest.fixture(scope="session")
def instance() -> str:
    """A label value unique to this test run, so cleanups touch only our own objects."""
    return TEST_INSTANCE


@pytest.fixture(scope="session")
def docker_client(instance: str) -> Iterator[docker.DockerClient]:
    """A client of the real engine; removes every object of this run's INSTANCE afterwards."""
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as error:
        pytest.fail(f"a Docker engine is required for integration tests: {error}")
    yield client
    remove_owned(client, instance)
    client.close()


@pytest.fixture(scope="module")
def platform(
    tmp_path_factory: pytest.TempPathFactory, instance: str, docker_client: docker.DockerClient
) -> Iterator[Platform]:
    """A real `dockyard server` for one test module; modules that need other settings define their own."""
    running = Platform(data_dir=tmp_path_factory.mktemp("platform"), instance=instance)
    running.start()
    yield running
    running.stop()


def remove_owned(client: docker.DockerClient, instance: str) -> None:
    """Remove containers, networks, volumes and images labelled with `instance`."""
    filters = {"label": labels.label_filters({labels.INSTANCE: instance})}
    for container in client.containers.list(all=True, filters=filters):
        container.remove(force=True)
    for network in client.networks.list(filters=filters):
        network.remove()
    for volume in client.volumes.list(filters=filters):
        volume.remove(force=True)
    for image in client.images.list(filters=filters):
        client.images.remove(image.id, force=True)


@pytest.fixture
def upstream() -> Iterator[tuple[str, list[str]]]:
    """A plain HTTP server on this host answering "upstream"; yields its address and the hosts it saw."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers["Host"])
            body = b"upstream"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
