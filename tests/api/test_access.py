"""Access control on every app route: another team's app is indistinguishable from a missing one, and
roles limit what members of the app's own team may do."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"
REPO = "https://github.com/o/hello.git"
# Values for path parameters other than the app's name; what they point at does not exist, which is
# fine: the app check comes first.
PARAMS = {"deployment_id": "1", "key": "SOME_KEY", "process": "web", "hostname": "www.example.com"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def user_in(client: TestClient, auth: dict[str, str], username: str, team: str, role: str) -> dict[str, str]:
    client.post("/api/v1/users", json={"username": username, "password": PASSWORD}, headers=auth)
    client.put(f"/api/v1/teams/{team}/members/{username}", json={"role": role}, headers=auth)
    signed_in = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    return bearer(signed_in.json()["token"])


@pytest.fixture
def teams(client: TestClient, auth: dict[str, str]) -> None:
    for team in ("alpha", "beta"):
        assert client.post("/api/v1/teams", json={"name": team}, headers=auth).status_code == 201
        created = client.post(
            "/api/v1/apps", json={"name": f"{team}-app", "repo_url": REPO, "team": team}, headers=auth
        )
        assert created.status_code == 201, created.text


def app_routes(client: TestClient) -> list[tuple[str, str]]:
    """Every operation on an app, as the OpenAPI schema publishes them."""
    paths = client.get("/openapi.json").json()["paths"]
    return sorted(
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/api/v1/apps/{name}")
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    )


def fill(path: str, name: str) -> str:
    path = path.replace("{name}", name)
    return re.sub(r"\{(\w+)\}", lambda match: PARAMS.get(match.group(1), "1"), path)


def test_every_app_route_answers_for_another_teams_app_as_for_a_missing_one(
    client: TestClient, auth: dict[str, str], teams: None
) -> None:
    member = user_in(client, auth, "alice", "alpha", "owner")
    routes = app_routes(client)
    assert len(routes) >= 20  # the check below must see the whole API, not a handful of routes
    not_found = 0
    for method, path in routes:
        other = client.request(method, fill(path, "beta-app"), headers=member, json={})
        missing = client.request(method, fill(path, "gamma-app"), headers=member, json={})

        where = f"{method} {path}"
        assert other.status_code == missing.status_code, where
        assert other.status_code in (404, 422), f"{where}: {other.status_code} {other.text}"
        assert other.text.replace("beta-app", "gamma-app") == missing.text, where
        not_found += other.status_code == 404
    # Routes without a required body reach the app check; those with one fail validation first.
    assert not_found >= len(routes) // 2


def test_a_teams_own_apps_stay_reachable_to_its_members(
    client: TestClient, auth: dict[str, str], teams: None
) -> None:
    member = user_in(client, auth, "alice", "alpha", "member")

    assert client.get("/api/v1/apps/alpha-app", headers=member).status_code == 200
    assert [app["name"] for app in client.get("/api/v1/apps", headers=member).json()] == ["alpha-app"]


DEPLOYING = [
    ("POST", "/deployments", {}),
    ("POST", "/rollback", {}),
    ("POST", "/restart", None),
    ("POST", "/scale", {"web": 2}),
    ("POST", "/stop", None),
    ("POST", "/start", None),
    ("POST", "/run", {"command": "true"}),
]
CHANGING = [
    ("PUT", "/env", {"A": "1"}),
    ("DELETE", "/env/A", None),
    ("PUT", "/config", {}),
    ("POST", "/volumes", {"name": "data", "mount_path": "/data"}),
    ("POST", "/deploy-hook", None),
]


@pytest.mark.parametrize(("method", "path", "body"), DEPLOYING + CHANGING)
def test_a_viewer_can_look_but_not_deploy_or_change(
    client: TestClient, auth: dict[str, str], teams: None, method: str, path: str, body: object
) -> None:
    viewer = user_in(client, auth, "victor", "alpha", "viewer")
    assert client.get("/api/v1/apps/alpha-app", headers=viewer).status_code == 200

    refused = client.request(method, f"/api/v1/apps/alpha-app{path}", headers=viewer, json=body)

    assert refused.status_code == 403, refused.text
    assert refused.json()["detail"].startswith("your role in team 'alpha' is viewer;")


def test_a_member_cannot_delete_the_app_or_manage_the_team(
    client: TestClient, auth: dict[str, str], teams: None
) -> None:
    member = user_in(client, auth, "mia", "alpha", "member")

    deleted = client.delete("/api/v1/apps/alpha-app", headers=member)
    invited = client.put("/api/v1/teams/alpha/members/mia", json={"role": "owner"}, headers=member)

    assert deleted.status_code == invited.status_code == 403
    assert "needs admin or owner" in deleted.json()["detail"]


def test_another_teams_team_is_404_too(client: TestClient, auth: dict[str, str], teams: None) -> None:
    member = user_in(client, auth, "alice", "alpha", "owner")

    assert client.get("/api/v1/teams/beta", headers=member).status_code == 404
    assert (
        client.put("/api/v1/teams/beta/members/alice", json={"role": "owner"}, headers=member).status_code
        == 404
    )
