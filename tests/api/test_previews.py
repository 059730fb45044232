"""Pull request previews through POST /webhooks/github, on GitHub's own pull_request payloads: opened,
synchronize and reopened deploy a preview app, closed plans its removal, and what gets no preview says why."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from api.services import previews
from core.celery_app import celery_app
from core.settings import get_settings
from tests.api.github_fixtures import Registered, connected_app, github, registered
from tests.github_payloads import pull_request_for, push_for, signed_headers

__all__ = ["github", "registered"]  # fixtures

REPO = "octo/hello"
SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
SHA2 = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"


@pytest.fixture
def secret(client: TestClient, auth: dict[str, str]) -> str:
    """The app `hello` on octo/hello, with env and a volume for its previews to copy."""
    created = client.post(
        "/api/v1/apps", json={"name": "hello", "repo_url": f"https://github.com/{REPO}.git"}, headers=auth
    )
    assert created.status_code == 201, created.text
    client.put("/api/v1/apps/hello/env", json={"DATABASE_URL": "postgres://x"}, headers=auth)
    client.put("/api/v1/apps/hello/env?secret=false", json={"LOG_LEVEL": "debug"}, headers=auth)
    client.post("/api/v1/apps/hello/volumes", json={"name": "data", "mount_path": "/data"}, headers=auth)
    return str(created.json()["webhook_secret"])


@pytest.fixture
def teardowns() -> Iterator[Callable[[], list[list[int]]]]:
    """The preview removals the API put on this run's real events queue, as [app id, last deployment]."""
    client = redis.Redis.from_url(get_settings().redis_url)
    queue = celery_app.conf.task_routes["api.tasks.teardown_preview"]["queue"]
    client.delete(queue)

    def read() -> list[list[int]]:
        messages = [json.loads(raw) for raw in client.lrange(queue, 0, -1)]
        return [
            json.loads(base64.b64decode(message["body"]))[0]
            for message in messages
            if message["headers"]["task"] == "api.tasks.teardown_preview"  # reports share the queue
        ]

    yield read
    client.delete(queue)


def deliver(client: TestClient, secret: str, action: str, number: int = 7, **changes: str):
    body = json.dumps(
        pull_request_for(
            REPO,
            action=action,
            number=number,
            head=changes.pop("head", "feature"),
            sha=changes.pop("sha", SHA),
            **changes,
        )
    ).encode()
    return client.post(
        "/webhooks/github", content=body, headers=signed_headers(secret, body, event="pull_request")
    )


def test_an_opened_pull_request_gets_its_own_app_and_host(
    client: TestClient, auth: dict[str, str], secret: str, queued: Callable[[], list[int]]
) -> None:
    response = deliver(client, secret, "opened")

    assert response.status_code == 202
    (result,) = response.json()["results"]
    deployment = result["deployment"]
    assert result == {
        "app": "hello",
        "decision": f"deploying pull request #7 (ec26c3e) to preview hello-pr-7 as deployment {deployment}",
        "deployment": deployment,
    }
    assert queued() == [deployment]
    listed = client.get("/api/v1/apps/hello/previews", headers=auth).json()
    assert [
        {key: row[key] for key in ("name", "pr_number", "branch", "url", "live_deployment")} for row in listed
    ] == [
        {
            "name": "hello-pr-7",
            "pr_number": 7,
            "branch": "feature",
            "url": "http://hello-pr-7.localhost:8080/",
            "live_deployment": None,
        }
    ]
    preview = client.get("/api/v1/apps/hello-pr-7", headers=auth).json()
    assert (preview["team"], preview["repo_url"], preview["branch"]) == (
        client.get("/api/v1/apps/hello", headers=auth).json()["team"],
        f"https://github.com/{REPO}.git",
        "feature",
    )
    assert client.get("/api/v1/apps/hello-pr-7/env", headers=auth).json() == [
        {"key": "DATABASE_URL", "value": None, "is_secret": True},
        {"key": "LOG_LEVEL", "value": "debug", "is_secret": False},
    ]
    (queued_deployment,) = client.get("/api/v1/apps/hello-pr-7/deployments", headers=auth).json()
    assert (queued_deployment["id"], queued_deployment["trigger"], queued_deployment["ref"]) == (
        deployment,
        "pull_request",
        "feature",
    )
    assert queued_deployment["commit"] == SHA


