"""POST /webhooks/github for deliveries signed by the Dockyard GitHub App: pushes to connected apps, the
App's installation events and pings — real payload shapes, signed and mis-signed, and every delivery in a
delivery log with what Dockyard decided and why."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.api.github_fixtures import REPO, Registered, connected_app, github, registered
from tests.github_payloads import installation_for, payload, push_for, signed_headers

__all__ = ["github", "registered"]  # fixtures


def app_log(client: TestClient, auth: dict[str, str]) -> list[tuple[str, bool, str]]:
    """The GitHub App's delivery log, newest first, as (event, signature ok, decision)."""
    rows = client.get("/api/v1/github/deliveries", headers=auth).json()
    return [(row["event"], row["signature_ok"], row["decision"]) for row in rows]


def installations(client: TestClient, auth: dict[str, str]) -> dict[int, dict]:
    rows = client.get("/api/v1/github/installations", headers=auth).json()
    return {row["installation_id"]: row for row in rows}


def test_a_push_signed_by_the_app_deploys_the_connected_apps_only(
    client: TestClient, auth: dict[str, str], registered: Registered, queued: Callable[[], list[int]]
) -> None:
    own_secret = connected_app(client, auth, registered)
    client.post(
        "/api/v1/apps", json={"name": "plain", "repo_url": f"https://github.com/{REPO}.git"}, headers=auth
    )

    response = registered.deliver(client, "push", push_for(REPO, branch="main", after="c" * 40))

    assert response.status_code == 202
    (result,) = response.json()["results"]
    assert result == {
        "app": "hello",
        "decision": f"deploying ccccccc as deployment {result['deployment']}",
        "deployment": result["deployment"],
    }
    assert response.json()["decision"] is None
    assert client.get("/api/v1/apps/plain/deliveries", headers=auth).json() == []
    # The app's own secret keeps working beside the App's.
    by_hand = registered.deliver(
        client, "push", push_for(REPO, branch="main", after="d" * 40), secret=own_secret
    )
    assert by_hand.status_code == 202
    assert queued() == sorted([result["deployment"], by_hand.json()["results"][0]["deployment"]])
    logged = client.get("/api/v1/apps/hello/deliveries", headers=auth).json()
    assert [(row["event"], row["signature_ok"], row["deployment"]) for row in logged][-1] == (
        "push",
        True,
        result["deployment"],
    )


def test_a_push_no_app_is_connected_to_lands_in_the_apps_delivery_log(
    client: TestClient, auth: dict[str, str], registered: Registered, queued: Callable[[], list[int]]
) -> None:
    response = registered.deliver(client, "push", push_for("octo/other", branch="main", after="a" * 40))

    assert response.status_code == 200
    decision = (
        "ignored: no app is connected to octo/other through the GitHub App; connect one with "
        "PUT /api/v1/apps/{name}/github"
    )
    assert response.json() == {
        "event": "push",
        "delivery": response.json()["delivery"],
        "results": [],
        "decision": decision,
    }
    assert app_log(client, auth) == [("push", True, decision)]
    assert queued() == []


