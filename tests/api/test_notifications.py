"""Deploy notifications: targets per app, their URLs kept secret, and what a real HTTP server receives
when a deployment goes live or fails (posted by the events worker's reporter, called here directly)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.services import deployment_reports
from api.services.deployments import finish
from api.services.tokens import create_token
from core import db
from core.models import Deployment, DeploymentStatus, NotificationTarget, User
from core.settings import get_settings
from tests.platform import free_port
from tests.receiver import Receiver, receiving

SECRET_PATH = "/services/T0001/B0002/s3cr3tXYZ"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


def make_app(client: TestClient, auth: dict[str, str], name: str = "hello") -> None:
    response = client.post(
        "/api/v1/apps",
        json={"name": name, "repo_url": "https://github.com/octo/hello.git", "branch": "main"},
        headers=auth,
    )
    assert response.status_code == 201, response.text


def add_target(client: TestClient, auth: dict[str, str], **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/apps/hello/notifications", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return dict(response.json())


def ended_deployment(
    client: TestClient, auth: dict[str, str], status: DeploymentStatus, error: str | None
) -> int:
    """A deployment queued by API and ended with `status`, as the pipeline would end it."""
    deployment_id = int(client.post("/api/v1/apps/hello/deployments", headers=auth).json()["id"])
    with db.session_scope() as session:
        deployment = session.get(Deployment, deployment_id)
        assert deployment is not None
        deployment.commit = "c0ffee" + "0" * 34
        finish(deployment, status, error)
    return deployment_id


def test_a_target_url_is_stored_encrypted_and_only_shown_masked(
    client: TestClient, auth: dict[str, str], receiver: Receiver
) -> None:
    make_app(client, auth)

    created = add_target(client, auth, url=receiver.url(SECRET_PATH))

    masked = f"http://127.0.0.1:{receiver.port}/services/…"
    assert created["url"] == masked
    assert (created["format"], created["events"], created["signed"]) == ("json", ["live", "failed"], True)
    assert created["signing_secret"].startswith("whsec_")
    assert (created["last_sent_at"], created["last_result"]) == (None, None)
    listed = client.get("/api/v1/apps/hello/notifications", headers=auth)
    assert listed.status_code == 200
    assert listed.json() == [{key: value for key, value in created.items() if key != "signing_secret"}]
    assert "s3cr3t" not in listed.text
    with db.session_scope() as session:
        stored = session.scalars(select(NotificationTarget)).one()
        assert "s3cr3t" not in stored.url_encrypted
        assert created["signing_secret"] not in (stored.signing_secret or "")


def test_the_test_message_is_signed_and_its_result_is_reported(
    client: TestClient, auth: dict[str, str], receiver: Receiver
) -> None:
    make_app(client, auth)
    target = add_target(client, auth, url=receiver.url(SECRET_PATH))

    answer = client.post(f"/api/v1/apps/hello/notifications/{target['id']}/test", headers=auth)

    assert answer.status_code == 200
    assert answer.json() == {"ok": True, "status_code": 200, "result": "200 OK"}
    [request] = receiver.received
    assert request.path == SECRET_PATH
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-dockyard-event"] == "test"
    expected = hmac.new(target["signing_secret"].encode(), request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-dockyard-signature-256"] == f"sha256={expected}"
    body = request.json()
    assert body["event"] == "test"
    assert (body["app"], body["app_url"], body["deployment"]) == (
        "hello",
        "http://hello.localhost:8080/",
        None,
    )
    [listed] = client.get("/api/v1/apps/hello/notifications", headers=auth).json()
    assert listed["last_result"] == "200 OK"
    assert listed["last_sent_at"] is not None


def test_a_failed_deployment_posts_its_error_and_links_to_json_and_slack_targets(
    client: TestClient, auth: dict[str, str], receiver: Receiver
) -> None:
    make_app(client, auth)
    add_target(client, auth, url=receiver.url("/generic"))
    add_target(client, auth, url=receiver.url("/slack"), format="slack")
    deployment_id = ended_deployment(client, auth, DeploymentStatus.FAILED, "no requirements found\nmore")

    deployment_reports.report(get_settings(), deployment_id, "failed")

    by_path = {request.path: request for request in receiver.received}
    assert set(by_path) == {"/generic", "/slack"}
    generic = by_path["/generic"].json()
    sent_at = generic.pop("sent_at")
    assert sent_at.endswith("+00:00")
    assert generic == {
        "event": "deployment.failed",
        "app": "hello",
        "app_url": "http://hello.localhost:8080/",
        "deployment": deployment_id,
        "status": "failed",
        "trigger": "api",
        "ref": "main",
        "commit": "c0ffee" + "0" * 34,
        "error": "no requirements found\nmore",
        "log_url": f"http://localhost:8000/api/v1/apps/hello/deployments/{deployment_id}/logs",
    }
    slack = by_path["/slack"]
    assert "x-dockyard-signature-256" not in slack.headers
    assert slack.json() == {
        "text": f":x: *hello*: deployment {deployment_id} (c0ffee0) failed: no requirements found"
        f" · <http://localhost:8000/api/v1/apps/hello/deployments/{deployment_id}/logs|build log>"
    }


def test_live_goes_only_to_targets_that_want_it_and_other_statuses_to_none(
    client: TestClient, auth: dict[str, str], receiver: Receiver
) -> None:
    make_app(client, auth)
    add_target(client, auth, url=receiver.url("/failures"), events=["failed"])
    add_target(client, auth, url=receiver.url("/slack"), format="slack", events=["live"])
    deployment_id = ended_deployment(client, auth, DeploymentStatus.LIVE, None)

    for status in ("queued", "building", "deploying", "live", "superseded"):
        deployment_reports.report(get_settings(), deployment_id, status)

    [request] = receiver.received
    assert request.path == "/slack"
    assert request.json() == {
        "text": f":white_check_mark: *hello*: deployment {deployment_id} (c0ffee0) is live at "
        "<http://hello.localhost:8080/|http://hello.localhost:8080/>"
        f" · <http://localhost:8000/api/v1/apps/hello/deployments/{deployment_id}/logs|build log>"
    }


def test_failures_are_recorded_and_logged_without_the_url_secret(
    client: TestClient, auth: dict[str, str], receiver: Receiver, caplog: pytest.LogCaptureFixture
) -> None:
    make_app(client, auth)
    erroring = add_target(client, auth, url=receiver.url(SECRET_PATH))
    unreachable = add_target(client, auth, url=f"http://127.0.0.1:{free_port()}{SECRET_PATH}")
    receiver.status = 500
    deployment_id = ended_deployment(client, auth, DeploymentStatus.FAILED, "boom")

    with caplog.at_level(logging.WARNING, logger="api.services.notifications"):
        deployment_reports.report(get_settings(), deployment_id, "failed")
        tested = client.post(f"/api/v1/apps/hello/notifications/{unreachable['id']}/test", headers=auth)

    assert len(receiver.received) == 1
    results = {
        row["id"]: row["last_result"]
        for row in client.get("/api/v1/apps/hello/notifications", headers=auth).json()
    }
    assert results[erroring["id"]] == "500 Internal Server Error"
    assert results[unreachable["id"]].startswith("could not connect: ")
    assert tested.status_code == 200
    assert tested.json()["ok"] is False
    assert tested.json()["status_code"] is None
    assert "s3cr3t" not in tested.text
    warnings = [record.getMessage() for record in caplog.records]
    assert len(warnings) == 3, warnings
    assert all("/services/…" in line and "s3cr3t" not in line for line in warnings), warnings


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_slow_target_is_given_up_after_5_seconds(
    client: TestClient, auth: dict[str, str], receiver: Receiver
) -> None:
    make_app(client, auth)
    target = add_target(client, auth, url=receiver.url(SECRET_PATH), format="slack")
    receiver.delay = 8

    started = time.monotonic()
    answer = client.post(f"/api/v1/apps/hello/notifications/{target['id']}/test", headers=auth)

    assert time.monotonic() - started < 7
    assert answer.json() == {"ok": False, "status_code": None, "result": "timed out after 5 s"}


def test_bad_targets_are_refused_with_what_to_fix(client: TestClient, auth: dict[str, str]) -> None:
    make_app(client, auth)

    for body, where in (
        ({"url": "ftp://example.com/x"}, "url"),
        ({"url": "https://"}, "url"),
        ({"url": "https://example.com/x", "format": "teams"}, "format"),
        ({"url": "https://example.com/x", "events": ["queued"]}, "events.0"),
        ({"url": "https://example.com/x", "events": []}, "events"),
    ):
        response = client.post("/api/v1/apps/hello/notifications", json=body, headers=auth)
        assert response.status_code == 422, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"].startswith(f"{where}: "), response.json()


def test_delete_stops_a_target(client: TestClient, auth: dict[str, str], receiver: Receiver) -> None:
    make_app(client, auth)
    target = add_target(client, auth, url=receiver.url(SECRET_PATH))

    deleted = client.delete(f"/api/v1/apps/hello/notifications/{target['id']}", headers=auth)

    assert deleted.status_code == 204
    assert client.get("/api/v1/apps/hello/notifications", headers=auth).json() == []
    again = client.post(f"/api/v1/apps/hello/notifications/{target['id']}/test", headers=auth)
    assert again.status_code == 404
    assert again.json()["detail"] == (
        f"app 'hello' has no notification target {target['id']}; "
        "`GET /api/v1/apps/hello/notifications` lists them"
    )
    assert receiver.received == []


def test_reading_needs_read_and_changing_needs_write(
    client: TestClient, auth: dict[str, str], receiver: Receiver
) -> None:
    make_app(client, auth)
    target = add_target(client, auth, url=receiver.url(SECRET_PATH))
    with db.session_scope() as session:
        admin = session.scalars(select(User).where(User.is_admin)).one()
        _row, read_only = create_token(session, user=admin, name="viewer", scopes=["read"])
    viewer = {"Authorization": f"Bearer {read_only}"}

    assert client.get("/api/v1/apps/hello/notifications", headers=viewer).status_code == 200
    refused = [
        client.post(
            "/api/v1/apps/hello/notifications", json={"url": receiver.url(SECRET_PATH)}, headers=viewer
        ),
        client.post(f"/api/v1/apps/hello/notifications/{target['id']}/test", headers=viewer),
        client.delete(f"/api/v1/apps/hello/notifications/{target['id']}", headers=viewer),
    ]
    assert [response.status_code for response in refused] == [403, 403, 403]
    assert "needs the `write` scope" in refused[0].json()["detail"]
    assert client.get("/api/v1/apps/nope/notifications", headers=auth).status_code == 404
    assert client.get("/api/v1/apps/hello/notifications").status_code == 401
    assert receiver.received == []
