"""Building images on the real engine: what the log says, what the image holds, and how failures read."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from builder.build import BuildLimits, build_image
from builder.config import AppConfig
from core import labels
from core.errors import BuildError
from tests.integration.building import Build, build_dir, plan_dir

MAIN_PY = "from fastapi import FastAPI\n\napp = FastAPI()\n"


def write_app(root: Path, instance: str, requirements: str = "fastapi\nuvicorn", **files: str) -> Path:
    """A FastAPI app; `instance` in a comment keeps earlier runs' dependency layers from being reused."""
    root.mkdir(parents=True)
    (root / "requirements.txt").write_text(f"# {instance}\n{requirements}\n")
    (root / "main.py").write_text(MAIN_PY)
    for name, text in files.items():
        (root / name.replace("__", ".")).write_text(text)
    return root


@pytest.fixture(scope="module")
def app_dir(tmp_path_factory: pytest.TempPathFactory, instance: str) -> Path:
    return write_app(
        tmp_path_factory.mktemp("apps") / "first",
        instance,
        # The app's own ignore rules hold, but cannot keep out what the dependency layer needs.
        __dockerignore="*.txt\nsecrets/\n",
        notes__txt="not for the image\n",
    )


@pytest.fixture(scope="module")
def first_build(docker_client: docker.DockerClient, app_dir: Path, instance: str) -> Build:
    (app_dir / "secrets").mkdir()
    (app_dir / "secrets" / "key").write_text("do not ship\n")
    return build_dir(docker_client.api, app_dir, instance=instance, app="hello")


def test_the_log_announces_each_phase_and_the_image_is_labelled(
    first_build: Build, docker_client: docker.DockerClient, instance: str
) -> None:
    image = docker_client.images.get(first_build.image_id)

    assert first_build.phases() == [
        "Building from python:3.13-slim",
        "Installing dependencies with pip",
        "Copying the source",
    ]
    assert any(line.startswith("Successfully installed") and "fastapi" in line for line in first_build.lines)
    assert not any(
        line.startswith((" ---> Running in", "Removing intermediate")) for line in first_build.lines
    )
    assert image.labels == labels.owned(instance, "hello", release="1")
    assert image.attrs["Config"]["User"] == "app"
    assert image.attrs["Config"]["Cmd"] == [
        "/bin/sh",
        "-c",
        "exec uvicorn main:app --host 0.0.0.0 --port $PORT",
    ]


def test_the_image_holds_the_source_minus_ignored_files_and_no_ca_bundle(
    first_build: Build, docker_client: docker.DockerClient
) -> None:
    script = "cd /app && ls -A; test ! -e /etc/dockyard && echo no-ca; python -c 'import fastapi, uvicorn'"

    output = docker_client.containers.run(first_build.image_id, ["sh", "-c", script], remove=True)

    assert sorted(output.decode().split()) == [
        ".dockerignore",
        ".dockyard",
        "main.py",
        "no-ca",
        "requirements.txt",
    ]


def test_the_build_stage_is_labelled_so_its_layers_can_be_traced(
    first_build: Build, docker_client: docker.DockerClient, instance: str
) -> None:
    stages = docker_client.images.list(
        filters={"label": labels.label_filters(labels.owned(instance, "hello")), "dangling": True}
    )

    assert stages, "the dependency stage's image carries no Dockyard labels"


def test_a_python_version_without_an_image_fails_naming_the_image(
    docker_client: docker.DockerClient, tmp_path: Path, instance: str
) -> None:
    context = write_app(tmp_path / "app", instance)
    plan = plan_dir(context, AppConfig(python="3.99"))

    with pytest.raises(BuildError) as raised:
        build_dir(docker_client.api, context, instance=instance, app="hello", plan=plan)

    assert raised.value.detail.startswith(
        "no base image for Python 3.99: python:3.99-slim could not be pulled ("
    )
    assert raised.value.detail.endswith(
        "); declare a Python version that has an image (.python-version, runtime.txt or requires-python) "
        "or change DOCKYARD_BASE_IMAGE"
    )


