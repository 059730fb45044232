"""Registering the GitHub App through the API and GitHub's redirects, listing its installations and their
repositories, and connecting apps to repositories through it — against the local GitHub stand-in."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import select

from api.services.github_app import app_manifest
from core import crypto, db
from core.models import GitHubApp
from core.settings import get_settings
from tests.api.github_fixtures import PUBLIC, REPO, Registered, connected_app, github, registered
from tests.github_fake import GitHubFake

__all__ = ["github", "registered"]  # fixtures

PASSWORD = "correct horse battery"


def member_of(client: TestClient, auth: dict[str, str], team: str, role: str = "owner") -> dict[str, str]:
    """A token of a user who owns (or has `role` in) `team` but is not the site administrator."""
    client.post("/api/v1/teams", json={"name": team}, headers=auth)
    client.post("/api/v1/users", json={"username": "alice", "password": PASSWORD}, headers=auth)
    client.put(f"/api/v1/teams/{team}/members/alice", json={"role": role}, headers=auth)
    token = client.post("/api/v1/auth/token", json={"username": "alice", "password": PASSWORD}).json()[
        "token"
    ]
    return {"Authorization": f"Bearer {token}"}


def test_the_admin_registers_the_app_through_github(
    client: TestClient, auth: dict[str, str], github: GitHubFake
) -> None:
    assert client.get("/api/v1/github", headers=auth).json() == {
        "configured": False,
        "app_id": None,
        "slug": None,
        "name": None,
        "html_url": None,
        "install_url": None,
        "webhook_url": f"{PUBLIC}/webhooks/github",
        "installations": 0,
    }

    started = client.post("/api/v1/github/setup", json={"name": "Dockyard"}, headers=auth).json()

    state = started["state"]
    assert started["setup_url"] == f"{PUBLIC}/github/setup?state={state}"
    assert started["form_url"] == f"https://github.com/settings/apps/new?state={state}"
    assert started["manifest"] == app_manifest(get_settings(), name="Dockyard")
    page = client.get(urlsplit(started["setup_url"]).path, params={"state": state})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    action = re.search(r"action='([^']*)'", page.text)
    manifest = re.search(r"name='manifest' value='([^']*)'", page.text)
    assert action and html.unescape(action.group(1)) == started["form_url"]
    assert manifest and json.loads(html.unescape(manifest.group(1))) == started["manifest"]

    code = github.register(started["manifest"])  # the admin clicks "Create GitHub App" on GitHub
    forged_state = state[:-1] + ("1" if state.endswith("0") else "0")
    forged = client.get(
        "/github/setup/callback", params={"code": code, "state": forged_state}, follow_redirects=False
    )
    assert forged.status_code == 401
    assert "start again with POST /api/v1/github/setup" in forged.json()["detail"]
    assert github.calls == []  # the code was not spent on a forged state
    callback = client.get(
        "/github/setup/callback", params={"code": code, "state": state}, follow_redirects=False
    )

    assert callback.status_code == 303
    assert callback.headers["location"] == "https://github.com/apps/dockyard/installations/new"
    shown = client.get("/api/v1/github", headers=auth)
    assert shown.json() == {
        "configured": True,
        "app_id": github.app["id"] if github.app else None,
        "slug": "dockyard",
        "name": "Dockyard",
        "html_url": "https://github.com/apps/dockyard",
        "install_url": "https://github.com/apps/dockyard/installations/new",
        "webhook_url": f"{PUBLIC}/webhooks/github",
        "installations": 0,
    }
    assert not any(secret in shown.text for secret in github.app_secrets.values())
    with db.session_scope() as session:
        stored = session.scalars(select(GitHubApp)).one()
        assert (
            crypto.decrypt(get_settings().secret(), stored.webhook_secret)
            == github.app_secrets["webhook_secret"]
        )
    again = client.post("/api/v1/github/setup", json={"name": "Another"}, headers=auth)
    assert again.status_code == 409
    assert "already has the GitHub App dockyard" in again.json()["detail"]


def test_a_setup_for_an_organization_and_bad_requests(
    client: TestClient, auth: dict[str, str], github: GitHubFake
) -> None:
    started = client.post(
        "/api/v1/github/setup", json={"name": "Dockyard", "organization": "octo-org"}, headers=auth
    ).json()
    assert started["form_url"].startswith(
        "https://github.com/organizations/octo-org/settings/apps/new?state="
    )

    bad_org = client.post("/api/v1/github/setup", json={"organization": "../x"}, headers=auth)
    no_name = client.post("/api/v1/github/setup", json={"name": " "}, headers=auth)
    expired = client.get("/github/setup", params={"state": "e30.abc"})

    assert (bad_org.status_code, bad_org.json()["where"]) == (422, "organization")
    assert (no_name.status_code, no_name.json()["where"]) == (422, "name")
    assert expired.status_code == 401


def test_only_the_site_administrator_manages_the_github_app(
    client: TestClient, auth: dict[str, str], github: GitHubFake
) -> None:
    owner = member_of(client, auth, "alpha")
    for method, path in (
        ("POST", "/api/v1/github/setup"),
        ("GET", "/api/v1/github"),
        ("GET", "/api/v1/github/installations"),
        ("GET", "/api/v1/github/installations/1/repositories"),
        ("GET", "/api/v1/github/deliveries"),
    ):
        response = client.request(method, path, headers=owner, json={})
        assert response.status_code == 403, f"{method} {path}"
        assert response.json()["detail"] == "only the site administrator can do this"
        assert client.request(method, path, json={}).status_code == 401


def test_installations_are_synced_when_github_sends_the_browser_back(
    client: TestClient, auth: dict[str, str], registered: Registered
) -> None:
    listed = client.get("/api/v1/github/installations", headers=auth).json()
    assert listed == [
        {
            "installation_id": registered.installation,
            "account_login": "octo",
            "account_type": "Organization",
            "repository_selection": "selected",
            "suspended_at": None,
        }
    ]
    mona = registered.github.install("mona", account_type="User", repositories=["mona/blog"], selection="all")

    assert len(client.get("/api/v1/github/installations", headers=auth).json()) == 1  # as stored
    refreshed = client.get("/api/v1/github/installations?refresh=true", headers=auth).json()
    unknown = client.get("/github/setup/installed", params={"installation_id": 999})

    assert [row["account_login"] for row in refreshed] == ["mona", "octo"]
    assert refreshed[0]["installation_id"] == mona
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "GitHub lists no installation 999 of GitHub App dockyard"
    repositories = client.get(
        f"/api/v1/github/installations/{registered.installation}/repositories", headers=auth
    )
    assert repositories.json() == [
        {
            "full_name": name,
            "private": True,
            "default_branch": "main",
            "clone_url": f"https://github.com/{name}.git",
        }
        for name in (REPO, "octo/other")
    ]
    gone = client.get("/api/v1/github/installations/999/repositories", headers=auth)
    assert gone.status_code == 404
    assert "GitHub has no installation 999 of GitHub App dockyard" in gone.json()["detail"]


def test_an_app_is_connected_to_a_repository_the_installation_sees(
    client: TestClient, auth: dict[str, str], registered: Registered
) -> None:
    connected_app(client, auth, registered)

    assert client.get("/api/v1/apps/hello/github", headers=auth).json() == {
        "app": "hello",
        "installation_id": registered.installation,
        "repository": REPO,
        "repo_url": f"https://github.com/{REPO}.git",
        "branch": "main",
    }
    moved = client.put(
        "/api/v1/apps/hello/github",
        json={"installation_id": registered.installation, "repository": "octo/other", "branch": "release"},
        headers=auth,
    )
    assert moved.json() == {
        "app": "hello",
        "installation_id": registered.installation,
        "repository": "octo/other",
        "repo_url": "https://github.com/octo/other.git",
        "branch": "release",
    }
    unseen = client.put(
        "/api/v1/apps/hello/github",
        json={"installation_id": registered.installation, "repository": "octo/secret"},
        headers=auth,
    )
    assert unseen.status_code == 422
    assert unseen.json()["where"] == "repository"
    assert f"https://github.com/settings/installations/{registered.installation}" in unseen.json()["detail"]
    uninstalled = client.put(
        "/api/v1/apps/hello/github", json={"installation_id": 999, "repository": REPO}, headers=auth
    )
    assert uninstalled.status_code == 404
    disconnected = client.delete("/api/v1/apps/hello/github", headers=auth)
    assert disconnected.json()["installation_id"] is None
    assert disconnected.json()["repository"] == "octo/other"  # the clone URL stays


def test_a_mirror_of_the_repository_stays_the_clone_url(
    client: TestClient, auth: dict[str, str], registered: Registered
) -> None:
    mirror = "file:///srv/mirrors/octo/hello.git"
    client.post("/api/v1/apps", json={"name": "hello", "repo_url": mirror}, headers=auth)

    connected = client.put(
        "/api/v1/apps/hello/github",
        json={"installation_id": registered.installation, "repository": "Octo/Hello"},
        headers=auth,
    )

    assert (connected.json()["repo_url"], connected.json()["repository"]) == (mirror, REPO)


def test_connecting_needs_a_registered_app_and_write_access(
    client: TestClient, auth: dict[str, str], github: GitHubFake
) -> None:
    client.post(
        "/api/v1/apps", json={"name": "hello", "repo_url": "https://github.com/octo/hello.git"}, headers=auth
    )
    body = {"installation_id": 1, "repository": REPO}

    none = client.put("/api/v1/apps/hello/github", json=body, headers=auth)
    bad = client.put("/api/v1/apps/hello/github", json={**body, "repository": "no-slash"}, headers=auth)

    assert none.status_code == 404
    assert none.json()["detail"].startswith("Dockyard has no GitHub App yet: register one from")
    assert (bad.status_code, bad.json()["where"]) == (422, "repository")
    viewer = member_of(client, auth, "alpha", role="viewer")
    client.post(
        "/api/v1/apps",
        json={"name": "alpha-app", "repo_url": "https://github.com/octo/hello.git", "team": "alpha"},
        headers=auth,
    )
    denied = client.put("/api/v1/apps/alpha-app/github", json=body, headers=viewer)
    assert denied.status_code == 403
    assert client.get("/api/v1/apps/alpha-app/github", headers=viewer).status_code == 200


def test_the_open_installation_callback_asks_github_at_most_once_in_a_short_window(
    client: TestClient, registered: Registered
) -> None:
    before = len(registered.github.calls_to("GET", "/app/installations"))

    answers = [client.get("/github/setup/installed").json()["installations"] for _ in range(5)]

    assert answers == [1] * 5
    assert len(registered.github.calls_to("GET", "/app/installations")) <= before + 1
