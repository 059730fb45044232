"""Deployment pages: the list (labels, authors, durations, paging) and one deployment with its build log;
the log's WebSocket takes the session cookie only from this site's pages."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from starlette.websockets import WebSocketDisconnect

from core.models import utcnow
from tests.api.test_operations import docker_client, kept_image  # noqa: F401 - fixtures used here
from tests.web.conftest import Browser
from tests.web.test_app_overview import SHA, add_deployments, make_app
from web.session import SESSION_COOKIE

LOG = (
    "-----> Fetching https://github.com/octo-org/hello.git at main\n       commit {sha}\n !     pip failed\n"
)


def test_the_list_says_why_each_deployment_was_made_by_whom_and_how_long_it_took(admin: Browser) -> None:
    make_app()
    started = utcnow() - timedelta(minutes=10)
    add_deployments(
        {
            "status": "superseded",
            "image": "test/hello:1",
            "commit_author": "Ada Lovelace",
            "commit_message": "Add the engine",
            "started_at": started,
            "finished_at": started + timedelta(seconds=65),
        },
        {"status": "failed", "trigger": "pull_request", "error": "pip failed"},
        {"status": "live", "trigger": "rollback", "image": "test/hello:1"},
        {"status": "building", "trigger": "hook", "started_at": started},
    )

    page = admin.open("/apps/hello/deployments")

    assert page.status_code == 200
    for label in ("Push", "PR preview", "Rollback", "Deploy hook"):
        assert f"<td>{label}</td>" in page.text
    assert "Ada Lovelace" in page.text and "Add the engine" in page.text and SHA[:7] in page.text
    assert "1 min 5 s" in page.text
    assert "running since" in page.text
    for status in ("superseded", "failed", "live", "building"):
        assert f'<span class="badge badge-{status}">{status}</span>' in page.text
    assert 'data-refresh="/apps/hello/deployments/table"' in page.text
    table = admin.open("/apps/hello/deployments/table")
    assert "<html" not in table.text and "Deploy hook" in table.text


def test_the_list_pages_newest_first_with_an_older_link(admin: Browser) -> None:
    make_app()
    ids = add_deployments(*({"status": "failed"} for _ in range(23)))

    first = admin.open("/apps/hello/deployments")

    shown = [i for i in ids if f'href="/apps/hello/deployments/{i}">#{i}</a>' in first.text]
    assert shown == ids[3:]
    assert first.text.index(f">#{ids[-1]}<") < first.text.index(f">#{ids[3]}<")  # newest first
    assert f'href="/apps/hello/deployments?before={ids[3]}" rel="next">Older</a>' in first.text

    older = admin.open(f"/apps/hello/deployments?before={ids[3]}")

    assert [i for i in ids if f'href="/apps/hello/deployments/{i}">#{i}</a>' in older.text] == ids[:3]
    assert "Older</a>" not in older.text


def test_an_app_without_deployments_says_how_to_make_one(admin: Browser) -> None:
    make_app()

    page = admin.open("/apps/hello/deployments")

    assert "No deployments yet" in page.text and "Push to" in page.text


def test_a_failed_deployment_shows_its_reason_above_its_whole_saved_log(admin: Browser) -> None:
    make_app()
    (failed,) = add_deployments(
        {"status": "failed", "error": "pip failed", "log": LOG.format(sha=SHA), "finished_at": utcnow()}
    )

    page = admin.open(f"/apps/hello/deployments/{failed}")

    assert page.status_code == 200
    reason = page.text.index("Why it failed:</strong> pip failed")
    log = page.text.index('<pre class="log"')
    assert reason < log
    assert (
        '<span class="phase">-----&gt; Fetching https://github.com/octo-org/hello.git at main\n</span>'
        in page.text
    )
    assert f"<span>       commit {SHA}\n</span>" in page.text
    assert '<span class="err"> !     pip failed\n</span>' in page.text
    # Rendered whole without JavaScript; the socket, if any, resumes after it, and no reload loop.
    assert 'data-offset="3"' in page.text and "data-reload-on-end" not in page.text
    assert "Redeploy this commit" in page.text


def test_a_running_deployment_streams_its_log_and_reloads_when_it_ends(admin: Browser) -> None:
    make_app()
    (running,) = add_deployments({"status": "building", "started_at": utcnow()})

    page = admin.open(f"/apps/hello/deployments/{running}")

    assert f'data-build-log="/api/v1/apps/hello/deployments/{running}/logs/ws"' in page.text
    assert "data-reload-on-end" in page.text and 'data-status="deployment-status"' in page.text
    assert '<span id="deployment-status" class="badge badge-building"' in page.text
    assert "Redeploy this commit" not in page.text  # not while it runs


def test_a_kept_earlier_release_offers_a_rollback_to_it(admin: Browser, kept_image: str) -> None:  # noqa: F811
    make_app()
    kept, gone, live = add_deployments(
        {"status": "superseded", "image": kept_image, "commit_message": "The good one"},
        {"status": "superseded", "image": "test/hello:garbage-collected"},
        {"status": "live", "image": "test/hello:live"},
    )

    assert "Roll back to this release" in admin.open(f"/apps/hello/deployments/{kept}").text
    assert "Roll back to this release" not in admin.open(f"/apps/hello/deployments/{gone}").text
    assert "Roll back to this release" not in admin.open(f"/apps/hello/deployments/{live}").text
    overview = admin.open("/apps/hello").text
    assert f'<option value="{kept}">#{kept} · {SHA[:7]} The good one' in overview
    assert f'<option value="{gone}">' not in overview


@pytest.mark.parametrize(
    ("origin", "accepted"), [("http://dockyard.test", True), ("https://evil.example", False)]
)
def test_the_log_socket_takes_the_session_cookie_only_from_this_sites_pages(
    admin: Browser, origin: str, accepted: bool
) -> None:
    make_app()
    (failed,) = add_deployments({"status": "failed", "log": "one line\n", "finished_at": utcnow()})
    url = f"ws://dockyard.test/api/v1/apps/hello/deployments/{failed}/logs/ws"
    # What a browser sends when a page opens the socket: its cookie, and the page's Origin.
    headers = {"Origin": origin, "Cookie": f"{SESSION_COOKIE}={admin.cookies[SESSION_COOKIE]}"}

    if accepted:
        with admin.websocket_connect(url, headers=headers) as socket:
            assert json.loads(socket.receive_text()) == {"type": "status", "status": "failed"}
            assert json.loads(socket.receive_text()) == {"type": "line", "offset": 1, "text": "one line"}
    else:
        with (
            pytest.raises(WebSocketDisconnect) as closed,
            admin.websocket_connect(url, headers=headers),
        ):
            pass
        assert closed.value.code == 4401
