"""Team invitations through the API: made by owners and admins, shown once, listed with their state,
revoked, and accepted once by the caller."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from core import db
from core.models import Invitation, utcnow

PASSWORD = "correct horse battery"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def user_token(client: TestClient, auth: dict[str, str], username: str, role: str | None = None) -> str:
    """A token of a new account, which is `role` in team main when given."""
    assert client.post(
        "/api/v1/users", json={"username": username, "password": PASSWORD}, headers=auth
    ).is_success
    if role:
        client.put(f"/api/v1/teams/main/members/{username}", json={"role": role}, headers=auth)
    signed = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    return str(signed.json()["token"])


def test_an_invitation_is_shown_once_listed_without_its_token_and_accepted_once(
    client: TestClient, auth: dict[str, str]
) -> None:
    bob = user_token(client, auth, "bob")

    created = client.post(
        "/api/v1/teams/main/invitations", json={"role": "member", "note": "Bob"}, headers=auth
    )

    assert created.status_code == 201
    body = created.json()
    token = body["token"]
    assert body["url"] == f"http://localhost:8000/invite/{token}"
    assert (body["team"], body["role"], body["state"], body["created_by"]) == (
        "main",
        "member",
        "pending",
        "admin",
    )
    listed = client.get("/api/v1/teams/main/invitations", headers=auth).json()
    assert [item["note"] for item in listed] == ["Bob"]
    assert "token" not in listed[0] and "url" not in listed[0] and token not in str(listed)
    with db.session_scope() as session:
        stored = session.scalar(select(Invitation.token_hash))
    assert stored is not None and token[4:] not in stored

    accepted = client.post(f"/api/v1/invitations/{token}/accept", headers=bearer(bob))
    assert accepted.status_code == 201
    assert accepted.json() == {"team": "main", "role": "member"}
    assert {"team": "main", "role": "member"} in client.get("/api/v1/users/me", headers=bearer(bob)).json()[
        "teams"
    ]
    again = client.post(f"/api/v1/invitations/{token}/accept", headers=bearer(bob))
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert "used already" in again.json()["detail"]
    state = client.get("/api/v1/teams/main/invitations", headers=auth).json()[0]
    assert (state["state"], state["accepted_by"]) == ("accepted", "bob")


def test_revoked_expired_and_unknown_invitations_are_refused(
    client: TestClient, auth: dict[str, str]
) -> None:
    bob = user_token(client, auth, "bob")
    revoked = client.post("/api/v1/teams/main/invitations", json={"role": "viewer"}, headers=auth).json()
    expired = client.post("/api/v1/teams/main/invitations", json={"role": "viewer"}, headers=auth).json()

    assert client.delete(f"/api/v1/teams/main/invitations/{revoked['id']}", headers=auth).status_code == 204
    with db.session_scope() as session:
        session.execute(
            update(Invitation)
            .where(Invitation.id == expired["id"])
            .values(expires_at=utcnow() - timedelta(1))
        )

    gone = client.post(f"/api/v1/invitations/{revoked['token']}/accept", headers=bearer(bob))
    late = client.post(f"/api/v1/invitations/{expired['token']}/accept", headers=bearer(bob))
    unknown = client.post("/api/v1/invitations/dyi_nothing/accept", headers=bearer(bob))
    assert (gone.status_code, late.status_code, unknown.status_code) == (409, 409, 404)
    assert "revoked" in gone.json()["detail"] and "expired" in late.json()["detail"]
    assert "not valid" in unknown.json()["detail"]
    assert unknown.headers["content-type"] == "application/problem+json"
    states = {
        item["id"]: item["state"]
        for item in client.get("/api/v1/teams/main/invitations", headers=auth).json()
    }
    assert states == {revoked["id"]: "revoked", expired["id"]: "expired"}
    missing = client.delete("/api/v1/teams/main/invitations/999", headers=auth)
    assert missing.status_code == 404


def test_only_owners_and_admins_invite_and_only_owners_invite_owners(
    client: TestClient, auth: dict[str, str]
) -> None:
    viewer = user_token(client, auth, "vic", role="viewer")
    admin = user_token(client, auth, "ann", role="admin")

    by_viewer = client.post("/api/v1/teams/main/invitations", json={"role": "viewer"}, headers=bearer(viewer))
    listing = client.get("/api/v1/teams/main/invitations", headers=bearer(viewer))
    owner = client.post("/api/v1/teams/main/invitations", json={"role": "owner"}, headers=bearer(admin))
    member = client.post("/api/v1/teams/main/invitations", json={"role": "member"}, headers=bearer(admin))
    bad = client.post("/api/v1/teams/main/invitations", json={"role": "god"}, headers=bearer(admin))

    assert (by_viewer.status_code, listing.status_code) == (403, 403)
    assert owner.status_code == 403
    assert owner.json()["detail"].startswith("only an owner of 'main' can invite an owner")
    assert member.status_code == 201
    assert (
        bad.status_code == 422 and bad.json()["detail"] == "role: must be one of owner, admin, member, viewer"
    )


def test_an_invitation_for_a_username_is_theirs_alone(client: TestClient, auth: dict[str, str]) -> None:
    bob = user_token(client, auth, "bob")
    eve = user_token(client, auth, "eve")
    member = user_token(client, auth, "meg", role="member")

    for_bob = client.post(
        "/api/v1/teams/main/invitations", json={"role": "member", "username": "Bob"}, headers=auth
    ).json()
    in_team = client.post(
        "/api/v1/teams/main/invitations", json={"role": "member", "username": "meg"}, headers=auth
    )

    assert for_bob["username"] == "bob"
    assert in_team.status_code == 409 and "already in 'main' as member" in in_team.json()["detail"]
    stolen = client.post(f"/api/v1/invitations/{for_bob['token']}/accept", headers=bearer(eve))
    assert stolen.status_code == 403 and "this invitation is for 'bob'" in stolen.json()["detail"]
    assert (
        client.post(f"/api/v1/invitations/{for_bob['token']}/accept", headers=bearer(bob)).status_code == 201
    )
    # Someone already in the team gains nothing from a link, and does not use it up.
    open_link = client.post("/api/v1/teams/main/invitations", json={"role": "admin"}, headers=auth).json()
    already = client.post(f"/api/v1/invitations/{open_link['token']}/accept", headers=bearer(member))
    assert already.status_code == 409 and "already in 'main' as member" in already.json()["detail"]
    used = client.get("/api/v1/teams/main/invitations", headers=auth).json()
    assert {item["id"]: item["state"] for item in used}[open_link["id"]] == "pending"
    revoke_accepted = client.delete(f"/api/v1/teams/main/invitations/{for_bob['id']}", headers=auth)
    assert revoke_accepted.status_code == 409


def test_accepting_needs_a_token_with_the_write_scope(client: TestClient, auth: dict[str, str]) -> None:
    link = client.post("/api/v1/teams/main/invitations", json={"role": "viewer"}, headers=auth).json()
    user_token(client, auth, "bob")
    reader = client.post(
        "/api/v1/auth/token", json={"username": "bob", "password": PASSWORD, "scopes": ["read"]}
    ).json()["token"]

    assert client.post(f"/api/v1/invitations/{link['token']}/accept").status_code == 401
    refused = client.post(f"/api/v1/invitations/{link['token']}/accept", headers=bearer(reader))
    assert refused.status_code == 403 and "needs the `write` scope" in refused.json()["detail"]


def test_a_deleted_team_takes_its_invitations_and_a_deleted_inviter_leaves_them(
    client: TestClient, auth: dict[str, str]
) -> None:
    ann = user_token(client, auth, "ann", role="admin")
    client.post("/api/v1/teams", json={"name": "backend"}, headers=auth)
    client.post("/api/v1/teams/backend/invitations", json={"role": "member"}, headers=auth)
    client.post("/api/v1/teams/main/invitations", json={"role": "member"}, headers=bearer(ann))

    assert client.delete("/api/v1/teams/backend", headers=auth).status_code == 204
    assert client.delete("/api/v1/users/ann", headers=auth).status_code == 204

    listed = client.get("/api/v1/teams/main/invitations", headers=auth).json()
    assert [(item["team"], item["created_by"]) for item in listed] == [("main", None)]
    with db.session_scope() as session:
        assert len(list(session.scalars(select(Invitation)))) == 1