def test_new_commits_redeploy_the_same_preview(
    client: TestClient, auth: dict[str, str], secret: str, queued: Callable[[], list[int]]
) -> None:
    first = deliver(client, secret, "opened").json()["results"][0]["deployment"]

    second = deliver(client, secret, "synchronize", sha=SHA2)

    assert second.status_code == 202
    assert second.json()["results"][0]["decision"].startswith(
        "deploying pull request #7 (f95f852) to preview hello-pr-7"
    )
    assert [row["name"] for row in client.get("/api/v1/apps/hello/previews", headers=auth).json()] == [
        "hello-pr-7"
    ]
    deployments = client.get("/api/v1/apps/hello-pr-7/deployments", headers=auth).json()
    assert [(row["id"], row["commit"]) for row in deployments] == [
        (second.json()["results"][0]["deployment"], SHA2),
        (first, SHA),
    ]
    assert len(queued()) == 2


def test_closing_the_pull_request_plans_the_removal_of_its_preview(
    client: TestClient, auth: dict[str, str], secret: str, teardowns: Callable[[], list[list[int]]]
) -> None:
    opened = deliver(client, secret, "opened").json()["results"][0]["deployment"]

    closed = deliver(client, secret, "closed")

    assert closed.status_code == 202
    assert closed.json()["results"][0] == {
        "app": "hello",
        "decision": "removing preview hello-pr-7: pull request #7 was closed",
        "deployment": None,
    }
    superseded = client.get(f"/api/v1/apps/hello-pr-7/deployments/{opened}", headers=auth).json()
    assert (superseded["status"], superseded["error"]) == ("superseded", "pull request #7 was closed")
    ((app_id, last_deployment),) = teardowns()
    assert last_deployment == opened

    # Reopened before the removal ran: the preview deploys again and the removal leaves it alone.
    reopened = deliver(client, secret, "reopened")
    assert reopened.status_code == 202
    kept = previews.teardown(
        get_settings(),
        previews.Teardown(app_id=app_id, last_deployment=last_deployment),
        redis_client=redis.Redis.from_url(get_settings().redis_url),
    )
    assert kept == (
        f"kept preview hello-pr-7: its pull request was reopened "
        f"(deployment {reopened.json()['results'][0]['deployment']})"
    )
    assert client.get("/api/v1/apps/hello-pr-7", headers=auth).status_code == 200


@pytest.mark.parametrize(
    ("action", "changes", "decision"),
    [
        (
            "opened",
            {"head_repo": "mallory/hello"},
            "ignored: pull request #7 comes from the fork mallory/hello; only branches of octo/hello get "
            "previews, so the app's secrets never reach a fork's code",
        ),
        ("opened", {"base": "dev"}, "ignored: pull request #7 targets `dev`, app tracks `main`"),
        ("closed", {}, "ignored: pull request #7 has no preview"),
        ("opened", {"sha": "not-a-sha"}, "ignored: pull request #7 names no head commit"),
    ],
)
def test_pull_requests_that_get_no_preview_say_why(
    client: TestClient,
    auth: dict[str, str],
    secret: str,
    queued: Callable[[], list[int]],
    action: str,
    changes: dict[str, str],
    decision: str,
) -> None:
    response = deliver(client, secret, action, **changes)

    assert response.status_code == 200
    assert response.json()["results"] == [{"app": "hello", "decision": decision, "deployment": None}]
    assert client.get("/api/v1/apps/hello/previews", headers=auth).json() == []
    (logged,) = client.get("/api/v1/apps/hello/deliveries", headers=auth).json()
    assert (logged["event"], logged["decision"]) == ("pull_request", decision)
    assert queued() == []


