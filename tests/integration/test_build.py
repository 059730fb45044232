"""Building images on the real engine, from small FastAPI apps written by the tests."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest

from builder.build import build_image
from builder.detect import plan_build
from builder.source import read_tree
from core import labels
from core.errors import BuildError

pytestmark = pytest.mark.integration

BASE_IMAGE = "python:3.13-slim"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
MAIN_PY = "from fastapi import FastAPI\n\napp = FastAPI()\n"
ROUTE = "\n@app.get('/')\ndef root() -> dict[str, bool]:\n    return {'ok': True}\n"


@dataclass
class Build:
    image_id: str
    lines: list[str]


@pytest.fixture(scope="module")
def api(docker_client: docker.DockerClient) -> docker.APIClient:
    """The low-level client the builder uses, with the stand-in base image pulled once."""
    try:
        docker_client.images.get(BASE_IMAGE)
    except docker.errors.ImageNotFound:
        docker_client.images.pull(BASE_IMAGE)
    return docker_client.api


def write_app(root: Path, instance: str, requirements: str = "fastapi", main_py: str = MAIN_PY) -> Path:
    """A FastAPI app; `instance` in a comment keeps earlier runs' dependency layers from being reused."""
    root.mkdir(parents=True)
    (root / "requirements.txt").write_text(f"# {instance}\n{requirements}\n")
    (root / "main.py").write_text(main_py)
    return root


def build(
    api: docker.APIClient,
    context: Path,
    instance: str,
    *,
    base_image: str = BASE_IMAGE,
    ca_bundle: Path | None = HOST_CA_BUNDLE,
    timeout: int = 600,
) -> Build:
    lines: list[str] = []
    image_id = build_image(
        api,
        context=context,
        plan=plan_build(read_tree(context), default_python="3.13"),
        base_image=base_image,
        ca_bundle=ca_bundle,
        tag=f"dockyard-test/{instance}:{context.name}",
        labels=labels.owned(instance, "hello"),
        on_line=lines.append,
        timeout=timeout,
    )
    return Build(image_id, lines)


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory: pytest.TempPathFactory, instance: str) -> Path:
    root = write_app(tmp_path_factory.mktemp("apps") / "first", instance)
    # A repository's own Dockerfile is not Dockyard's business, and must survive the build untouched.
    (root / "Dockerfile").write_text("FROM scratch\n")
    return root


@pytest.fixture(scope="module")
def first_build(api: docker.APIClient, app_dir: Path, instance: str) -> Build:
    return build(api, app_dir, instance)


def test_build_streams_the_log_and_labels_the_image(
    first_build: Build, app_dir: Path, docker_client: docker.DockerClient, instance: str
) -> None:
    image = docker_client.images.get(first_build.image_id)

    assert any(line.startswith("Successfully installed") and "fastapi" in line for line in first_build.lines)
    assert all("\n" not in line and line == line.rstrip() for line in first_build.lines)
    assert image.labels == labels.owned(instance, "hello")
    assert image.attrs["Config"]["User"] == "app"
    assert image.attrs["Config"]["Cmd"] == [
        "/bin/sh",
        "-c",
        "exec uvicorn main:app --host 0.0.0.0 --port $PORT",
    ]
    assert (app_dir / "Dockerfile").read_text() == "FROM scratch\n"


def test_the_image_carries_the_source_but_not_the_ca_bundle(
    first_build: Build, docker_client: docker.DockerClient
) -> None:
    script = "ls -A /app; test ! -e /etc/dockyard && echo no-ca; python -c 'import fastapi, uvicorn'"

    output = docker_client.containers.run(first_build.image_id, ["sh", "-c", script], remove=True)

    assert sorted(output.decode().split()) == ["Dockerfile", "main.py", "no-ca", "requirements.txt"]


def test_a_source_change_reuses_the_dependency_layer(
    first_build: Build, api: docker.APIClient, app_dir: Path, tmp_path: Path, instance: str
) -> None:
    changed = tmp_path / "changed"
    shutil.copytree(app_dir, changed)
    (changed / "main.py").write_text(
        MAIN_PY + "\n@app.get('/')\ndef root() -> dict[str, str]:\n    return {}\n"
    )

    second = build(api, changed, instance)

    install = next(i for i, line in enumerate(second.lines) if " : RUN pip install" in line)
    assert second.lines[install + 1] == " ---> Using cache"
    assert not any(line.startswith("Successfully installed") for line in second.lines)
    assert second.image_id != first_build.image_id


