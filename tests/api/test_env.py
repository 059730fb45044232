"""Reading and removing an app's env through the API: keys only, never values; a live app rolls out."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from core.db import session_scope
from core.models import App, Deployment, EnvVar

REPO = "https://github.com/octo-org/hello-world.git"
PROBLEM_JSON = "application/problem+json"


@pytest.fixture
def app(client: TestClient, auth: dict[str, str]) -> str:
    created = client.post("/api/v1/apps", json={"name": "hello", "repo_url": REPO}, headers=auth)
    assert created.status_code == 201
    answer = client.put(
        "/api/v1/apps/hello/env", json={"TOKEN": "s3cr3t", "DEBUG": "1", "GREETING": "hi"}, headers=auth
    )
    assert answer.status_code == 200
    return "hello"


def go_live() -> int:
    """A live release of `hello`, as the pipeline leaves one."""
    with session_scope() as session:
        app = session.scalar(select(App).where(App.name == "hello"))
        assert app is not None
        live = Deployment(
            app_id=app.id, trigger="push", ref="main", commit="c" * 40, status="live", image="test/hello:1"
        )
        session.add(live)
        session.flush()
        return live.id


def test_env_lists_keys_as_secrets_without_values(client: TestClient, auth: dict[str, str], app: str) -> None:
    response = client.get(f"/api/v1/apps/{app}/env", headers=auth)

    assert response.status_code == 200
    assert response.json() == [
        {"key": "DEBUG", "value": None, "is_secret": True},
        {"key": "GREETING", "value": None, "is_secret": True},
        {"key": "TOKEN", "value": None, "is_secret": True},
    ]
    assert "s3cr3t" not in response.text


def test_env_of_an_app_without_variables_is_empty(client: TestClient, auth: dict[str, str]) -> None:
    client.post("/api/v1/apps", json={"name": "bare", "repo_url": REPO}, headers=auth)

    assert client.get("/api/v1/apps/bare/env", headers=auth).json() == []


def test_unset_removes_one_key_and_lists_the_rest(client: TestClient, auth: dict[str, str], app: str) -> None:
    response = client.delete(f"/api/v1/apps/{app}/env/DEBUG", headers=auth)

    assert response.status_code == 200
    assert response.json() == {"keys": ["GREETING", "TOKEN"], "deployment": None}
    with session_scope() as session:
        assert sorted(session.scalars(select(EnvVar.key))) == ["GREETING", "TOKEN"]
    assert [item["key"] for item in client.get(f"/api/v1/apps/{app}/env", headers=auth).json()] == [
        "GREETING",
        "TOKEN",
    ]


def test_unset_an_unknown_key_is_404(client: TestClient, auth: dict[str, str], app: str) -> None:
    response = client.delete(f"/api/v1/apps/{app}/env/NOPE", headers=auth)

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["detail"] == (
        "app 'hello' has no variable 'NOPE'; `GET /api/v1/apps/hello/env` lists them"
    )


def test_unset_on_a_live_app_rolls_out_its_image(
    client: TestClient, auth: dict[str, str], app: str, queued: Callable[[], list[int]]
) -> None:
    live = go_live()

    response = client.delete(f"/api/v1/apps/{app}/env/TOKEN", headers=auth)

    assert response.status_code == 200, response.text
    rollout = response.json()["deployment"]
    assert response.json()["keys"] == ["DEBUG", "GREETING"]
    assert queued() == [rollout]
    with session_scope() as session:
        deployment = session.get(Deployment, rollout)
        assert deployment is not None
        assert (deployment.status, deployment.trigger, deployment.source_deployment_id) == (
            "queued",
            "config",
            live,
        )


@pytest.mark.parametrize(("method", "path"), [("GET", "/env"), ("DELETE", "/env/DEBUG")])
def test_unknown_apps_are_404_and_a_token_is_needed(
    client: TestClient, auth: dict[str, str], method: str, path: str
) -> None:
    unknown = client.request(method, f"/api/v1/apps/nope{path}", headers=auth)

    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "no app named 'nope'; `GET /api/v1/apps` lists yours"
    assert client.request(method, f"/api/v1/apps/nope{path}").status_code == 401
