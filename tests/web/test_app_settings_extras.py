"""An app's deploy notifications, deploy hook and GitHub App connection on its Settings page, and its pull
request previews on its overview: what each role sees, what is shown only once, and what each form does."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from html import unescape

import httpx
import pytest
from sqlalchemy import select

from api.services import apps as app_service
from core import db
from core.models import App, Deployment, NotificationTarget, Team
from core.settings import get_settings
from tests.api.github_fixtures import PUBLIC, github
from tests.github_fake import GitHubFake
from tests.receiver import Receiver, receiving
from tests.web.conftest import Browser, make_user, sign_in_as
from tests.web.test_github_pages import register_github_app

__all__ = ["github"]  # fixture

REPO = "https://github.com/octo/hello.git"
PASSWORD = "a long enough password"
SETTINGS = "/apps/hello/settings"
SECRET_ONCE = re.compile(r'<p class="secret-once" id="([a-z-]+)">([^<]+)</p>')


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as running:
        yield running


def make_app(name: str = "hello") -> None:
    """An app of team `main` on octo/hello, made through the services (what the new-app page does)."""
    with db.session_scope() as session:
        team = session.scalar(select(Team).where(Team.name == "main"))
        assert team is not None
        app_service.create_app(
            session, settings=get_settings(), team=team, name=name, repo_url=REPO, branch="main"
        )


def app_row(name: str = "hello") -> App:
    with db.session_scope() as session:
        app = session.scalar(select(App).where(App.name == name))
        assert app is not None
        session.expunge(app)
        return app


def secrets_shown(page: str) -> dict[str, str]:
    """What the page shows once, by the element's id."""
    return {element: unescape(value) for element, value in SECRET_ONCE.findall(page)}


def field_error(page: str, field: str) -> str:
    found = re.search(rf'<span class="field-error" id="{re.escape(field)}-error">([^<]*)</span>', page)
    assert found is not None, f"no error next to {field}"
    return unescape(found.group(1))


def as_viewer(browser: Browser) -> None:
    make_user("vera", PASSWORD, role="viewer")
    sign_in_as(browser, "vera", PASSWORD)


# --- deploy notifications ----------------------------------------------------------------------------


def test_a_json_target_is_listed_masked_and_its_signing_secret_shown_once(admin: Browser) -> None:
    make_app()
    admin.open(SETTINGS)
    url = "https://ci.example.com/hooks/dockyard/s3cr3t-path?token=t0ps3cr3t"

    created = admin.submit(
        "/apps/hello/notifications", {"format": "json", "url": url, "events": ["live", "failed"]}
    )

    assert created.status_code == 200
    assert "<strong>Added https://ci.example.com/hooks/…</strong>" in created.text
    shown = secrets_shown(created.text)
    assert shown["new-signing-secret"].startswith("whsec")
    assert "s3cr3t" not in created.text and "t0ps3cr3t" not in created.text
    again = admin.open(SETTINGS)
    assert "https://ci.example.com/hooks/…" in again.text and "live, failed" in again.text
    assert "never sent" in again.text
    assert shown["new-signing-secret"] not in again.text and "new-signing-secret" not in again.text
    assert "s3cr3t" not in again.text


def test_a_target_for_one_event_without_a_secret_redirects_with_a_notice(admin: Browser) -> None:
    make_app()
    admin.open(SETTINGS)

    created = admin.submit(
        "/apps/hello/notifications",
        {"format": "slack", "url": "https://hooks.slack.com/services/T0/B0/xyz", "events": "failed"},
    )

    assert created.status_code == 303
    assert created.headers["location"] == f"{SETTINGS}#notifications"
    page = admin.open(created.headers["location"])
    assert "Added https://hooks.slack.com/services/…: send a test to check that it arrives." in page.text
    assert secrets_shown(page.text) == {}
    with db.session_scope() as session:
        target = session.scalars(select(NotificationTarget)).one()
        assert (target.format, target.events, target.signing_secret) == ("slack", ["failed"], None)


def test_a_target_without_events_or_with_a_bad_url_is_refused_by_its_field(admin: Browser) -> None:
    make_app()
    admin.open(SETTINGS)

    no_events = admin.submit(
        "/apps/hello/notifications", {"format": "slack", "url": "https://hooks.slack.com/services/T0/B0/x"}
    )

    assert no_events.status_code == 422
    assert field_error(no_events.text, "events") == "use one or both of live, failed"
    assert 'value="https://hooks.slack.com/services/T0/B0/x"' in no_events.text  # what was typed is kept
    assert '<option value="slack" selected>' in no_events.text
    bad_url = admin.submit(
        "/apps/hello/notifications", {"format": "json", "url": "ftp://x", "events": "live"}
    )
    assert bad_url.status_code == 422
    assert field_error(bad_url.text, "url").startswith("must start with https:// (or http://)")
    with db.session_scope() as session:
        assert session.scalars(select(NotificationTarget)).all() == []