def test_a_base_image_that_cannot_be_pulled(api: docker.APIClient, tmp_path: Path, instance: str) -> None:
    context = write_app(tmp_path / "app", instance)

    with pytest.raises(BuildError) as raised:
        build(api, context, instance, base_image="python:3.99-slim")

    assert raised.value.detail.startswith("base image python:3.99-slim could not be pulled: ")
    assert raised.value.detail.endswith("; check DOCKYARD_BASE_IMAGE or the Python version")


def test_without_the_ca_bundle_pip_cannot_reach_the_index(
    api: docker.APIClient, tmp_path: Path, instance: str
) -> None:
    context = write_app(tmp_path / "app", instance, requirements="six\nuvicorn")

    with pytest.raises(BuildError) as raised:
        build(api, context, instance, ca_bundle=None)

    assert raised.value.detail == (
        "`RUN pip install -r requirements.txt` failed (exit 1): "
        "ERROR: Could not find a version that satisfies the requirement six (from versions: none); "
        "ERROR: No matching distribution found for six; "
        "the build could not verify a TLS certificate: behind a TLS-intercepting proxy, "
        "set DOCKYARD_BUILD_CA_BUNDLE to its CA bundle"
    )


def test_a_missing_dependency_fails_with_pips_own_words(
    api: docker.APIClient, tmp_path: Path, instance: str
) -> None:
    context = write_app(
        tmp_path / "app", instance, requirements="fastapi\nno-such-package-dockyard-test==0.1"
    )

    with pytest.raises(BuildError) as raised:
        build(api, context, instance)

    assert raised.value.detail == (
        "`RUN pip install -r requirements.txt uvicorn` failed (exit 1): "
        "ERROR: Could not find a version that satisfies the requirement no-such-package-dockyard-test==0.1 "
        "(from versions: none); "
        "ERROR: No matching distribution found for no-such-package-dockyard-test==0.1"
    )


def test_a_build_past_its_time_limit_fails_and_says_which_setting(
    api: docker.APIClient, tmp_path: Path, instance: str
) -> None:
    # A requirement no other test installs, so the dependency step is not cached and takes seconds.
    context = write_app(tmp_path / "slow", instance, requirements="fastapi\nhttpx")

    started = time.monotonic()
    with pytest.raises(BuildError) as raised:
        build(api, context, instance, timeout=1)

    assert raised.value.detail == "the build took longer than allowed (DOCKYARD_BUILD_TIMEOUT)"
    assert time.monotonic() - started < 15


class FakeAPI:
    """Replays engine chunks, to pin down how the log is cut into lines."""

    def __init__(self, chunks: list[dict[str, Any]]) -> None:
        self.chunks = chunks
        self.calls: list[dict[str, Any]] = []

    def build(self, **options: Any) -> Iterator[dict[str, Any]]:
        self.calls.append(options)
        return iter(self.chunks)


def test_chunks_become_whole_plain_lines(tmp_path: Path) -> None:
    fake = FakeAPI(
        [
            {"stream": "Step 1/2 : FROM python:3.13-slim\n"},
            {"status": "Pulling fs layer", "id": "a1"},
            {"status": "Downloading", "id": "a1", "progress": "[==>   ]", "progressDetail": {}},
            {"stream": "Collecting six\n  Down"},
            {"stream": "loading six.whl\n\n\x1b[91mWARNING: red\n\x1b[0m"},
            {"aux": {"ID": "sha256:feed"}},
            {"stream": "Successfully built feed"},
        ]
    )
    context = write_app(tmp_path / "app", "fake")

    result = build(fake, context, "fake")

    assert result.image_id == "sha256:feed"
    assert result.lines == [
        "Step 1/2 : FROM python:3.13-slim",
        "a1: Pulling fs layer",
        "Collecting six",
        "  Downloading six.whl",
        "WARNING: red",
        "Successfully built feed",
    ]
    assert fake.calls[0]["dockerfile"] == ".dockyard/Dockerfile"
    assert (context / ".dockyard" / "ca.crt").read_bytes() == HOST_CA_BUNDLE.read_bytes()
