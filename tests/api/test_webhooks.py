"""POST /webhooks/github with real payload shapes and real signatures."""

from __future__ import annotations

import json
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.github_payloads import payload, push_for, signed_headers

REPO = "https://github.com/Octo/Hello.git"


def make_app(client: TestClient, auth: dict[str, str], name: str = "hello", branch: str = "main") -> str:
    response = client.post(
        "/api/v1/apps", json={"name": name, "repo_url": REPO, "branch": branch}, headers=auth
    )
    return response.json()["webhook_secret"]


def deliveries(client: TestClient, auth: dict[str, str], app: str = "hello") -> list[dict]:
    return client.get(f"/api/v1/apps/{app}/deployments", headers=auth).json()


def test_signed_push_queues_the_after_commit(
    client: TestClient, auth: dict[str, str], queued: Callable[[], list[int]]
) -> None:
    secret = make_app(client, auth)
    body = json.dumps(push_for("octo/hello", branch="main", after="c" * 40)).encode()

    response = client.post(
        "/webhooks/github", content=body, headers=signed_headers(secret, body, event="push")
    )

    assert response.status_code == 202
    result = response.json()["results"][0]
    assert result["app"] == "hello"
    assert result["decision"] == f"deploying ccccccc as deployment {result['deployment']}"
    deployment = deliveries(client, auth)[0]
    assert (deployment["commit"], deployment["trigger"], deployment["status"]) == ("c" * 40, "push", "queued")
    assert queued() == [result["deployment"]]


def test_the_same_delivery_twice_deploys_once(
    client: TestClient, auth: dict[str, str], queued: Callable[[], list[int]]
) -> None:
    secret = make_app(client, auth)
    body = json.dumps(push_for("Octo/Hello", branch="main", after="d" * 40)).encode()
    headers = signed_headers(secret, body, event="push", delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")

    first = client.post("/webhooks/github", content=body, headers=headers)
    second = client.post("/webhooks/github", content=body, headers=headers)

    assert first.status_code == 202
    assert second.status_code == 200
    assert second.json()["results"][0]["decision"].startswith("duplicate: delivery 72d3162e")
    assert len(deliveries(client, auth)) == 1
    assert len(queued()) == 1


def test_push_to_another_branch_is_acknowledged_and_ignored(client: TestClient, auth: dict[str, str]) -> None:
    secret = make_app(client, auth)
    body = json.dumps(push_for("octo/hello", branch="dev", after="e" * 40)).encode()

    response = client.post(
        "/webhooks/github", content=body, headers=signed_headers(secret, body, event="push")
    )

    assert response.status_code == 200
    assert response.json()["results"][0]["decision"] == "ignored: push to `dev`, app tracks `main`"
    assert deliveries(client, auth) == []


def test_only_apps_tracking_the_repo_and_branch_deploy(client: TestClient, auth: dict[str, str]) -> None:
    secret = make_app(client, auth, "hello")
    make_app(client, auth, "staging", branch="staging")
    body = json.dumps(push_for("octo/hello", branch="main", after="f" * 40)).encode()

    response = client.post(
        "/webhooks/github", content=body, headers=signed_headers(secret, body, event="push")
    )

    # Each app has its own secret: only the one whose secret signed the delivery acts on it.
    assert [r["app"] for r in response.json()["results"]] == ["hello"]
    assert deliveries(client, auth, "staging") == []


def test_missing_or_sha1_only_signatures_are_rejected(client: TestClient, auth: dict[str, str]) -> None:
    make_app(client, auth)
    body = json.dumps(push_for("octo/hello", branch="main", after="a" * 40)).encode()
    headers = {"X-GitHub-Event": "push", "X-GitHub-Delivery": "1", "Content-Type": "application/json"}

    unsigned = client.post("/webhooks/github", content=body, headers=headers)
    sha1 = client.post("/webhooks/github", content=body, headers={**headers, "X-Hub-Signature": "sha1=abc"})

    assert unsigned.status_code == 401
    assert unsigned.headers["content-type"] == "application/problem+json"
    assert "X-Hub-Signature-256 is missing" in unsigned.json()["detail"]
    assert sha1.status_code == 401
    assert sha1.json()["detail"].startswith("only a SHA-1 signature was sent")
    assert deliveries(client, auth) == []


def test_a_wrong_secret_is_rejected(client: TestClient, auth: dict[str, str]) -> None:
    make_app(client, auth)
    body = json.dumps(push_for("octo/hello", branch="main", after="a" * 40)).encode()

    response = client.post(
        "/webhooks/github", content=body, headers=signed_headers("wrong", body, event="push")
    )

    assert response.status_code == 401
    assert "check the webhook's secret" in response.json()["detail"]
    assert deliveries(client, auth) == []


def test_a_body_changed_after_signing_is_rejected(client: TestClient, auth: dict[str, str]) -> None:
    secret = make_app(client, auth)
    body = json.dumps(push_for("octo/hello", branch="main", after="a" * 40)).encode()
    headers = signed_headers(secret, body, event="push")

    response = client.post("/webhooks/github", content=body.replace(b"aaaa", b"bbbb", 1), headers=headers)

    assert response.status_code == 401


def test_ping_answers_pong(client: TestClient, auth: dict[str, str]) -> None:
    secret = make_app(client, auth)
    ping = payload("ping")
    ping["repository"]["full_name"] = "octo/hello"
    body = json.dumps(ping).encode()

    response = client.post(
        "/webhooks/github", content=body, headers=signed_headers(secret, body, event="ping")
    )

    assert response.status_code == 200
    assert response.json()["results"][0]["decision"].startswith("pong")


def test_a_repo_no_app_tracks_is_404(client: TestClient, auth: dict[str, str]) -> None:
    make_app(client, auth)
    body = json.dumps(push_for("someone/else", branch="main", after="a" * 40)).encode()

    response = client.post("/webhooks/github", content=body, headers=signed_headers("x", body, event="push"))

    assert response.status_code == 404
    assert response.json()["detail"].startswith("no app tracks someone/else")


def test_tag_deletion_payload_is_ignored(client: TestClient, auth: dict[str, str]) -> None:
    secret = make_app(client, auth)
    deletion = payload("with-installation")
    deletion["repository"]["full_name"] = "Octo/Hello"
    body = json.dumps(deletion).encode()

    response = client.post(
        "/webhooks/github", content=body, headers=signed_headers(secret, body, event="push")
    )

    assert response.status_code == 200
    assert response.json()["results"][0]["decision"] == "ignored: `refs/tags/simple-tag` was deleted"