def test_other_pull_request_actions_change_nothing(
    client: TestClient, auth: dict[str, str], secret: str
) -> None:
    body = pull_request_for(REPO, action="opened", number=7, head="feature", sha=SHA)
    body["action"] = "labeled"
    raw = json.dumps(body).encode()

    response = client.post(
        "/webhooks/github", content=raw, headers=signed_headers(secret, raw, event="pull_request")
    )

    assert (
        response.json()["results"][0]["decision"]
        == "ignored: `labeled` pull request events change no preview"
    )


def test_a_mis_signed_pull_request_is_rejected(client: TestClient, auth: dict[str, str], secret: str) -> None:
    response = deliver(client, "wrong", "opened")

    assert response.status_code == 401
    assert client.get("/api/v1/apps/hello/previews", headers=auth).json() == []
    (logged,) = client.get("/api/v1/apps/hello/deliveries", headers=auth).json()
    assert (logged["signature_ok"], logged["decision"]) == (False, "rejected: bad signature")


def test_pushes_to_the_head_branch_do_not_deploy_the_preview(
    client: TestClient, auth: dict[str, str], secret: str, queued: Callable[[], list[int]]
) -> None:
    deliver(client, secret, "opened")
    body = json.dumps(push_for(REPO, branch="feature", after=SHA2)).encode()

    response = client.post(
        "/webhooks/github", content=body, headers=signed_headers(secret, body, event="push")
    )

    assert response.json()["results"] == [
        {"app": "hello", "decision": "ignored: push to `feature`, app tracks `main`", "deployment": None}
    ]
    assert len(queued()) == 1


def test_preview_names_fit_a_dns_label(client: TestClient, auth: dict[str, str]) -> None:
    parent = "a-rather-long-application-name"  # 30 characters, the most an app name has
    created = client.post(
        "/api/v1/apps", json={"name": parent, "repo_url": f"https://github.com/{REPO}.git"}, headers=auth
    )
    taken = client.post(
        "/api/v1/apps", json={"name": "hello", "repo_url": f"https://github.com/{REPO}.git"}, headers=auth
    )
    client.post(
        "/api/v1/apps",
        json={"name": "hello-pr-12345", "repo_url": "https://github.com/o/x.git"},
        headers=auth,
    )

    long = deliver(client, created.json()["webhook_secret"], "opened", number=12345)
    clash = deliver(client, taken.json()["webhook_secret"], "opened", number=12345)

    assert long.status_code == 202
    # The parent's name, shortened, and a hash of it, so two long names sharing a start do not clash.
    assert (
        client.get(f"/api/v1/apps/{parent}/previews", headers=auth).json()[0]["name"]
        == "a-rather-long-ap-c536-pr-12345"
    )
    assert clash.json()["results"][0]["decision"] == (
        "ignored: pull request #12345's preview would be hello-pr-12345, a name another app has"
    )


def test_an_app_is_not_deleted_while_a_preview_of_it_deploys(
    client: TestClient, auth: dict[str, str], secret: str
) -> None:
    deployment = deliver(client, secret, "opened").json()["results"][0]["deployment"]

    response = client.delete("/api/v1/apps/hello", headers=auth)

    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"deployment {deployment} of 'hello-pr-7' is queued; wait for deployment {deployment} to finish, "
        "then delete the app"
    )


def test_previews_of_a_connected_app_come_from_the_apps_deliveries(
    client: TestClient, auth: dict[str, str], registered: Registered
) -> None:
    connected_app(client, auth, registered)

    response = registered.deliver(
        client, "pull_request", pull_request_for(REPO, action="opened", number=3, head="fix", sha=SHA)
    )

    assert response.status_code == 202
    assert client.get("/api/v1/apps/hello-pr-3/github", headers=auth).json()["installation_id"] == (
        registered.installation
    )