def test_installation_events_keep_the_installations_current(
    client: TestClient, auth: dict[str, str], registered: Registered
) -> None:
    connected_app(client, auth, registered)
    octo = registered.installation

    def deliver(
        event: str, action: str, installation_id: int = octo, account: str = "octo", **changes: object
    ) -> str:
        body = installation_for(event, action=action, installation_id=installation_id, account=account)
        body.update(changes)
        response = registered.deliver(client, event, body)
        assert response.status_code == 200, response.text
        assert response.json()["results"] == []
        return str(response.json()["decision"])

    assert deliver("installation", "created", 4242, "Codertocat") == (
        "installed on Codertocat (User); repositories: Codertocat/Hello-World"
    )
    assert installations(client, auth)[4242]["account_login"] == "Codertocat"

    assert deliver("installation", "suspend") == (
        "suspended on octo; hello can no longer clone or report until it is unsuspended"
    )
    assert installations(client, auth)[octo]["suspended_at"] == "2021-04-29T02:32:50Z"
    assert deliver("installation", "unsuspend") == "unsuspended on octo"
    assert installations(client, auth)[octo]["suspended_at"] is None
    assert deliver("installation", "new_permissions_accepted") == "octo accepted the app's new permissions"

    removed = copy.deepcopy(payload("installation_repositories/removed")["repositories_removed"])
    removed[0]["full_name"] = REPO
    assert deliver("installation_repositories", "removed", repositories_removed=removed) == (
        "installation on octo: removed octo/hello; hello can no longer clone or report until the "
        "repository is added back"
    )
    assert deliver("installation_repositories", "added") == "installation on octo: added Codertocat/Space"
    assert installations(client, auth)[octo]["repository_selection"] == "selected"

    assert deliver("installation", "deleted") == (
        "uninstalled from octo; hello can no longer clone or report until connected to another installation"
    )
    assert octo not in installations(client, auth)
    # The app keeps its installation: its next clone says GitHub no longer knows it.
    assert client.get("/api/v1/apps/hello/github", headers=auth).json()["installation_id"] == octo
    assert [event for event, _ok, _decision in app_log(client, auth)] == [
        "installation",
        "installation_repositories",
        "installation_repositories",
        "installation",
        "installation",
        "installation",
        "installation",
    ]


def test_a_redelivered_installation_event_is_handled_once(
    client: TestClient, auth: dict[str, str], registered: Registered
) -> None:
    body = installation_for("installation", action="created", installation_id=77, account="mona")
    first = registered.deliver(client, "installation", body, delivery="inst-1")
    second = registered.deliver(client, "installation", body, delivery="inst-1")

    assert first.json()["decision"].startswith("installed on mona")
    assert (
        second.json()["decision"]
        == f"duplicate: delivery inst-1 was already handled ({first.json()['decision']})"
    )
    assert len(app_log(client, auth)) == 2


def test_a_mis_signed_app_delivery_is_rejected_and_logged(
    client: TestClient, auth: dict[str, str], registered: Registered
) -> None:
    body = installation_for(
        "installation", action="deleted", installation_id=registered.installation, account="octo"
    )

    response = registered.deliver(client, "installation", body, secret="not the app's secret")

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == (
        "the signature matches neither GitHub App dockyard's webhook secret nor an app tracking the "
        "repository: check the webhook's secret"
    )
    assert app_log(client, auth) == [
        (
            "installation",
            False,
            "rejected: bad signature, matching neither the GitHub App's secret nor that of any app",
        )
    ]
    assert registered.installation in installations(client, auth)
    push = registered.deliver(client, "push", push_for(REPO, branch="main", after="a" * 40), secret="wrong")
    assert push.status_code == 401
    assert app_log(client, auth)[0][2] == (
        "rejected: bad signature, matching neither the GitHub App's secret nor that of an app tracking "
        "octo/hello"
    )


def test_the_apps_ping_answers_pong(client: TestClient, auth: dict[str, str], registered: Registered) -> None:
    connected_app(client, auth, registered)
    app_ping = payload("ping/with-app_id")
    del app_ping["repository"]
    app_ping["hook"]["type"] = "App"
    repository_ping = payload("ping/with-app_id")
    repository_ping["repository"]["full_name"] = REPO

    to_the_app = registered.deliver(client, "ping", app_ping)
    to_the_repository = registered.deliver(client, "ping", repository_ping)

    assert (
        to_the_app.json()["decision"]
        == "pong: the GitHub App's webhook reaches Dockyard and its signature is valid"
    )
    assert to_the_repository.json()["results"] == [
        {
            "app": "hello",
            "decision": "pong: the webhook reaches Dockyard and its signature is valid",
            "deployment": None,
        }
    ]


def test_without_a_github_app_an_installation_event_is_refused(
    client: TestClient, auth: dict[str, str]
) -> None:
    body = json.dumps(
        installation_for("installation", action="created", installation_id=1, account="o")
    ).encode()

    response = client.post(
        "/webhooks/github", content=body, headers=signed_headers("anything", body, event="installation")
    )

    assert response.status_code == 400
    assert (
        response.json()["detail"] == "the payload names no repository; Dockyard handles repository webhooks"
    )
