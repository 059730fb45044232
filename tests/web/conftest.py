"""Web UI tests through TestClient: the whole app (API and pages) on a fresh database, SQLite and PostgreSQL.

`web` is a browser-like client: it keeps cookies and reads each form's CSRF token from the page it came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from core import db
from tests.api.conftest import clear_caches, database, queued  # noqa: F401 - fixtures used here

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ADMIN = "admin"
PASSWORD = "correct horse battery"


class Browser(TestClient):
    """A TestClient that submits forms like a browser: with the CSRF token of the page it was on."""

    csrf: str = ""

    def open(self, url: str, **kwargs: Any) -> httpx.Response:
        """GET a page and remember its CSRF token."""
        response = self.get(url, **kwargs)
        found = CSRF.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    def submit(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        """POST a form with the remembered CSRF token; follows no redirect (tests read where it goes)."""
        return self.post(
            url, data={"csrf_token": self.csrf, **(data or {})}, follow_redirects=False, **kwargs
        )


@pytest.fixture
def web(database: str) -> Iterator[Browser]:  # noqa: F811 - the imported fixture
    """A browser on a brand-new Dockyard (first run not done)."""
    from web.main import app

    with Browser(app, base_url="http://dockyard.test") as browser:
        yield browser


@pytest.fixture
def admin(web: Browser) -> Browser:
    """The browser, signed in as the administrator created on first run."""
    web.open("/setup")
    response = web.submit("/setup", {"username": ADMIN, "password": PASSWORD, "password_again": PASSWORD})
    assert response.status_code == 303, response.text
    web.open("/")
    return web


def sign_in_as(web: Browser, username: str, password: str) -> None:
    """Sign the browser out and in again as another user."""
    web.cookies.clear()
    web.open("/login")
    response = web.submit("/login", {"username": username, "password": password, "next": "/"})
    assert response.status_code == 303, response.text
    web.open("/")


def make_user(username: str, password: str, team: str = "main", role: str = "member") -> None:
    """An account that is `role` in `team`, made through the services (what the team page does)."""
    from sqlalchemy import select

    from api.services import accounts
    from core.models import Membership, Team

    with db.session_scope() as session:
        user = accounts.create_user(session, username=username, password=password)
        found = session.scalar(select(Team).where(Team.name == team))
        assert found is not None
        session.add(Membership(team=found, user=user, role=role))
