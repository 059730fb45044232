"""The fixture apps under tests/apps/, unmodified: detected, built on the real engine, run, and answering."""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import httpx
import pytest

from core import labels
from scheduler.desired import ServiceSpec, container_name, web_service
from scheduler.runtime.docker import DockerRuntime
from tests.integration.building import Build, build_dir

APPS = Path(__file__).parents[1] / "apps"


@pytest.fixture
def runtime(docker_client: docker.DockerClient, instance: str) -> Iterator[DockerRuntime]:
    runtime = DockerRuntime(docker_client, instance)
    started: list[str] = []
    original = runtime.start

    def start(spec: ServiceSpec) -> str:
        started.append(spec.app)
        return original(spec)

    runtime.start = start  # type: ignore[method-assign]
    yield runtime
    for app in set(started):
        runtime.remove_app(app)


def checkout(name: str, tmp_path: Path) -> Path:
    """A fresh copy of a fixture app, as a clone of its repository would be."""
    return Path(shutil.copytree(APPS / name, tmp_path / name))


def serve(runtime: DockerRuntime, build: Build, app: str, volumes: dict[str, str] | None = None) -> str:
    """Start the web process of `build` and return its upstream once it answers."""
    spec = web_service(
        instance=runtime.instance,
        app=app,
        release=1,
        image=build.tag,
        env={},
        volumes=volumes or {},
        port=build.plan.port,
    )
    container = runtime.start(spec)
    return runtime.wait_healthy(container, port=spec.port, timeout=90)


def get(upstream: str, path: str = "/") -> httpx.Response:
    return httpx.get(f"http://{upstream}{path}", timeout=10, trust_env=False)


# name, Python, package manager, framework, processes (release command aside)
WEB_APPS = [
    ("django-pip", "3.11", "pip", "django", ["web"]),
    ("fastapi-uv", "3.14", "uv", "fastapi", ["web"]),
    ("flask-poetry", "3.13", "poetry", "flask", ["web"]),
    ("starlette-pipenv", "3.13", "pipenv", "starlette", ["web"]),
    ("litestar-pyproject", "3.14", "pyproject", "litestar", ["web"]),
    ("aiohttp-pip", "3.13", "pip", "aiohttp", ["web"]),
    ("monorepo-subdir", "3.13", "pip", "fastapi", ["web"]),
]


@pytest.mark.parametrize(("name", "python", "manager", "framework", "processes"), WEB_APPS)
def test_a_web_app_builds_and_answers(
    name: str,
    python: str,
    manager: str,
    framework: str,
    processes: list[str],
    tmp_path: Path,
    docker_client: docker.DockerClient,
    runtime: DockerRuntime,
    instance: str,
) -> None:
    build = build_dir(docker_client.api, checkout(name, tmp_path), instance=instance, app=name)

    assert (build.plan.python_version, build.plan.framework, list(build.plan.processes)) == (
        python,
        framework,
        processes,
    )
    assert build.plan.install is not None and build.plan.install.manager == manager
    assert f"Installing dependencies with {manager}" in build.phases()
    upstream = serve(runtime, build, name)
    assert f"hello from {name}" in get(upstream).text
    version = docker_client.containers.run(
        build.tag, ["python", "-c", "import sys; print(sys.version)"], remove=True
    )
    assert version.decode().startswith(python + ".")


def test_django_collects_static_files_at_build_and_migrates_on_release(
    tmp_path: Path, docker_client: docker.DockerClient, runtime: DockerRuntime, instance: str
) -> None:
    build = build_dir(docker_client.api, checkout("django-pip", tmp_path), instance=instance, app="django")

    assert build.plan.release == "python manage.py migrate --noinput"
    assert "Running build commands" in build.phases()
    upstream = serve(runtime, build, "django")
    assert "hello css" in get(upstream, "/static/hello/app.css").text
    image = docker_client.images.get(build.tag)
    assert image.attrs["Config"]["User"] == "app"
    assert "SECRET_KEY=dockyard" not in " ".join(image.attrs["Config"]["Env"])


def test_poetry_installs_the_main_group_only(
    tmp_path: Path, docker_client: docker.DockerClient, instance: str
) -> None:
    build = build_dir(docker_client.api, checkout("flask-poetry", tmp_path), instance=instance, app="poetry")

    script = "import importlib.util as u; print(bool(u.find_spec('flask')), bool(u.find_spec('pytest')))"
    output = docker_client.containers.run(build.tag, ["python", "-c", script], remove=True)

    assert output.decode().split() == ["True", "False"]


def test_a_procfile_with_web_worker_and_beat(
    tmp_path: Path, docker_client: docker.DockerClient, runtime: DockerRuntime, instance: str
) -> None:
    app = "celery"
    build = build_dir(docker_client.api, checkout("celery-procfile", tmp_path), instance=instance, app=app)
    assert build.plan.processes == {
        "web": "gunicorn --bind 0.0.0.0:$PORT web:app",
        "worker": "celery -A tasks worker --loglevel=info --concurrency=1",
        "beat": "celery -A tasks beat --loglevel=info --schedule /data/beat-schedule",
    }

    upstream = serve(runtime, build, app, volumes={"data": "/data"})
    web = web_service(
        instance=instance, app=app, release=1, image=build.tag, env={}, volumes={"data": "/data"}
    )
    for process in ("worker", "beat"):
        runtime.start(
            dataclasses.replace(
                web,
                service=process,
                command=build.plan.processes[process],
                name=container_name(instance, app, process, 1, 1),
                labels=labels.owned(instance, app, service=process, release="1"),
            )
        )
    assert get(upstream, "/enqueue?name=alpha").status_code == 202

    deadline = time.monotonic() + 60
    done: list[str] = []
    while time.monotonic() < deadline:
        done = get(upstream, "/done").text.split()
        if "alpha" in done and done.count("tick") >= 2:
            break
        time.sleep(1)
    assert "alpha" in done, "the worker never ran the task the web process enqueued"
    assert done.count("tick") >= 2, "beat never scheduled its periodic task"


def test_an_apps_own_dockerfile_is_built_as_it_is(
    tmp_path: Path, docker_client: docker.DockerClient, runtime: DockerRuntime, instance: str
) -> None:
    build = build_dir(docker_client.api, checkout("dockerfile-own", tmp_path), instance=instance, app="own")

    assert (build.plan.framework, build.plan.port, build.plan.processes) == (
        "dockerfile",
        5000,
        {"web": None},
    )
    upstream = serve(runtime, build, "own")
    assert get(upstream, "/port").text.strip() == "5000"


def test_a_code_change_reuses_the_dependency_layer(
    tmp_path: Path, docker_client: docker.DockerClient, instance: str
) -> None:
    source = checkout("monorepo-subdir", tmp_path)
    first = build_dir(docker_client.api, source, instance=instance, app="cache")
    with (source / "backend" / "main.py").open("a") as main:
        main.write("\n# a code-only change\n")

    second = build_dir(docker_client.api, source, instance=instance, app="cache")

    install = next(i for i, line in enumerate(second.lines) if " : RUN pip install" in line)
    assert second.lines[install + 1] == " ---> Using cache"
    assert not any(line.startswith("Successfully installed") for line in second.lines)
    assert second.image_id != first.image_id
