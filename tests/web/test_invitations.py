"""Invitation links end to end through the pages: made on the team page, opened in another browser, used
once; used, revoked, expired and unknown links say so."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update

from api.services import accounts, tokens
from core import db
from core.errors import NotFound
from core.models import Invitation, utcnow
from tests.web.conftest import ADMIN, PASSWORD, Browser, make_user, sign_in_as

LINK = re.compile(r'id="invite-link" value="https?://[^/"]+(/invite/[^"]+)"')


@pytest.fixture
def stranger(database: str) -> Iterator[Browser]:
    """A second browser with no cookies: the invitee's."""
    from web.main import app

    with Browser(app, base_url="http://dockyard.test") as browser:
        yield browser


def invite(browser: Browser, role: str = "member", username: str = "", team: str = "main") -> str:
    """Make an invitation on the team page; the path of the link it shows once."""
    browser.open(f"/teams/{team}")
    page = browser.submit(f"/teams/{team}/invitations", {"role": role, "username": username, "note": ""})
    assert page.status_code == 201, page.text
    found = LINK.search(page.text)
    assert found, page.text
    return found.group(1)


def make_app(name: str = "hello") -> None:
    """An app of team main, made through the API like any client would."""
    from fastapi.testclient import TestClient

    from web.main import app

    with db.session_scope() as session:
        clear = tokens.create_token(session, user=accounts.get_user(session, ADMIN), name="tests")[1]
    with TestClient(app) as client:
        created = client.post(
            "/api/v1/apps",
            json={"name": name, "repo_url": "https://github.com/octo/hello.git", "branch": "main"},
            headers={"Authorization": f"Bearer {clear}"},
        )
    assert created.status_code == 201, created.text


def test_an_invitee_creates_an_account_with_the_link_and_lands_in_the_team(
    admin: Browser, stranger: Browser
) -> None:
    make_app("hello")
    link = invite(admin, role="member")
    assert link not in admin.open("/teams/main").text  # shown once, not in the list

    page = stranger.open(link)
    assert page.status_code == 200
    assert "Join team main" in page.text and "as <strong>member</strong>" in page.text
    assert "Create your account" in page.text
    assert f'href="/login?next={link}"' in page.text
    joined = stranger.submit(
        f"{link}/signup", {"username": "Bob", "password": PASSWORD, "password_again": PASSWORD}
    )
    assert joined.status_code == 303 and joined.headers["location"] == "/"

    dashboard = stranger.open("/")
    assert "Welcome, bob: you joined team main as member." in dashboard.text
    assert 'href="/apps/hello"' in dashboard.text
    team = admin.open("/teams/main").text
    assert re.search(r"<td>bob</td>", team)
    assert "accepted" in team and "by bob" in team

    stranger.cookies.clear()
    used = stranger.open(link)
    assert used.status_code == 410
    assert "This invitation was used already" in used.text and "ask a team owner or admin" in used.text
    stranger.open("/login")  # a form of this browser, for its CSRF token
    refused = stranger.submit(
        f"{link}/signup", {"username": "eve", "password": PASSWORD, "password_again": PASSWORD}
    )
    assert refused.status_code == 410
    with db.session_scope() as session, pytest.raises(NotFound):
        accounts.get_user(session, "eve")


def test_a_signed_in_user_joins_with_a_button(admin: Browser, stranger: Browser) -> None:
    with db.session_scope() as session:
        accounts.create_user(session, username="carol", password=PASSWORD)
    link = invite(admin, role="viewer")
    sign_in_as(stranger, "carol", PASSWORD)

    page = stranger.open(link)
    assert "Join team main as viewer" in page.text
    joined = stranger.submit(f"{link}/accept")
    assert joined.status_code == 303
    assert "You joined team main as viewer." in stranger.open("/").text
    assert (
        'Your role: <span class="badge badge-role-viewer">viewer</span>' in stranger.open("/teams/main").text
    )
    assert stranger.open(link).status_code == 410


