"""Accounts: first run, signing in, tokens with scopes and expiry, teams and their members."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from core import db
from core.models import ApiToken, User, utcnow

PASSWORD = "correct horse battery"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_first_run_creates_the_administrator_once_with_an_argon2_hash(client: TestClient) -> None:
    assert client.get("/api/v1/setup").json() == {"needed": True}

    created = client.post("/api/v1/setup", json={"username": "Ada", "password": PASSWORD})

    assert created.status_code == 201
    me = client.get("/api/v1/users/me", headers=bearer(created.json()["token"])).json()
    assert me["username"] == "ada"
    assert me["is_admin"] is True
    assert me["teams"] == [{"team": "main", "role": "owner"}]
    with db.session_scope() as session:
        stored = session.scalar(select(User.password_hash).where(User.username == "ada"))
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored
    assert client.get("/api/v1/setup").json() == {"needed": False}
    again = client.post("/api/v1/setup", json={"username": "eve", "password": PASSWORD})
    assert again.status_code == 409
    assert "already has an administrator" in again.json()["detail"]


def test_first_run_rejects_a_short_password(client: TestClient) -> None:
    response = client.post("/api/v1/setup", json={"username": "ada", "password": "short"})

    assert response.status_code == 422
    assert response.json()["detail"] == "password: must be at least 10 characters"


def test_sign_in_gives_a_token_and_a_wrong_password_does_not(client: TestClient) -> None:
    client.post("/api/v1/setup", json={"username": "ada", "password": PASSWORD})

    good = client.post("/api/v1/auth/token", json={"username": "ada", "password": PASSWORD, "name": "laptop"})
    wrong = client.post("/api/v1/auth/token", json={"username": "ada", "password": "not the password"})
    nobody = client.post("/api/v1/auth/token", json={"username": "bob", "password": PASSWORD})

    assert good.status_code == 201
    assert good.json()["name"] == "laptop"
    assert client.get("/api/v1/apps", headers=bearer(good.json()["token"])).status_code == 200
    assert wrong.status_code == nobody.status_code == 401
    assert wrong.json()["detail"] == nobody.json()["detail"] == "wrong username or password"


def test_a_token_is_shown_once_listed_by_prefix_and_stored_hashed(
    client: TestClient, auth: dict[str, str]
) -> None:
    created = client.post("/api/v1/tokens", json={"name": "ci", "scopes": ["read", "deploy"]}, headers=auth)

    assert created.status_code == 201
    token = created.json()["token"]
    listed = {item["name"]: item for item in client.get("/api/v1/tokens", headers=auth).json()}
    assert "token" not in listed["ci"]
    assert listed["ci"]["prefix"] == token[:10]
    assert listed["ci"]["scopes"] == ["read", "deploy"]
    with db.session_scope() as session:
        hashes = list(session.scalars(select(ApiToken.token_hash)))
    assert token not in hashes and all(token[10:] not in value for value in hashes)


def test_a_revoked_token_gets_401(client: TestClient, auth: dict[str, str]) -> None:
    created = client.post("/api/v1/tokens", json={"name": "ci"}, headers=auth).json()
    assert client.get("/api/v1/apps", headers=bearer(created["token"])).status_code == 200

    assert client.delete(f"/api/v1/tokens/{created['id']}", headers=auth).status_code == 204

    refused = client.get("/api/v1/apps", headers=bearer(created["token"]))
    assert refused.status_code == 401
    assert refused.json()["detail"] == "the token 'ci' was revoked: log in again or create a new token"


def test_an_expired_token_gets_401(client: TestClient, auth: dict[str, str]) -> None:
    created = client.post("/api/v1/tokens", json={"name": "temp", "expires_in_days": 1}, headers=auth).json()
    assert client.get("/api/v1/apps", headers=bearer(created["token"])).status_code == 200
    with db.session_scope() as session:
        row = session.get(ApiToken, created["id"])
        assert row is not None
        row.expires_at = utcnow() - timedelta(seconds=1)

    refused = client.get("/api/v1/apps", headers=bearer(created["token"]))

    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"]


def test_a_token_cannot_mint_scopes_it_lacks(client: TestClient, auth: dict[str, str]) -> None:
    reader = client.post("/api/v1/tokens", json={"name": "r", "scopes": ["read"]}, headers=auth).json()[
        "token"
    ]

    response = client.post(
        "/api/v1/tokens", json={"name": "x", "scopes": ["read", "admin"]}, headers=bearer(reader)
    )

    assert response.status_code == 403
    assert "cannot create a token" in response.json()["detail"]


def test_unknown_scopes_are_named(client: TestClient, auth: dict[str, str]) -> None:
    response = client.post("/api/v1/tokens", json={"name": "x", "scopes": ["sudo"]}, headers=auth)

    assert response.status_code == 422
    assert response.json()["detail"].startswith("scopes: unknown scope(s) sudo; use read, deploy")


def test_a_read_scoped_token_cannot_deploy(client: TestClient, auth: dict[str, str]) -> None:
    client.post(
        "/api/v1/apps", json={"name": "hello", "repo_url": "https://github.com/o/hello.git"}, headers=auth
    )
    reader = client.post("/api/v1/tokens", json={"name": "r", "scopes": ["read"]}, headers=auth).json()[
        "token"
    ]

    assert client.get("/api/v1/apps/hello", headers=bearer(reader)).status_code == 200
    refused = client.post("/api/v1/apps/hello/deployments", json={}, headers=bearer(reader))
    assert refused.status_code == 403
    assert "needs the `deploy` scope" in refused.json()["detail"]


def test_teams_manage_their_members_and_keep_an_owner(client: TestClient, auth: dict[str, str]) -> None:
    client.post("/api/v1/users", json={"username": "bob", "password": PASSWORD}, headers=auth)
    bob = client.post("/api/v1/auth/token", json={"username": "bob", "password": PASSWORD}).json()["token"]

    team = client.post("/api/v1/teams", json={"name": "backend"}, headers=bearer(bob))
    assert team.status_code == 201
    assert team.json()["members"] == [{"username": "bob", "role": "owner"}]
    added = client.put("/api/v1/teams/backend/members/admin", json={"role": "viewer"}, headers=bearer(bob))
    assert added.json() == {"username": "admin", "role": "viewer"}
    last = client.put("/api/v1/teams/backend/members/bob", json={"role": "member"}, headers=bearer(bob))
    assert last.status_code == 409
    assert "last owner" in last.json()["detail"]
    bad = client.put("/api/v1/teams/backend/members/admin", json={"role": "god"}, headers=bearer(bob))
    assert bad.status_code == 422
    assert bad.json()["detail"] == "role: must be one of owner, admin, member, viewer"
    assert [t["name"] for t in client.get("/api/v1/teams", headers=bearer(bob)).json()] == ["backend"]


def test_only_the_site_administrator_creates_users(client: TestClient, auth: dict[str, str]) -> None:
    client.post("/api/v1/users", json={"username": "bob", "password": PASSWORD}, headers=auth)
    bob = client.post("/api/v1/auth/token", json={"username": "bob", "password": PASSWORD}).json()["token"]

    response = client.post(
        "/api/v1/users", json={"username": "eve", "password": PASSWORD}, headers=bearer(bob)
    )

    assert response.status_code == 403
    assert response.json()["detail"] == "only the site administrator can do this"


def test_an_app_goes_to_the_named_team_or_the_only_one(client: TestClient, auth: dict[str, str]) -> None:
    repo = "https://github.com/o/hello.git"
    client.post("/api/v1/teams", json={"name": "backend"}, headers=auth)

    unnamed = client.post("/api/v1/apps", json={"name": "a1", "repo_url": repo}, headers=auth)
    named = client.post(
        "/api/v1/apps", json={"name": "a2", "repo_url": repo, "team": "backend"}, headers=auth
    )

    assert unnamed.status_code == 422
    assert (
        unnamed.json()["detail"]
        == "team: you are in several teams; name the one that owns the app: backend, main"
    )
    assert named.status_code == 201
    assert named.json()["team"] == "backend"


def test_repeated_wrong_passwords_are_throttled_even_for_the_right_one(client: TestClient) -> None:
    client.post("/api/v1/setup", json={"username": "ada", "password": PASSWORD})
    for _ in range(10):
        assert (
            client.post(
                "/api/v1/auth/token", json={"username": "ada", "password": "guess guess!"}
            ).status_code
            == 401
        )

    refused = client.post("/api/v1/auth/token", json={"username": "ada", "password": PASSWORD})

    assert refused.status_code == 429
    assert refused.json()["detail"].startswith(
        "too many failed sign-ins for 'ada': try again in 15 minute(s)"
    )
