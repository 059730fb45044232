"""The spine, all real: a signed GitHub push → a Docker build → a long-lived container → traffic
through Caddy. Then the paths that must never lose the serving release: a new commit, a broken
build, a crash on start, a redelivered webhook and an env change.

Tests run in order on one app, as a user's history of pushes would.
"""

from __future__ import annotations

import time

import docker
import httpx
import pytest

from core import labels
from tests.platform import Platform, Repo, eventually, fastapi_app

APP = "hello"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    return Repo(tmp_path_factory.mktemp("git"))


@pytest.fixture(scope="module")
def secret(platform: Platform, repo: Repo) -> str:
    return str(platform.create_app(APP, repo)["webhook_secret"])


def web_containers(client: docker.DockerClient, instance: str) -> list[str]:
    filters = {"label": labels.label_filters(labels.owned(instance, APP, service="web")), "status": "running"}
    return sorted(container.labels[labels.RELEASE] for container in client.containers.list(filters=filters))


def deploy_by_push(platform: Platform, secret: str, repo: Repo, files: dict[str, str], message: str) -> dict:
    commit = repo.commit(files, message)
    started = time.monotonic()
    response = platform.push_webhook(secret, repo, commit)
    assert response.status_code == 202, response.text
    assert time.monotonic() - started < 1.0, "GitHub needs an answer well under its 10 s limit"
    deployment_id = response.json()["results"][0]["deployment"]
    deployment = platform.wait_deployment(APP, deployment_id)
    assert deployment["commit"] == commit
    return deployment


def test_signed_push_builds_and_serves_through_caddy(
    platform: Platform, repo: Repo, secret: str, docker_client: docker.DockerClient, instance: str
) -> None:
    deployment = deploy_by_push(platform, secret, repo, fastapi_app("v1"), "first version")

    assert deployment["status"] == "live", platform.logs(APP, deployment["id"])
    assert deployment["image"] == f"{instance}/{APP}:{deployment['id']}"
    assert platform.get_app_page(APP).json() == {"version": "v1", "greeting": "hello"}
    assert platform.get_app_page("unknown").status_code == 404
    log = platform.logs(APP, deployment["id"])
    for phase in ("-----> Fetching", "-----> Building", "-----> Starting web", "-----> Switching traffic"):
        assert phase in log
    assert "FastAPI" in log
    assert web_containers(docker_client, instance) == [str(deployment["id"])]
    app = platform.call("GET", f"/api/v1/apps/{APP}").json()
    assert app["live_deployment"] == {"id": deployment["id"], "commit": deployment["commit"]}


def test_services_report_the_running_web_container(platform: Platform) -> None:
    services = platform.call("GET", f"/api/v1/apps/{APP}/services").json()

    assert [(s["name"], s["status"], s["replicas"]) for s in services] == [("web", "running", 1)]


def test_the_same_delivery_twice_makes_one_deployment(platform: Platform, repo: Repo, secret: str) -> None:
    before = platform.call("GET", f"/api/v1/apps/{APP}/deployments").json()
    commit = repo.commit({"README.md": "redelivered\n"}, "docs")
    first = platform.push_webhook(secret, repo, commit, delivery="b8a4b7f0-0000-4000-8000-000000000001")
    second = platform.push_webhook(secret, repo, commit, delivery="b8a4b7f0-0000-4000-8000-000000000001")

    assert first.status_code == 202
    assert second.status_code == 200
    assert "duplicate" in second.json()["results"][0]["decision"]
    after = platform.call("GET", f"/api/v1/apps/{APP}/deployments").json()
    assert len(after) == len(before) + 1
    assert platform.wait_deployment(APP, first.json()["results"][0]["deployment"])["status"] == "live"


def test_a_second_commit_replaces_the_first(
    platform: Platform, repo: Repo, secret: str, docker_client: docker.DockerClient, instance: str
) -> None:
    previous = platform.call("GET", f"/api/v1/apps/{APP}").json()["live_deployment"]["id"]

    deployment = deploy_by_push(platform, secret, repo, fastapi_app("v2"), "second version")

    assert deployment["status"] == "live"
    assert platform.get_app_page(APP).json()["version"] == "v2"
    assert eventually(lambda: web_containers(docker_client, instance) == [str(deployment["id"])], timeout=20)
    assert platform.deployment(APP, previous)["status"] == "superseded"
    assert "Using cache" in platform.logs(APP, deployment["id"]), "the dependency layer should be cached"


def test_a_broken_build_keeps_the_previous_release_serving(
    platform: Platform, repo: Repo, secret: str
) -> None:
    broken = fastapi_app("v3", requirements="fastapi\nuvicorn\nthis-package-does-not-exist-dockyard==0.0.1\n")

    deployment = deploy_by_push(platform, secret, repo, broken, "a dependency that does not exist")

    assert deployment["status"] == "failed"
    assert "No matching distribution found for this-package-does-not-exist-dockyard" in deployment["error"]
    assert "this-package-does-not-exist-dockyard" in platform.logs(APP, deployment["id"])
    assert platform.get_app_page(APP).json()["version"] == "v2"


def test_a_crash_on_start_keeps_the_previous_release_serving(
    platform: Platform, repo: Repo, secret: str, docker_client: docker.DockerClient, instance: str
) -> None:
    live = platform.call("GET", f"/api/v1/apps/{APP}").json()["live_deployment"]["id"]

    deployment = deploy_by_push(platform, secret, repo, fastapi_app("v4", crash=True), "crashes at import")

    assert deployment["status"] == "failed"
    assert "boom: the app refuses to start" in deployment["error"], "the container's last log lines"
    assert platform.get_app_page(APP).json()["version"] == "v2"
    assert web_containers(docker_client, instance) == [str(live)]


def test_an_env_change_rolls_out_without_a_rebuild(platform: Platform) -> None:
    live = platform.call("GET", f"/api/v1/apps/{APP}").json()["live_deployment"]
    live_image = platform.deployment(APP, live["id"])["image"]

    response = platform.call("PUT", f"/api/v1/apps/{APP}/env", json={"GREETING": "hola"})

    assert response.status_code == 200
    assert response.json()["keys"] == ["GREETING"]
    deployment = platform.wait_deployment(APP, response.json()["deployment"])
    assert deployment["status"] == "live", platform.logs(APP, deployment["id"])
    assert deployment["image"] == live_image
    assert deployment["commit"] == live["commit"]
    log = platform.logs(APP, deployment["id"])
    assert "Reusing image" in log
    assert "-----> Building" not in log
    assert platform.get_app_page(APP).json() == {"version": "v2", "greeting": "hola"}


def test_deploy_by_api_streams_its_log_live_until_it_ends(platform: Platform, repo: Repo) -> None:
    repo.commit(fastapi_app("v5"), "deployed by API")
    accepted = platform.call("POST", f"/api/v1/apps/{APP}/deployments", json={})
    assert accepted.status_code == 202
    deployment_id = accepted.json()["id"]

    lines = []
    url = f"/api/v1/apps/{APP}/deployments/{deployment_id}/logs?follow=1"
    with httpx.stream(
        "GET", f"{platform.api}{url}", headers={"Authorization": f"Bearer {platform.token}"}, timeout=120
    ) as stream:
        for line in stream.iter_lines():
            lines.append(line)

    assert any(line.startswith("-----> Fetching") for line in lines)
    assert lines[-1] == f"=====> Live at http://{APP}.localhost:{platform.http_port}/"
    assert platform.deployment(APP, deployment_id)["status"] == "live"
    assert platform.get_app_page(APP).json()["version"] == "v5"
    assert platform.logs(APP, deployment_id).splitlines() == lines