def test_i_already_have_an_account_signs_in_and_comes_back_to_the_link(
    admin: Browser, stranger: Browser
) -> None:
    with db.session_scope() as session:
        accounts.create_user(session, username="carol", password=PASSWORD)
    link = invite(admin)
    stranger.open(f"/login?next={link}")
    signed = stranger.submit("/login", {"username": "carol", "password": PASSWORD, "next": link})
    assert signed.headers["location"] == link
    assert "Join team main as member" in stranger.open(link).text


def test_a_link_for_a_username_is_only_for_them(admin: Browser, stranger: Browser) -> None:
    link = invite(admin, username="dave")

    page = stranger.open(link)
    assert "this link is for <strong>dave</strong>" in page.text
    assert 'name="username" value="dave"' in page.text and "readonly" in page.text
    wrong = stranger.submit(
        f"{link}/signup", {"username": "mallory", "password": PASSWORD, "password_again": PASSWORD}
    )
    assert wrong.status_code == 403
    assert "this invitation is for &#39;dave&#39;" in wrong.text
    mistyped = stranger.submit(
        f"{link}/signup", {"username": "dave", "password": PASSWORD, "password_again": "something else"}
    )
    assert mistyped.status_code == 422
    assert "the two passwords differ" in mistyped.text and 'value="dave"' in mistyped.text
    assert (
        stranger.submit(
            f"{link}/signup", {"username": "dave", "password": PASSWORD, "password_again": PASSWORD}
        ).status_code
        == 303
    )


def test_revoked_expired_and_unknown_links_say_which(admin: Browser, stranger: Browser) -> None:
    revoked = invite(admin)
    expired = invite(admin, role="viewer")
    page = admin.open("/teams/main")
    ids = [int(found) for found in re.findall(r"/teams/main/invitations/(\d+)/revoke", page.text)]
    assert len(ids) == 2
    # The first link made has the smaller id.
    response = admin.submit(f"/teams/main/invitations/{min(ids)}/revoke")
    assert response.status_code == 303
    assert "Invitation revoked" in admin.open("/teams/main").text
    with db.session_scope() as session:
        session.execute(
            update(Invitation).where(Invitation.id == max(ids)).values(expires_at=utcnow() - timedelta(1))
        )

    gone = stranger.open(revoked)
    assert gone.status_code == 410 and "This invitation was revoked" in gone.text
    late = stranger.open(expired)
    assert late.status_code == 410 and "This invitation has expired" in late.text and "7 days" in late.text
    unknown = stranger.open("/invite/dyi_not-a-real-link")
    assert unknown.status_code == 404 and "This invitation link is not valid" in unknown.text
    listed = admin.open("/teams/main").text
    assert "badge-revoked" in listed and "badge-expired" in listed


def test_a_viewer_cannot_invite(admin: Browser) -> None:
    make_user("vic", PASSWORD, role="viewer")
    sign_in_as(admin, "vic", PASSWORD)

    page = admin.open("/teams/main")
    assert page.status_code == 200
    assert "Invite someone" not in page.text and "Invitations" not in page.text
    refused = admin.submit("/teams/main/invitations", {"role": "member"})
    assert refused.status_code == 403
    assert "ask a team owner or admin" in refused.text


def test_an_admin_cannot_invite_an_owner(admin: Browser) -> None:
    make_user("ann", PASSWORD, role="admin")
    sign_in_as(admin, "ann", PASSWORD)

    page = admin.open("/teams/main")
    assert '<option value="owner"' not in page.text
    refused = admin.submit("/teams/main/invitations", {"role": "owner", "note": "my boss"})
    assert refused.status_code == 403
    assert "only an owner of &#39;main&#39; can invite an owner" in refused.text
    assert 'value="my boss"' in refused.text  # what was typed is kept
    assert invite(admin, role="admin")