def test_send_a_test_reaches_the_receiver_and_shows_the_result(admin: Browser, receiver: Receiver) -> None:
    make_app()
    admin.open(SETTINGS)
    admin.submit(
        "/apps/hello/notifications",
        {"format": "slack", "url": receiver.url("/hook/s3cr3t"), "events": ["live", "failed"]},
    )
    [target_id] = re.findall(r"/apps/hello/notifications/(\d+)/test", admin.open(SETTINGS).text)

    sent = admin.submit(f"/apps/hello/notifications/{target_id}/test")

    assert sent.status_code == 303
    page = admin.open(sent.headers["location"])
    masked = f"http://127.0.0.1:{receiver.port}/hook/…"
    assert f"Sent a test to {masked}: it answered 200 OK." in page.text
    [received] = receiver.received
    assert received.path == "/hook/s3cr3t" and "a test notification from Dockyard" in received.json()["text"]
    assert re.search(r"<td>200 OK\s*<span class=\"hint\"><time", page.text)  # the last result, listed

    receiver.status = 500
    failed = admin.submit(f"/apps/hello/notifications/{target_id}/test")
    page = admin.open(failed.headers["location"])
    assert f"The test to {masked} failed: 500 Internal Server Error." in page.text
    assert "s3cr3t" not in page.text


def test_a_removed_target_is_gone(admin: Browser) -> None:
    make_app()
    admin.open(SETTINGS)
    admin.submit(
        "/apps/hello/notifications",
        {"format": "slack", "url": "https://hooks.slack.com/services/T0/B0/xyz", "events": "live"},
    )
    [target_id] = re.findall(r"/apps/hello/notifications/(\d+)/remove", admin.open(SETTINGS).text)

    removed = admin.submit(f"/apps/hello/notifications/{target_id}/remove")

    page = admin.open(removed.headers["location"])
    assert "Removed https://hooks.slack.com/services/…: it gets no more posts." in page.text
    assert "No notifications" in page.text
    assert admin.submit(f"/apps/hello/notifications/{target_id}/test").status_code == 404


def test_a_viewer_sees_the_targets_but_no_forms_and_is_refused_changes(admin: Browser) -> None:
    make_app()
    admin.open(SETTINGS)
    admin.submit(
        "/apps/hello/notifications",
        {"format": "slack", "url": "https://hooks.slack.com/services/T0/B0/xyz", "events": "live"},
    )
    [target_id] = re.findall(r"/apps/hello/notifications/(\d+)/remove", admin.open(SETTINGS).text)
    admin.submit("/apps/hello/deploy-hook")
    as_viewer(admin)

    page = admin.open(SETTINGS)

    assert "https://hooks.slack.com/services/…" in page.text
    assert "/notifications" not in re.sub(r'href="#notifications"', "", page.text)  # no form posts there
    assert 'action="/apps/hello/deploy-hook' not in page.text
    assert "hello has a deploy hook" in page.text
    for url in (
        "/apps/hello/notifications",
        f"/apps/hello/notifications/{target_id}/test",
        f"/apps/hello/notifications/{target_id}/remove",
        "/apps/hello/deploy-hook",
        "/apps/hello/deploy-hook/remove",
    ):
        refused = admin.submit(url, {"format": "json", "url": "https://example.com/x", "events": "live"})
        assert refused.status_code == 403, url
    with db.session_scope() as session:
        assert len(session.scalars(select(NotificationTarget)).all()) == 1
    assert app_row().deploy_hook_hash is not None


# --- deploy hook --------------------------------------------------------------------------------------


def test_the_deploy_hook_url_is_shown_once_and_deploys(
    admin: Browser, queued: Callable[[], list[int]]
) -> None:
    make_app()
    page = admin.open(SETTINGS)
    assert "No deploy hook." in page.text

    created = admin.submit("/apps/hello/deploy-hook")

    assert created.status_code == 200
    url = secrets_shown(created.text)["new-deploy-hook-url"]
    assert url.startswith(f"{get_settings().public_url.rstrip('/')}/hooks/deploy/hello/dh")
    assert f"<code>curl -X POST {url}</code>" in unescape(created.text)
    assert "the earlier URL no longer works" not in created.text
    called = admin.post(httpx.URL(url).path)
    assert called.status_code == 202, called.text
    assert queued() == [called.json()["id"]]
    reloaded = admin.open(SETTINGS)
    assert url not in reloaded.text and "hello has a deploy hook" in reloaded.text


