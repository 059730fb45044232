"""Deploys of apps connected through the GitHub App, reported to GitHub (the local stand-in): a commit status
and a GitHub deployment whose statuses follow the deployment; reports repeated, late or refused."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.services import deployment_reports, github_reports
from core import db
from core.models import Deployment
from core.settings import get_settings
from tests.api.github_fixtures import PUBLIC, REPO, Registered, connected_app, github, registered
from tests.github_payloads import pull_request_for, push_for

__all__ = ["github", "registered"]  # fixtures

SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"


def pushed(client: TestClient, registered: Registered, sha: str = SHA) -> int:
    """A deployment of `sha`, queued by a push the App delivered."""
    response = registered.deliver(client, "push", push_for(REPO, branch="main", after=sha))
    assert response.status_code == 202, response.text
    return int(response.json()["results"][0]["deployment"])


def set_status(deployment_id: int, status: str, *, started: bool = True, error: str | None = None) -> None:
    with db.session_scope() as session:
        deployment = session.get(Deployment, deployment_id)
        assert deployment is not None
        deployment.status = status
        deployment.started_at = datetime.now(UTC) if started else None
        deployment.error = error


def posted(registered: Registered, since: int = 0) -> list[tuple[str, Any]]:
    """What Dockyard posted to GitHub after the first `since` requests, as (kind, body)."""
    kinds = []
    for call in registered.github.calls[since:]:
        if call.method != "POST" or not call.path.startswith("/repos/"):
            continue
        kind = "status" if "/statuses/" in call.path and "/deployments/" not in call.path else None
        kind = kind or ("deployment status" if call.path.endswith("/statuses") else "deployment")
        kinds.append((kind, call.body))
    return kinds


def report(deployment_id: int) -> None:
    github_reports.report(get_settings(), deployment_id)


def test_a_deploy_is_followed_on_the_commit_and_as_a_github_deployment(
    client: TestClient, auth: dict[str, str], registered: Registered
) -> None:
    connected_app(client, auth, registered)
    deployment = pushed(client, registered)
    log_url = f"{PUBLIC}/api/v1/apps/hello/deployments/{deployment}/logs"
    app_url = "http://hello.localhost:8080/"

    deployment_reports.report(get_settings(), deployment, "queued")

    (github_deployment,) = registered.github.deployments
    assert posted(registered) == [
        (
            "status",
            {
                "state": "pending",
                "target_url": log_url,
                "description": f"Queued as deployment {deployment}",
                "context": "dockyard/hello",
            },
        ),
        (
            "deployment",
            {
                "ref": SHA,
                "auto_merge": False,
                "required_contexts": [],
                "environment": "hello",
                "description": f"Dockyard deployment {deployment} of hello",
                "transient_environment": False,
                "production_environment": True,
            },
        ),
        (
            "deployment status",
            {
                "state": "queued",
                "log_url": log_url,
                "environment_url": app_url,
                "description": f"Queued as deployment {deployment}",
            },
        ),
    ]
    assert registered.github.calls_to("POST", f"/repos/{REPO}/statuses/{SHA}")[0].auth == (
        f"token:{registered.installation}"
    )

    seen = len(registered.github.calls)
    report(deployment)  # the same status again: a redelivered task
    assert posted(registered, seen) == []

    for status, commit_state, deployment_state, description in (
        ("building", "pending", "in_progress", f"Building deployment {deployment}"),
        ("deploying", "pending", None, f"Releasing deployment {deployment}"),  # in_progress already
        ("live", "success", "success", f"Live at {app_url}"),
    ):
        set_status(deployment, status)
        seen = len(registered.github.calls)
        report(deployment)
        expected: list[tuple[str, Any]] = [
            (
                "status",
                {
                    "state": commit_state,
                    "target_url": log_url,
                    "description": description,
                    "context": "dockyard/hello",
                },
            )
        ]
        if deployment_state:
            expected.append(
                (
                    "deployment status",
                    {
                        "state": deployment_state,
                        "log_url": log_url,
                        "environment_url": app_url,
                        "description": description,
                    },
                )
            )
        assert posted(registered, seen) == expected, status
    assert registered.github.calls_to("POST", f"/repos/{REPO}/deployments/{github_deployment}/statuses")

    # A late report of an earlier status posts nothing: reports follow the deployment as it is now.
    seen = len(registered.github.calls)
    deployment_reports.report(get_settings(), deployment, "building")
    assert posted(registered, seen) == []
    # Replaced by a newer release after it was live: GitHub shows that by itself.
    set_status(deployment, "superseded")
    report(deployment)
    assert posted(registered, seen) == []


@pytest.mark.parametrize(
    ("started", "error", "state", "deployment_state", "description"),
    [
        (
            True,
            "No matching distribution found for nope",
            "failure",
            "failure",
            "Failed: No matching distribution found for nope",
        ),
        (
            False,
            "stuck in queued: its worker stopped",
            "error",
            "error",
            "Failed: stuck in queued: its worker stopped",
        ),
    ],
)
def test_a_failed_deploy_is_a_failure_or_an_error(
    client: TestClient,
    auth: dict[str, str],
    registered: Registered,
    started: bool,
    error: str,
    state: str,
    deployment_state: str,
    description: str,
) -> None:
    connected_app(client, auth, registered)
    deployment = pushed(client, registered)
    set_status(deployment, "failed", started=started, error=error)

    report(deployment)

    kinds = posted(registered)
    assert [kind for kind, _body in kinds] == ["status", "deployment", "deployment status"]
    assert (kinds[0][1]["state"], kinds[0][1]["description"]) == (state, description)
    assert (kinds[2][1]["state"], kinds[2][1]["description"]) == (deployment_state, description)


def test_a_superseded_commit_is_marked_not_deployed(
    client: TestClient, auth: dict[str, str], registered: Registered
) -> None:
    connected_app(client, auth, registered)
    first = pushed(client, registered)
    report(first)
    newer = pushed(client, registered, sha="a" * 40)
    set_status(first, "superseded", started=False, error=f"deployment {newer} replaced it")
    seen = len(registered.github.calls)

    report(first)

    assert [(kind, body["state"], body["description"]) for kind, body in posted(registered, seen)] == [
        ("status", "success", f"Not deployed: deployment {newer} replaced it"),
        ("deployment status", "inactive", f"Not deployed: deployment {newer} replaced it"),
    ]


def test_a_preview_is_reported_in_its_own_transient_environment(
    client: TestClient, auth: dict[str, str], registered: Registered
) -> None:
    connected_app(client, auth, registered)
    response = registered.deliver(
        client, "pull_request", pull_request_for(REPO, action="opened", number=3, head="fix", sha=SHA)
    )

    report(response.json()["results"][0]["deployment"])

    ((kind, status), (_, opened), _queued) = posted(registered)
    assert (kind, status["context"]) == ("status", "dockyard/hello-pr-3")
    assert (opened["environment"], opened["transient_environment"], opened["production_environment"]) == (
        "hello-pr-3",
        True,
        False,
    )


def test_apps_not_connected_or_without_a_commit_are_not_reported(
    client: TestClient, auth: dict[str, str], registered: Registered
) -> None:
    client.post(
        "/api/v1/apps", json={"name": "plain", "repo_url": f"https://github.com/{REPO}.git"}, headers=auth
    )
    by_hand = client.post("/api/v1/apps/plain/deployments", headers=auth).json()["id"]
    connected_app(client, auth, registered)
    no_commit_yet = client.post("/api/v1/apps/hello/deployments", json={"ref": "main"}, headers=auth).json()[
        "id"
    ]
    seen = len(registered.github.calls)

    report(by_hand)
    report(no_commit_yet)

    assert registered.github.calls[seen:] == []


def test_a_refusal_by_github_is_logged_without_secrets(
    client: TestClient, auth: dict[str, str], registered: Registered, caplog: pytest.LogCaptureFixture
) -> None:
    registered.github.installations[registered.installation].permissions = {
        "metadata": "read",
        "statuses": "read",
    }
    connected_app(client, auth, registered)
    deployment = pushed(client, registered)

    with caplog.at_level(logging.WARNING, logger="api.services.github_reports"):
        report(deployment)  # does not raise

    (record,) = caplog.records
    message = record.getMessage()
    assert message.startswith(
        f"could not report deployment {deployment} of hello to GitHub (queued): GitHub denied"
    )
    assert "grants statuses: write" in message
    assert not any(secret in message for secret in registered.github.app_secrets.values())
    assert "ghs_" not in message
