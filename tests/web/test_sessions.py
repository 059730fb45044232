"""First run, signing in and out, and what protects a session: CSRF tokens, Origin, idle expiry."""

from __future__ import annotations

from tests.web.conftest import ADMIN, PASSWORD, Browser


def test_a_new_dockyard_sends_every_page_to_first_run_setup(web: Browser) -> None:
    for page in ("/", "/login"):
        response = web.get(page, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/setup"


def test_first_run_creates_the_administrator_and_signs_them_in(web: Browser) -> None:
    page = web.open("/setup")
    assert "Create administrator" in page.text
    response = web.submit("/setup", {"username": "Ada", "password": PASSWORD, "password_again": PASSWORD})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/settings/github")
    dashboard = web.open("/")
    assert dashboard.status_code == 200
    assert "ada" in dashboard.text and "Create your first app" in dashboard.text
    # Setup is done: it can never run again, not even with a valid form.
    assert web.get("/setup", follow_redirects=False).headers["location"] == "/login"
    again = web.submit("/setup", {"username": "eve", "password": PASSWORD, "password_again": PASSWORD})
    assert again.status_code == 409
    assert "already has an administrator" in again.text


def test_first_run_refuses_a_short_or_mistyped_password_and_says_which(web: Browser) -> None:
    web.open("/setup")
    short = web.submit("/setup", {"username": ADMIN, "password": "short", "password_again": "short"})
    assert short.status_code == 422
    assert "at least 10 characters" in short.text
    mistyped = web.submit(
        "/setup", {"username": ADMIN, "password": PASSWORD, "password_again": PASSWORD + "x"}
    )
    assert mistyped.status_code == 422
    assert "the two passwords differ" in mistyped.text


def test_signing_in_goes_back_to_the_page_asked_for_and_signing_out_ends_the_session(admin: Browser) -> None:
    admin.open("/")
    assert admin.submit("/logout").status_code == 303
    assert admin.get("/", follow_redirects=False).headers["location"] == "/login?next=/"
    admin.open("/login?next=/tokens")
    wrong = admin.submit("/login", {"username": ADMIN, "password": "wrong password", "next": "/tokens"})
    assert wrong.status_code == 401
    assert "wrong username or password" in wrong.text
    right = admin.submit("/login", {"username": ADMIN, "password": PASSWORD, "next": "/tokens"})
    assert right.headers["location"] == "/tokens"


def test_sign_in_never_redirects_off_site(web: Browser, admin: Browser) -> None:
    admin.submit("/logout")
    admin.open("/login")
    response = admin.submit("/login", {"username": ADMIN, "password": PASSWORD, "next": "//evil.example/x"})
    assert response.headers["location"] == "/"


def test_a_form_without_this_browsers_csrf_token_is_refused(admin: Browser) -> None:
    response = admin.post("/logout", data={"csrf_token": "forged"}, follow_redirects=False)
    assert response.status_code == 403
    assert "reload the page" in response.text
    assert admin.open("/").status_code == 200  # still signed in


def test_a_form_posted_from_another_site_is_refused(admin: Browser) -> None:
    response = admin.submit("/logout", headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert "another site" in response.text


def test_a_stolen_csrf_token_is_useless_with_another_session(admin: Browser) -> None:
    token = admin.csrf
    admin.cookies.clear()
    admin.open("/login")
    assert admin.csrf != token
    response = admin.post(
        "/login",
        data={"csrf_token": token, "username": ADMIN, "password": PASSWORD, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_the_session_cookie_is_http_only_and_same_site(web: Browser) -> None:
    web.open("/setup")
    response = web.submit("/setup", {"username": ADMIN, "password": PASSWORD, "password_again": PASSWORD})
    cookie = next(
        value
        for name, value in response.headers.multi_items()
        if name == "set-cookie" and "dockyard_session" in value
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_the_api_still_answers_problem_json_not_pages(admin: Browser) -> None:
    response = admin.get("/api/v1/apps")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    missing = admin.get("/no-such-page")
    assert missing.status_code == 404
    assert "Page not found" in missing.text


def test_an_idle_session_ends_and_sends_the_browser_to_sign_in(admin: Browser) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from core import db
    from core.models import WebSession, utcnow

    with db.session_scope() as session:
        session.execute(update(WebSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    response = admin.get("/?view=all", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/%3Fview%3Dall"


def test_a_session_cookie_is_stored_only_as_a_hash(admin: Browser) -> None:
    from sqlalchemy import select

    from core import db
    from core.models import WebSession

    cookie = admin.cookies["dockyard_session"]
    with db.session_scope() as session:
        stored = list(session.scalars(select(WebSession.token_hash)))
    assert stored and cookie not in stored


def test_pages_cannot_be_framed_by_other_sites_and_say_their_server_time(admin: Browser) -> None:
    response = admin.open("/")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert float(response.headers["server-timing"].removeprefix("app;dur=")) > 0
    assert "content-security-policy" not in admin.get("/api/v1/setup").headers
