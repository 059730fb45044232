"""The apps API as a user sees it: creation, lookups, env and volumes, and its errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import select

from core import db
from core.deploy_log import DeployLog
from core.models import EnvVar
from core.settings import get_settings
from tests.platform import free_port

REPO = "https://github.com/octo-org/hello-world.git"


def create(client: TestClient, auth: dict[str, str], name: str = "hello", **extra: str):
    return client.post(
        "/api/v1/apps", json={"name": name, "repo_url": REPO, "branch": "main", **extra}, headers=auth
    )


def test_create_app_returns_urls_and_the_secret_once(client: TestClient, auth: dict[str, str]) -> None:
    response = create(client, auth)

    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "hello"
    assert body["repo_full_name"] == "octo-org/hello-world"
    assert body["url"] == "http://hello.localhost:8080/"
    assert body["webhook_url"] == "http://localhost:8000/webhooks/github"
    assert body["webhook_secret"].startswith("whsec_")
    assert body["live_deployment"] is None
    assert body["created_at"].endswith("Z"), "timestamps say they are UTC"
    shown = client.get("/api/v1/apps/hello", headers=auth).json()
    assert "webhook_secret" not in shown
    assert shown["url"] == body["url"]


def test_duplicate_name_is_a_conflict_problem(client: TestClient, auth: dict[str, str]) -> None:
    create(client, auth)
    response = create(client, auth)

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert "already exists" in response.json()["detail"]


def test_bad_names_and_urls_say_which_field(client: TestClient, auth: dict[str, str]) -> None:
    for name in ("Hello", "-x", "a_b", "x" * 31, "", "new"):
        response = create(client, auth, name=name)
        assert response.status_code == 422, name
        assert response.json()["where"] == "name"
    response = client.post("/api/v1/apps", json={"name": "ok", "repo_url": "ftp://x/y/z"}, headers=auth)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("repo_url: must be")


def test_validation_errors_are_problem_json(client: TestClient, auth: dict[str, str]) -> None:
    response = client.post("/api/v1/apps", json={"repo_url": REPO}, headers=auth)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "name: Field required"


def test_every_route_needs_a_valid_bearer_token(client: TestClient, auth: dict[str, str]) -> None:
    assert client.get("/api/v1/apps").status_code == 401
    bad = client.get("/api/v1/apps", headers={"Authorization": "Bearer dy_wrong"})
    assert bad.status_code == 401
    assert bad.headers["content-type"] == "application/problem+json"
    assert "dockyard login" in bad.json()["detail"]
    assert client.get("/api/v1/apps", headers=auth).status_code == 200


def test_unknown_app_is_404_problem(client: TestClient, auth: dict[str, str]) -> None:
    response = client.get("/api/v1/apps/nope", headers=auth)

    assert response.status_code == 404
    assert response.json()["title"] == "Not found"


def test_env_values_are_encrypted_and_never_returned(client: TestClient, auth: dict[str, str]) -> None:
    create(client, auth)
    response = client.put(
        "/api/v1/apps/hello/env", json={"GREETING": "hi there", "TOKEN": "s3cr3t"}, headers=auth
    )

    assert response.status_code == 200
    assert response.json() == {"keys": ["GREETING", "TOKEN"], "deployment": None}
    assert "s3cr3t" not in client.get("/api/v1/apps/hello", headers=auth).text
    with db.session_scope() as session:
        stored = session.scalars(select(EnvVar.value_encrypted)).all()
    assert stored and all("s3cr3t" not in value and "hi there" not in value for value in stored)
    again = client.put("/api/v1/apps/hello/env", json={"OTHER": "1"}, headers=auth)
    assert again.json()["keys"] == ["GREETING", "OTHER", "TOKEN"]


def test_env_rejects_bad_and_reserved_keys(client: TestClient, auth: dict[str, str]) -> None:
    create(client, auth)

    assert client.put("/api/v1/apps/hello/env", json={"1BAD": "x"}, headers=auth).json()["where"] == "1BAD"
    reserved = client.put("/api/v1/apps/hello/env", json={"PORT": "1"}, headers=auth)
    assert reserved.status_code == 422
    assert "Dockyard sets PORT" in reserved.json()["detail"]


def test_volumes_are_validated(client: TestClient, auth: dict[str, str]) -> None:
    create(client, auth)
    ok = client.post(
        "/api/v1/apps/hello/volumes", json={"name": "uploads", "mount_path": "/data"}, headers=auth
    )

    assert ok.status_code == 201
    assert ok.json() == {"name": "uploads", "mount_path": "/data", "process": None, "deployment": None}
    hidden = client.post(
        "/api/v1/apps/hello/volumes", json={"name": "code", "mount_path": "/app"}, headers=auth
    )
    assert hidden.status_code == 422
    twice = client.post(
        "/api/v1/apps/hello/volumes", json={"name": "uploads", "mount_path": "/x"}, headers=auth
    )
    assert twice.status_code == 409


def test_a_volume_can_belong_to_one_process(client: TestClient, auth: dict[str, str]) -> None:
    create(client, auth)

    def add(**body: str) -> httpx.Response:
        return client.post("/api/v1/apps/hello/volumes", json=body, headers=auth)

    assert add(name="scratch", mount_path="/scratch", process="worker").json()["process"] == "worker"
    # Another process may use the same path; a volume every process mounts may not.
    assert add(name="beat-scratch", mount_path="/scratch", process="beat").status_code == 201
    assert add(name="everyone", mount_path="/scratch").status_code == 409
    assert add(name="again", mount_path="/scratch", process="worker").status_code == 409
    bad = add(name="odd", mount_path="/odd", process="Worker!")
    assert (bad.status_code, bad.json()["where"]) == (422, "process")


def test_volumes_are_listed_and_detached(client: TestClient, auth: dict[str, str]) -> None:
    create(client, auth)
    client.post(
        "/api/v1/apps/hello/volumes", json={"name": "media", "mount_path": "/app/media"}, headers=auth
    )
    client.post("/api/v1/apps/hello/volumes", json={"name": "cache", "mount_path": "/cache"}, headers=auth)

    detached = client.delete("/api/v1/apps/hello/volumes/cache", headers=auth)
    missing = client.delete("/api/v1/apps/hello/volumes/cache", headers=auth)

    assert detached.status_code == 200
    assert detached.json()["mount_path"] == "/cache"
    assert client.get("/api/v1/apps/hello/volumes", headers=auth).json() == [
        {"name": "media", "mount_path": "/app/media", "process": None, "deployment": None}
    ]
    assert missing.status_code == 404
    assert missing.json()["detail"].startswith("app 'hello' has no volume 'cache'")


def test_deploy_by_api_queues_a_task(
    client: TestClient, auth: dict[str, str], queued: Callable[[], list[int]]
) -> None:
    create(client, auth)
    response = client.post("/api/v1/apps/hello/deployments", json={"ref": "v1.0"}, headers=auth)

    assert response.status_code == 202
    accepted = response.json()
    assert accepted["status"] == "queued"
    assert queued() == [accepted["id"]]
    listed = client.get("/api/v1/apps/hello/deployments", headers=auth).json()
    assert [(d["id"], d["ref"], d["trigger"]) for d in listed] == [(accepted["id"], "v1.0", "api")]
    one = client.get(f"/api/v1/apps/hello/deployments/{accepted['id']}", headers=auth).json()
    assert one["status"] == "queued"
    assert one["error"] is None


def test_openapi_documents_the_contract(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    for path in (
        "/api/v1/apps",
        "/api/v1/apps/{name}",
        "/api/v1/apps/{name}/env",
        "/api/v1/apps/{name}/volumes",
        "/api/v1/apps/{name}/deployments",
        "/api/v1/apps/{name}/deployments/{deployment_id}",
        "/api/v1/apps/{name}/deployments/{deployment_id}/logs",
        "/api/v1/apps/{name}/services",
        "/webhooks/github",
    ):
        assert path in paths


def test_services_when_the_engine_is_down_is_a_503_problem(
    client: TestClient, auth: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    create(client, auth)
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{free_port()}")

    response = client.get("/api/v1/apps/hello/services", headers=auth)

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"].startswith("the Docker engine does not answer")


def test_unknown_routes_are_problem_json_too(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_a_log_left_in_redis_by_a_reset_database_never_shows(
    client: TestClient, auth: dict[str, str], queued: Callable[[], list[int]]
) -> None:
    settings = get_settings()
    old = DeployLog(
        redis.Redis.from_url(settings.redis_url),
        instance=settings.instance,
        deployment_id=1,
        created_at=datetime(2020, 1, 1, tzinfo=UTC),
    )
    old.append("=====> Live at a release of a database that no longer exists")
    old.end()
    create(client, auth)
    accepted = client.post("/api/v1/apps/hello/deployments", headers=auth).json()
    assert accepted["id"] == 1

    response = client.get("/api/v1/apps/hello/deployments/1/logs", headers=auth)

    assert response.status_code == 200
    assert response.text == ""


def test_explicit_build_settings_are_validated_and_kept(client: TestClient, auth: dict[str, str]) -> None:
    config = {"build": {"root": "./api/", "python": "3.12"}, "processes": {"web": "gunicorn app:app"}}
    created = client.post(
        "/api/v1/apps", json={"name": "hello", "repo_url": REPO, "config": config}, headers=auth
    ).json()

    assert created["config"] == {
        "build": {"root": "api", "python": "3.12"},
        "processes": {"web": {"command": "gunicorn app:app"}},
    }
    bad = client.put(
        "/api/v1/apps/hello/config",
        json={"processes": {"web": {"command": 42}}, "healthcheck": {"path": "healthz"}},
        headers=auth,
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["detail"] == (
        "config: processes.web.command: must be a string; healthcheck.path: must start with /"
    )
    replaced = client.put("/api/v1/apps/hello/config", json={"deploy": {"release": ""}}, headers=auth)
    assert replaced.json()["config"] == {"deploy": {"release": ""}}
    assert client.get("/api/v1/apps/hello", headers=auth).json()["config"] == {"deploy": {"release": ""}}