def test_a_regenerated_hook_replaces_the_old_url_and_a_removed_one_deploys_nothing(admin: Browser) -> None:
    make_app()
    admin.open(SETTINGS)
    first = secrets_shown(admin.submit("/apps/hello/deploy-hook").text)["new-deploy-hook-url"]

    regenerated = admin.submit("/apps/hello/deploy-hook")

    second = secrets_shown(regenerated.text)["new-deploy-hook-url"]
    assert second != first and "the earlier URL no longer works" in regenerated.text
    assert admin.post(httpx.URL(first).path).status_code == 404
    removed = admin.submit("/apps/hello/deploy-hook/remove")
    assert (
        "Removed the deploy hook: its URL deploys nothing now."
        in admin.open(removed.headers["location"]).text
    )
    assert admin.post(httpx.URL(second).path).status_code == 404
    assert "No deploy hook." in admin.open(SETTINGS).text


# --- pull request previews ----------------------------------------------------------------------------


def make_preview(parent: str, number: int, status: str) -> str:
    """A preview of `parent` for pull request `number`, its newest deployment having `status`."""
    name = f"{parent}-pr-{number}"
    make_app(name)
    with db.session_scope() as session:
        preview = session.scalar(select(App).where(App.name == name))
        found = session.scalar(select(App).where(App.name == parent))
        assert preview is not None and found is not None
        preview.preview_of_id, preview.pr_number, preview.branch = found.id, number, f"feature-{number}"
        session.add(Deployment(app_id=preview.id, trigger="pull_request", ref="feature", status="live"))
        session.flush()
        session.add(Deployment(app_id=preview.id, trigger="pull_request", ref="feature", status=status))
    return name


def test_a_parents_overview_lists_its_previews_with_their_newest_deployment(admin: Browser) -> None:
    make_app()
    preview = make_preview("hello", 7, "building")
    url = get_settings().app_url(preview)

    page = admin.open("/apps/hello").text

    assert "Pull request previews" in page
    assert '<a href="/apps/hello-pr-7">hello-pr-7</a>' in page
    assert "#7" in page and "feature-7" in page
    assert f'<a href="{url}">{url}</a>' in page
    assert '<span class="badge badge-building">building</span>' in page
    assert "Pull request previews" not in admin.open(f"/apps/{preview}").text  # a preview has none


def test_an_app_without_previews_shows_no_previews_card(admin: Browser) -> None:
    make_app()
    assert "Pull request previews" not in admin.open("/apps/hello").text


# --- connecting through the GitHub App ----------------------------------------------------------------


def test_connecting_through_the_github_app_stores_the_installation_and_disconnect_clears_it(
    admin: Browser, github: GitHubFake
) -> None:
    installation = register_github_app(admin, github)
    make_app()
    page = admin.open(SETTINGS)
    # GitHub is asked for repositories only on request, not on every visit of the settings.
    assert "Connect through the GitHub App" in page.text and "installation on octo</option>" not in page.text
    assert f"{SETTINGS}?connect=github#connect-github" in page.text
    page = admin.open(f"{SETTINGS}?connect=github")
    assert (
        f'<option value="{installation}:octo/hello">octo/hello · installation on octo</option>' in page.text
    )

    connected = admin.submit("/apps/hello/github/connect", {"match": f"{installation}:octo/hello"})

    assert connected.status_code == 303
    assert app_row().github_installation_id == installation
    page = admin.open(connected.headers["location"])
    assert f"Connected hello to octo/hello through installation {installation}" in page.text
    assert re.search(
        rf'Connected through installation <span class="mono">{installation}</span>\s*\(on octo\)', page.text
    )
    assert "Connect through the GitHub App" not in page.text
    disconnected = admin.submit("/apps/hello/github/disconnect")
    assert "Disconnected hello from the GitHub App" in admin.open(disconnected.headers["location"]).text
    assert app_row().github_installation_id is None


def test_a_repository_the_installation_cannot_see_is_refused_on_its_field(
    admin: Browser, github: GitHubFake
) -> None:
    installation = register_github_app(admin, github)
    make_app()
    admin.open(SETTINGS)

    refused = admin.submit(
        "/apps/hello/github/connect", {"installation": str(installation), "repository": "octo/secret"}
    )

    assert refused.status_code == 422
    assert field_error(refused.text, "repository").startswith(
        f"installation {installation} of GitHub App dockyard cannot see octo/secret"
    )
    assert 'value="octo/secret"' in refused.text and '<details class="connect-other" open>' in refused.text
    assert app_row().github_installation_id is None


def test_a_viewer_is_not_offered_the_connection(admin: Browser, github: GitHubFake) -> None:
    installation = register_github_app(admin, github)
    make_app()
    make_user("vera", PASSWORD, role="viewer")
    from web.main import app

    # The public URL is https now, so the session cookie is Secure: the viewer browses over https.
    with Browser(app, base_url=PUBLIC) as viewer:
        sign_in_as(viewer, "vera", PASSWORD)
        page = viewer.open(SETTINGS)

        assert page.status_code == 200 and "Source and webhook" in page.text
        assert "Connect through the GitHub App" not in page.text
        refused = viewer.submit("/apps/hello/github/connect", {"match": f"{installation}:octo/hello"})
    assert refused.status_code == 403
    assert app_row().github_installation_id is None
