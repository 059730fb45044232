"""GET /api/v1/apps/{name}/deliveries: the delivery log, newest first, paged with a Link header."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.github_payloads import push_for, signed_headers

REPO = "https://github.com/Octo/Hello.git"


def make_app(client: TestClient, auth: dict[str, str], name: str = "hello") -> str:
    response = client.post(
        "/api/v1/apps", json={"name": name, "repo_url": REPO, "branch": "main"}, headers=auth
    )
    assert response.status_code == 201, response.text
    return response.json()["webhook_secret"]


def push(client: TestClient, secret: str, *, branch: str, delivery: str) -> None:
    body = json.dumps(push_for("octo/hello", branch=branch, after="a" * 40)).encode()
    client.post(
        "/webhooks/github",
        content=body,
        headers=signed_headers(secret, body, event="push", delivery=delivery),
    )


def test_the_log_says_what_each_delivery_did_newest_first(
    client: TestClient, auth: dict[str, str], queued: Callable[[], list[int]]
) -> None:
    secret = make_app(client, auth)
    push(client, secret, branch="dev", delivery="d-1")
    push(client, secret, branch="main", delivery="d-2")
    push(client, "wrong", branch="main", delivery="d-3")

    response = client.get("/api/v1/apps/hello/deliveries", headers=auth)

    assert response.status_code == 200
    assert "link" not in response.headers
    rows = response.json()
    assert [row["delivery_id"] for row in rows] == ["d-3", "d-2", "d-1"]
    assert [row["id"] for row in rows] == sorted((row["id"] for row in rows), reverse=True)
    rejected, deployed, ignored = rows
    assert (rejected["signature_ok"], rejected["decision"], rejected["deployment"]) == (
        False,
        "rejected: bad signature",
        None,
    )
    assert deployed["signature_ok"] is True
    assert deployed["decision"] == f"deploying aaaaaaa as deployment {deployed['deployment']}"
    assert (ignored["event"], ignored["decision"], ignored["deployment"]) == (
        "push",
        "ignored: push to `dev`, app tracks `main`",
        None,
    )
    assert queued() == [deployed["deployment"]]
    assert set(ignored) == {
        "id",
        "delivery_id",
        "event",
        "received_at",
        "signature_ok",
        "decision",
        "deployment",
    }


def test_pages_follow_the_link_header(client: TestClient, auth: dict[str, str]) -> None:
    secret = make_app(client, auth)
    for n in range(5):
        push(client, secret, branch="dev", delivery=f"d-{n}")

    first = client.get("/api/v1/apps/hello/deliveries?limit=2", headers=auth)
    ids = [row["id"] for row in first.json()]
    assert first.headers["link"] == (
        f'<http://localhost:8000/api/v1/apps/hello/deliveries?limit=2&before={ids[-1]}>; rel="next"'
    )

    seen = [row["delivery_id"] for row in first.json()]
    response = first
    while "next" in response.links:
        response = client.get(response.links["next"]["url"], headers=auth)
        assert response.status_code == 200
        seen += [row["delivery_id"] for row in response.json()]

    assert seen == ["d-4", "d-3", "d-2", "d-1", "d-0"]
    assert len(response.json()) == 1  # the last page, without a Link header


def test_a_full_last_page_has_no_next_link(client: TestClient, auth: dict[str, str]) -> None:
    secret = make_app(client, auth)
    for n in range(2):
        push(client, secret, branch="dev", delivery=f"d-{n}")

    response = client.get("/api/v1/apps/hello/deliveries?limit=2", headers=auth)

    assert len(response.json()) == 2
    assert "link" not in response.headers


def test_each_app_sees_only_its_deliveries(client: TestClient, auth: dict[str, str]) -> None:
    secret = make_app(client, auth, "hello")
    make_app(client, auth, "other")
    push(client, secret, branch="dev", delivery="d-1")

    assert client.get("/api/v1/apps/other/deliveries", headers=auth).json() == []
    assert len(client.get("/api/v1/apps/hello/deliveries", headers=auth).json()) == 1


def test_limit_is_1_to_200(client: TestClient, auth: dict[str, str]) -> None:
    make_app(client, auth)

    for limit in (0, 201):
        response = client.get(f"/api/v1/apps/hello/deliveries?limit={limit}", headers=auth)
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["where"] == "limit"
    assert client.get("/api/v1/apps/hello/deliveries?limit=200", headers=auth).status_code == 200


def test_the_log_needs_a_token_and_a_known_app(client: TestClient, auth: dict[str, str]) -> None:
    make_app(client, auth)

    assert client.get("/api/v1/apps/hello/deliveries").status_code == 401
    assert client.get("/api/v1/apps/nope/deliveries", headers=auth).status_code == 404
