"""The teams pages: the viewer's teams, a team's members (role changes, removal, the last owner), and the
site administrator's accounts page."""

from __future__ import annotations

import re

from tests.web.conftest import ADMIN, PASSWORD, Browser, make_user, sign_in_as


def member_row(page: str, username: str) -> str:
    """The members table's row of `username` ('' when they are not in it)."""
    for row in re.findall(r"<tr>(.*?)</tr>", page, flags=re.S):
        if re.search(rf"<td>{username}(\s|<)", row):
            return str(row)
    return ""


def test_the_teams_page_lists_the_viewers_teams_with_role_and_counts(admin: Browser) -> None:
    make_user("bob", PASSWORD, role="viewer")

    page = admin.open("/teams").text

    assert '<a href="/teams/main">main</a>' in page
    assert re.search(r"badge-role-owner\">owner</span>.*?<td>2</td>\s*<td>0</td>", page, flags=re.S)
    assert 'href="/users"' in page and "Create a team" in page
    sign_in_as(admin, "bob", PASSWORD)
    as_bob = admin.open("/teams").text
    assert "viewer" in as_bob and "Create a team" not in as_bob and 'href="/users"' not in as_bob


def test_the_site_administrator_creates_a_team_and_a_bad_name_is_explained(admin: Browser) -> None:
    admin.open("/teams")

    bad = admin.submit("/teams", {"name": "Back End"})
    assert bad.status_code == 422
    assert "lowercase letters, digits and dashes" in bad.text and 'value="Back End"' in bad.text
    good = admin.submit("/teams", {"name": "backend"})
    assert good.status_code == 303 and good.headers["location"] == "/teams/backend"
    assert "Team backend created" in admin.open("/teams/backend").text


def test_an_owner_changes_a_role_and_removes_a_member(admin: Browser) -> None:
    make_user("bob", PASSWORD)
    page = admin.open("/teams/main").text
    assert 'value="member" selected' in member_row(page, "bob")

    changed = admin.submit("/teams/main/members/bob/role", {"role": "viewer"})
    assert changed.status_code == 303
    page = admin.open("/teams/main").text
    assert "bob is now viewer in main." in page
    assert 'value="viewer" selected' in member_row(page, "bob")
    assert "data-confirm=" in member_row(page, "bob")

    removed = admin.submit("/teams/main/members/bob/remove")
    assert removed.status_code == 303
    page = admin.open("/teams/main").text
    assert "bob is no longer in main." in page and member_row(page, "bob") == ""


def test_the_last_owner_cannot_step_down_or_be_removed(admin: Browser) -> None:
    admin.open("/teams/main")

    demoted = admin.submit(f"/teams/main/members/{ADMIN}/role", {"role": "member"})
    removed = admin.submit(f"/teams/main/members/{ADMIN}/remove")

    for response in (demoted, removed):
        assert response.status_code == 409
        assert (
            "&#39;admin&#39; is the last owner of &#39;main&#39;: make someone else owner first"
            in response.text
        )
    assert 'value="owner" selected' in member_row(admin.open("/teams/main").text, ADMIN)


def test_a_team_admin_cannot_touch_owners_and_a_viewer_changes_nothing(admin: Browser) -> None:
    make_user("ann", PASSWORD, role="admin")
    make_user("vic", PASSWORD, role="viewer")
    sign_in_as(admin, "ann", PASSWORD)

    page = admin.open("/teams/main").text
    assert "<select" not in member_row(page, ADMIN) and "Remove" not in member_row(page, ADMIN)
    assert "<select" in member_row(page, "vic")
    refused = admin.submit(f"/teams/main/members/{ADMIN}/remove")
    assert (
        refused.status_code == 403 and "only an owner of &#39;main&#39; can remove an owner" in refused.text
    )
    assert admin.submit("/teams/main/members/vic/role", {"role": "member"}).status_code == 303

    sign_in_as(admin, "vic", PASSWORD)
    page = admin.open("/teams/main").text
    assert "<select" not in page and "Remove</button>" not in page
    assert "ask one of them" in page
    assert admin.submit("/teams/main/members/ann/remove").status_code == 403


def test_the_site_administrator_adds_an_existing_user(admin: Browser) -> None:
    make_user("bob", PASSWORD)
    admin.open("/teams")
    admin.submit("/teams", {"name": "backend"})
    admin.open("/teams/backend")

    unknown = admin.submit("/teams/backend/members", {"username": "nobody", "role": "member"})
    assert unknown.status_code == 404
    assert "no user named &#39;nobody&#39;" in unknown.text and 'value="nobody"' in unknown.text
    added = admin.submit("/teams/backend/members", {"username": "bob", "role": "admin"})
    assert added.status_code == 303
    assert 'value="admin" selected' in member_row(admin.open("/teams/backend").text, "bob")

    sign_in_as(admin, "bob", PASSWORD)
    page = admin.open("/teams/backend").text
    assert "Add an existing user" not in page
    assert admin.submit("/teams/backend/members", {"username": "admin", "role": "viewer"}).status_code == 403


def test_a_team_of_someone_else_is_not_found(admin: Browser) -> None:
    admin.open("/teams")
    admin.submit("/teams", {"name": "backend"})
    make_user("bob", PASSWORD)
    sign_in_as(admin, "bob", PASSWORD)

    assert admin.open("/teams/backend").status_code == 404
    assert admin.open("/teams/nothing").status_code == 404


def test_the_site_administrator_creates_and_deletes_accounts(admin: Browser) -> None:
    page = admin.open("/users").text
    assert f"/users/{ADMIN}/delete" not in page  # not yourself

    short = admin.submit("/users", {"username": "carol", "password": "short"})
    assert (
        short.status_code == 422 and "at least 10 characters" in short.text and 'value="carol"' in short.text
    )
    created = admin.submit("/users", {"username": "carol", "password": PASSWORD, "is_admin": "true"})
    assert created.status_code == 303
    page = admin.open("/users").text
    assert "Account carol created" in page and "/users/carol/delete" in page
    assert admin.submit(f"/users/{ADMIN}/delete").status_code == 409
    assert admin.submit("/users/carol/delete").status_code == 303
    assert "/users/carol/delete" not in admin.open("/users").text

    make_user("bob", PASSWORD)
    sign_in_as(admin, "bob", PASSWORD)
    assert admin.open("/users").status_code == 403
