"""The tokens page (created with scopes and an expiry, shown once, revoked) and the account page (password
change signs out the user's other browsers)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.web.conftest import ADMIN, PASSWORD, Browser, make_user, sign_in_as

NEW_TOKEN = re.compile(r'id="new-token" value="(dy_[^"]+)"')


@pytest.fixture
def second(database: str) -> Iterator[Browser]:
    """Another browser, for a second session of the same person."""
    from web.main import app

    with Browser(app, base_url="http://dockyard.test") as browser:
        yield browser


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_token_is_shown_once_works_with_its_scopes_and_stops_when_revoked(admin: Browser) -> None:
    page = admin.open("/tokens")
    assert "No tokens yet" in page.text

    created = admin.submit("/tokens", {"name": "ci", "scopes": ["read"], "expires_in_days": "30"})

    assert created.status_code == 201
    found = NEW_TOKEN.search(created.text)
    assert found, created.text
    token = found.group(1)
    assert 'class="secret-once"' in created.text and "dockyard login --url" in created.text
    reloaded = admin.open("/tokens").text
    assert token not in reloaded
    assert token[:10] in reloaded and "ci" in reloaded and "badge-active" in reloaded
    me = admin.get("/api/v1/users/me", headers=bearer(token))
    assert me.status_code == 200 and me.json()["username"] == ADMIN
    create_team = admin.post("/api/v1/teams", json={"name": "backend"}, headers=bearer(token))
    assert create_team.status_code == 403 and "needs the `manage` scope" in create_team.json()["detail"]

    token_id = re.search(r"/tokens/(\d+)/revoke", reloaded)
    assert token_id
    revoked = admin.submit(f"/tokens/{token_id.group(1)}/revoke")
    assert revoked.status_code == 303
    listed = admin.open("/tokens").text
    assert "Token ci revoked" in listed and "badge-revoked" in listed
    assert f"/tokens/{token_id.group(1)}/revoke" not in listed
    assert admin.get("/api/v1/users/me", headers=bearer(token)).status_code == 401


def test_a_refused_token_form_says_why_and_keeps_what_was_typed(admin: Browser) -> None:
    admin.open("/tokens")

    no_scope = admin.submit("/tokens", {"name": "deploy bot", "expires_in_days": "30"})
    assert no_scope.status_code == 422
    assert "name at least one scope" in no_scope.text and 'value="deploy bot"' in no_scope.text
    too_long = admin.submit("/tokens", {"name": "bot", "scopes": ["deploy"], "expires_in_days": "9999"})
    assert too_long.status_code == 422 and "must be 1 to 3650 days" in too_long.text
    assert re.search(r'value="deploy"\s+checked', too_long.text)
    not_a_number = admin.submit("/tokens", {"name": "bot", "scopes": ["deploy"], "expires_in_days": "soon"})
    assert not_a_number.status_code == 422 and "whole number of days" in not_a_number.text
    forever = admin.submit("/tokens", {"name": "bot", "scopes": ["read", "deploy"], "expires_in_days": ""})
    assert forever.status_code == 201
    assert "never" in admin.open("/tokens").text


def test_only_administrators_are_offered_the_admin_scope(admin: Browser) -> None:
    assert 'value="admin"' in admin.open("/tokens").text
    make_user("bob", PASSWORD)
    sign_in_as(admin, "bob", PASSWORD)
    assert 'value="admin"' not in admin.open("/tokens").text


def test_changing_the_password_signs_out_the_other_browsers(admin: Browser, second: Browser) -> None:
    sign_in_as(second, ADMIN, PASSWORD)
    page = admin.open("/account")
    assert "main" in page.text and "owner" in page.text

    changed = admin.submit(
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase",
            "new_password_again": "a brand new passphrase",
        },
    )

    assert changed.status_code == 303
    assert "other browser signed in as you has been signed out" in admin.open("/account").text
    assert second.get("/", follow_redirects=False).headers["location"] == "/login?next=/"
    second.open("/login")
    old = second.submit("/login", {"username": ADMIN, "password": PASSWORD, "next": "/"})
    assert old.status_code == 401
    new = second.submit("/login", {"username": ADMIN, "password": "a brand new passphrase", "next": "/"})
    assert new.status_code == 303


def test_a_wrong_current_password_or_mistyped_new_one_changes_nothing(
    admin: Browser, second: Browser
) -> None:
    sign_in_as(second, ADMIN, PASSWORD)
    admin.open("/account")

    wrong = admin.submit(
        "/account/password",
        {"current_password": "not it", "new_password": "x" * 12, "new_password_again": "x" * 12},
    )
    mistyped = admin.submit(
        "/account/password",
        {"current_password": PASSWORD, "new_password": "x" * 12, "new_password_again": "y" * 12},
    )
    short = admin.submit(
        "/account/password",
        {"current_password": PASSWORD, "new_password": "short", "new_password_again": "short"},
    )

    assert wrong.status_code == 401 and "the current password is wrong" in wrong.text
    assert mistyped.status_code == 422 and "the two passwords differ" in mistyped.text
    assert short.status_code == 422 and "at least 10 characters" in short.text
    assert second.open("/").status_code == 200  # nothing changed: still signed in