def test_without_the_ca_bundle_pip_cannot_reach_the_index(
    docker_client: docker.DockerClient, tmp_path: Path, instance: str
) -> None:
    context = write_app(tmp_path / "app", instance, requirements="six\nuvicorn")

    with pytest.raises(BuildError) as raised:
        build_dir(docker_client.api, context, instance=instance, app="hello", ca_bundle=None)

    assert raised.value.detail == (
        "`RUN pip install -r requirements.txt` failed (exit 1): "
        "ERROR: Could not find a version that satisfies the requirement six (from versions: none); "
        "ERROR: No matching distribution found for six; "
        "the build could not verify a TLS certificate: behind a TLS-intercepting proxy, "
        "set DOCKYARD_BUILD_CA_BUNDLE to its CA bundle"
    )


def test_a_missing_dependency_fails_with_pips_own_words_and_what_to_do(
    docker_client: docker.DockerClient, tmp_path: Path, instance: str
) -> None:
    context = write_app(
        tmp_path / "app", instance, requirements="fastapi\nno-such-package-dockyard-test==0.1"
    )

    with pytest.raises(BuildError) as raised:
        build_dir(docker_client.api, context, instance=instance, app="hello")

    assert raised.value.detail == (
        "`RUN pip install -r requirements.txt && pip install uvicorn` failed (exit 1): "
        "ERROR: Could not find a version that satisfies the requirement no-such-package-dockyard-test==0.1 "
        "(from versions: none); "
        "ERROR: No matching distribution found for no-such-package-dockyard-test==0.1; "
        "fix the dependencies in requirements.txt and push again"
    )


def test_a_build_over_its_memory_cap_is_killed_and_says_which_setting(
    docker_client: docker.DockerClient, tmp_path: Path, instance: str
) -> None:
    context = write_app(tmp_path / "app", instance)
    (context / "dockyard.toml").write_text("[build]\ncommands = [\"python -c 'bytearray(400 * 2**20)'\"]\n")

    with pytest.raises(BuildError) as raised:
        build_dir(docker_client.api, context, instance=instance, app="hello", memory="128m")

    assert raised.value.detail.startswith("`RUN python -c 'bytearray(400 * 2**20)'` was killed: ")
    assert "ran out of its 128 MiB of memory; raise DOCKYARD_BUILD_MEMORY" in raised.value.detail


def test_a_build_past_its_time_limit_fails_and_says_which_setting(
    docker_client: docker.DockerClient, tmp_path: Path, instance: str
) -> None:
    # A requirement no other test installs, so the dependency step is not cached and takes seconds.
    context = write_app(tmp_path / "slow", instance, requirements="fastapi\nhttpx")

    started = time.monotonic()
    with pytest.raises(BuildError) as raised:
        build_dir(docker_client.api, context, instance=instance, app="hello", timeout=1)

    assert raised.value.detail == (
        "the build took longer than 1 s: make it faster, or raise DOCKYARD_BUILD_TIMEOUT"
    )
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
            {"stream": "Step 1/12 : FROM python:3.13-slim\n"},
            {"status": "Pulling fs layer", "id": "a1"},
            {"status": "Downloading", "id": "a1", "progress": "[==>   ]", "progressDetail": {}},
            {"stream": " ---> Running in 0123456789ab\n"},
            {"stream": "Step 6/12 : RUN pip install -r requirements.txt\nCollecting six\n  Down"},
            {"stream": "loading six.whl\n\n\x1b[91mWARNING: red\n\x1b[0m"},
            {"stream": " ---> 0123456789ab\nRemoving intermediate container 0123456789ab\n"},
            {"aux": {"ID": "sha256:feed"}},
            {"stream": "Successfully tagged feed"},
        ]
    )
    context = write_app(tmp_path / "app", "fake")
    lines: list[str] = []

    image_id = build_image(
        fake,  # type: ignore[arg-type]
        context=context,
        plan=plan_dir(context),
        base_image="python:3.13-slim",
        ca_image=None,
        tag="fake:1",
        labels={},
        on_line=lines.append,
        on_phase=lambda header: lines.append(f"-----> {header}"),
        limits=BuildLimits(memory=2**30, cpu_shares=512, timeout=60),
    )

    assert image_id == "sha256:feed"
    assert lines == [
        "Step 1/12 : FROM python:3.13-slim",
        "a1: Pulling fs layer",
        "-----> Installing dependencies with pip",
        "Step 6/12 : RUN pip install -r requirements.txt",
        "Collecting six",
        "  Downloading six.whl",
        "WARNING: red",
        "Successfully tagged feed",
    ]
    assert fake.calls[0]["dockerfile"] == ".dockyard/Dockerfile"
    assert fake.calls[0]["container_limits"] == {"memory": 2**30, "memswap": 2**30, "cpushares": 512}
