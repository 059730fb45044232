"""The webhook delivery log page: real signed deliveries with Dockyard's decision for each, newest first."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html import unescape

from sqlalchemy import select

from api.services import apps as app_service
from core import db
from core.models import Team
from core.settings import get_settings
from tests.github_payloads import push_for, signed_headers
from tests.web.conftest import Browser, make_user, sign_in_as

REPO = "https://github.com/octo/hello.git"
LOG = "/apps/hello/deliveries"


def make_app() -> str:
    """The app `hello` tracking `main`; its webhook secret."""
    with db.session_scope() as session:
        team = session.scalar(select(Team).where(Team.name == "main"))
        assert team is not None
        return app_service.create_app(
            session, settings=get_settings(), team=team, name="hello", repo_url=REPO, branch="main"
        )[1]


def push(web: Browser, secret: str, *, branch: str, after: str, delivery: str) -> None:
    body = json.dumps(push_for("octo/hello", branch=branch, after=after)).encode()
    response = web.post(
        "/webhooks/github",
        content=body,
        headers=signed_headers(secret, body, event="push", delivery=delivery),
    )
    assert response.status_code in (200, 202), response.text


def rows(page: str) -> list[str]:
    """The delivery ids listed, in page order."""
    return re.findall(r'title="delivery id">([^<]+)<', page)


def test_an_app_without_deliveries_explains_how_to_set_up_the_webhook(admin: Browser) -> None:
    make_app()

    page = admin.open(LOG)

    assert page.status_code == 200
    assert "No deliveries yet" in page.text
    assert f"<code>{get_settings().public_url.rstrip('/')}/webhooks/github</code>" in page.text
    assert "<code>application/json</code>" in page.text
    assert 'href="/apps/hello/settings#source"' in page.text  # where to make a new secret


def test_deliveries_show_the_decision_and_the_deployment_newest_first(
    admin: Browser, queued: Callable[[], list[int]]
) -> None:
    secret = make_app()
    push(admin, secret, branch="main", after="a" * 40, delivery="delivery-deploys")
    push(admin, secret, branch="dev", after="b" * 40, delivery="delivery-ignored")
    body = json.dumps(push_for("octo/hello", branch="main", after="c" * 40)).encode()
    forged = admin.post(
        "/webhooks/github",
        content=body,
        headers=signed_headers("wrong", body, event="push", delivery="forged"),
    )
    assert forged.status_code == 401
    [deployment] = queued()

    page = admin.open(LOG)

    assert rows(page.text) == ["forged", "delivery-ignored", "delivery-deploys"]
    text = unescape(page.text)
    assert "rejected: bad signature" in text and '<span class="badge badge-failed">failed</span>' in text
    assert "ignored: push to `dev`, app tracks `main`" in text
    assert f"deploying aaaaaaa as deployment {deployment}" in text
    assert f'<a href="/apps/hello/deployments/{deployment}">#{deployment}</a>' in text
    assert '<span class="badge badge-queued">queued</span>' in text


def test_the_log_pages_with_an_older_link(admin: Browser) -> None:
    secret = make_app()
    for number in range(3):
        push(admin, secret, branch="dev", after=f"{number}" * 40, delivery=f"delivery-{number}")

    first = admin.open(f"{LOG}?limit=2")

    assert rows(first.text) == ["delivery-2", "delivery-1"]
    older = re.search(r'<a href="([^"]+)" rel="next">Older</a>', first.text)
    assert older is not None
    second = admin.open(unescape(older.group(1)))
    assert rows(second.text) == ["delivery-0"]
    assert 'rel="next"' not in second.text
    assert f'<a href="{LOG}">Newest</a>' in second.text


def test_a_viewer_reads_the_log_but_another_team_does_not_see_the_app(admin: Browser) -> None:
    secret = make_app()
    push(admin, secret, branch="dev", after="d" * 40, delivery="delivery-seen")
    make_user("vera", "a long enough password", role="viewer")
    sign_in_as(admin, "vera", "a long enough password")

    assert rows(admin.open(LOG).text) == ["delivery-seen"]

    with db.session_scope() as session:
        session.add(Team(name="elsewhere"))
    make_user("otto", "a long enough password", team="elsewhere")
    sign_in_as(admin, "otto", "a long enough password")
    assert admin.open(LOG).status_code == 404
