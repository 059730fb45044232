"""Generic deploy hooks: a secret URL deploys the app; rotating or disabling it makes the old URL 404."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from core import crypto
from core.db import session_scope
from core.models import App, Deployment

NOT_FOUND = "no such deploy hook: `POST /api/v1/apps/{name}/deploy-hook` creates one and shows its URL"


@pytest.fixture
def app(client: TestClient, auth: dict[str, str]) -> str:
    response = client.post(
        "/api/v1/apps",
        json={"name": "hello", "repo_url": "https://github.com/octo/hello.git", "branch": "main"},
        headers=auth,
    )
    assert response.status_code == 201, response.text
    return "hello"


def create_hook(client: TestClient, auth: dict[str, str], app: str = "hello") -> str:
    """The hook's path (the URL is built on DOCKYARD_PUBLIC_URL)."""
    response = client.post(f"/api/v1/apps/{app}/deploy-hook", headers=auth)
    assert response.status_code == 201, response.text
    url = response.json()["url"]
    assert url.startswith(f"http://localhost:8000/hooks/deploy/{app}/dh_")
    return urlsplit(url).path


def deployment(deployment_id: int) -> tuple[str, str | None, str]:
    with session_scope() as session:
        row = session.get(Deployment, deployment_id)
        assert row is not None
        return row.trigger, row.ref, row.status


def assert_not_found(response: Response) -> None:
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == NOT_FOUND


def test_a_hook_deploys_the_branch(
    client: TestClient, auth: dict[str, str], app: str, queued: Callable[[], list[int]]
) -> None:
    hook = create_hook(client, auth)

    response = client.post(hook)

    assert response.status_code == 202
    body = response.json()
    assert body == {"id": body["id"], "status": "queued"}
    assert deployment(body["id"]) == ("hook", "main", "queued")
    assert queued() == [body["id"]]


@pytest.mark.parametrize(
    ("kwargs", "ref"),
    [
        ({"json": {"ref": "v1.2"}}, "v1.2"),
        ({"params": {"ref": "v1.2"}}, "v1.2"),
        ({"json": {"ref": "refs/tags/v1.2"}}, "v1.2"),
        ({"json": {"ref": "refs/heads/release", "after": "abc"}}, "release"),
        ({"json": {}}, "main"),
    ],
)
def test_a_hook_deploys_the_ref_it_names(
    client: TestClient,
    auth: dict[str, str],
    app: str,
    queued: Callable[[], list[int]],
    kwargs: dict[str, Any],
    ref: str,
) -> None:
    hook = create_hook(client, auth)

    response = client.post(hook, **kwargs)

    assert response.status_code == 202, response.text
    assert deployment(response.json()["id"]) == ("hook", ref, "queued")


@pytest.mark.parametrize(
    ("kwargs", "where"),
    [
        ({"content": b"ref=v1"}, "body"),
        ({"json": {"ref": 12}}, "ref"),
        ({"json": {"ref": "v1"}, "params": {"ref": "v2"}}, "ref"),
        ({"params": {"ref": "--upload-pack=x"}}, "ref"),
        ({"params": {"ref": "a b"}}, "ref"),
    ],
)
def test_a_bad_ref_is_422(
    client: TestClient, auth: dict[str, str], app: str, kwargs: dict[str, Any], where: str
) -> None:
    hook = create_hook(client, auth)

    response = client.post(hook, **kwargs)

    assert response.status_code == 422
    assert response.json()["where"] == where


def test_only_the_tokens_hash_is_stored(client: TestClient, auth: dict[str, str], app: str) -> None:
    token = create_hook(client, auth).rsplit("/", 1)[1]

    with session_scope() as session:
        stored = session.scalar(select(App.deploy_hook_hash).where(App.name == app))
    assert stored == crypto.hash_token(token)


def test_a_rotated_token_invalidates_the_old_url(
    client: TestClient, auth: dict[str, str], app: str, queued: Callable[[], list[int]]
) -> None:
    old = create_hook(client, auth)
    new = create_hook(client, auth)

    assert new != old
    assert_not_found(client.post(old))
    assert client.post(new).status_code == 202


def test_a_disabled_hook_404s(client: TestClient, auth: dict[str, str], app: str) -> None:
    hook = create_hook(client, auth)

    response = client.delete("/api/v1/apps/hello/deploy-hook", headers=auth)

    assert response.status_code == 204
    assert_not_found(client.post(hook))
    assert client.delete("/api/v1/apps/hello/deploy-hook", headers=auth).status_code == 204  # idempotent


def test_wrong_token_app_or_no_hook_answer_alike(client: TestClient, auth: dict[str, str], app: str) -> None:
    without_hook = client.post("/hooks/deploy/hello/dh_guess")
    hook = create_hook(client, auth)
    token = hook.rsplit("/", 1)[1]

    answers = [
        without_hook,
        client.post("/hooks/deploy/hello/dh_guess"),
        client.post(f"/hooks/deploy/nope/{token}"),
        client.post(hook + "x"),
    ]

    for answer in answers:
        assert_not_found(answer)
    assert len({answer.text for answer in answers}) == 1
    with session_scope() as session:
        assert session.scalars(select(Deployment)).all() == []


def test_the_delivery_log_shows_hook_calls(
    client: TestClient, auth: dict[str, str], app: str, queued: Callable[[], list[int]]
) -> None:
    hook = create_hook(client, auth)
    accepted = client.post(hook, json={"ref": "v1.2"}).json()
    client.post("/hooks/deploy/hello/dh_old")
    client.delete("/api/v1/apps/hello/deploy-hook", headers=auth)
    client.post(hook)

    rows = client.get("/api/v1/apps/hello/deliveries", headers=auth).json()

    assert [(row["event"], row["signature_ok"], row["decision"], row["deployment"]) for row in rows] == [
        ("deploy-hook", False, "rejected: no deploy hook", None),
        ("deploy-hook", False, "rejected: wrong token (an old or mistyped URL)", None),
        ("deploy-hook", True, f"deploy v1.2 → deployment {accepted['id']}", accepted["id"]),
    ]
    assert len({row["delivery_id"] for row in rows}) == 3


def test_managing_the_hook_needs_a_token(client: TestClient, auth: dict[str, str], app: str) -> None:
    assert client.post("/api/v1/apps/hello/deploy-hook").status_code == 401
    assert client.delete("/api/v1/apps/hello/deploy-hook").status_code == 401
    assert client.post("/api/v1/apps/nope/deploy-hook", headers=auth).status_code == 404
