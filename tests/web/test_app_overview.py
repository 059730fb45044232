"""The app page: what runs and where, and the actions only those allowed see (and the server re-checks)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from api.services import apps as app_service
from api.services.releases import sync_services
from core import db
from core.models import App, Deployment, Domain, Service, Team
from core.settings import get_settings
from scheduler.caddy import start_caddy
from tests.platform import free_port
from tests.web.conftest import Browser, make_user, sign_in_as

REPO = "https://github.com/octo-org/hello.git"
PLAN = {"processes": {"web": "gunicorn app:app", "worker": "celery -A tasks worker", "beat": "celery beat"}}
SHA = "0123456789abcdef0123456789abcdef01234567"


def make_app(name: str = "hello") -> None:
    """An app of team `main`, made through the services (what the new-app page does)."""
    with db.session_scope() as session:
        team = session.scalar(select(Team).where(Team.name == "main"))
        assert team is not None
        app_service.create_app(
            session, settings=get_settings(), team=team, name=name, repo_url=REPO, branch="main"
        )


def add_deployments(*rows: dict[str, Any], app: str = "hello") -> list[int]:
    """Deployments as the pipeline leaves them, oldest first; the app's services follow PLAN."""
    ids = []
    with db.session_scope() as session:
        found = session.scalar(select(App).where(App.name == app))
        assert found is not None
        for fields in rows:
            deployment = Deployment(
                **{
                    "app_id": found.id,
                    "trigger": "push",
                    "ref": "main",
                    "commit": SHA,
                    "plan": PLAN,
                    **fields,
                }
            )
            session.add(deployment)
            session.flush()
            ids.append(deployment.id)
        sync_services(session, found, PLAN)
    return ids


def replicas() -> dict[str, int]:
    with db.session_scope() as session:
        return {service.name: service.replicas for service in session.scalars(select(Service))}


def app_exists(name: str = "hello") -> bool:
    with db.session_scope() as session:
        return session.scalar(select(App).where(App.name == name)) is not None


@pytest.fixture
def member(admin: Browser) -> Browser:
    """The browser, signed in as a member of team `main`, which has app `hello`."""
    make_app()
    make_user("mia", "member password 1")
    sign_in_as(admin, "mia", "member password 1")
    return admin


def test_the_overview_shows_where_the_app_answers_and_what_is_live(admin: Browser) -> None:
    make_app()
    add_deployments(
        {"status": "superseded", "image": "test/hello:1", "commit_message": "Older work"},
        {
            "status": "live",
            "image": "test/hello:2",
            "commit_author": "Ada Lovelace",
            "commit_message": "Compute Bernoulli numbers",
        },
    )
    with db.session_scope() as session:
        found = session.scalar(select(App).where(App.name == "hello"))
        assert found is not None
        session.add(Domain(app_id=found.id, hostname="www.example.org"))

    page = admin.open("/apps/hello")

    assert page.status_code == 200
    url = get_settings().app_url("hello")
    assert f'<a href="{url}">{url}</a>' in page.text
    assert "www.example.org" in page.text
    assert "Compute Bernoulli numbers" in page.text and "Ada Lovelace" in page.text
    assert SHA[:7] in page.text
    # The processes panel asks the (real) engine: nothing runs for this app, and it says so per process.
    assert 'data-refresh="/apps/hello/status"' in page.text
    for process in ("web", "worker", "beat"):
        assert f'<td class="mono">{process}</td>' in page.text
    for action in ("Deploy", "Restart", "Stop", "Scale", "Roll back", "Delete hello"):
        assert action in page.text


def test_the_status_panel_refreshes_on_its_own_and_shows_a_deployment_in_progress(admin: Browser) -> None:
    make_app()
    (building,) = add_deployments({"status": "building"})

    panel = admin.open("/apps/hello/status")

    assert panel.status_code == 200
    assert "<html" not in panel.text  # a fragment, swapped into the page
    assert f'href="/apps/hello/deployments/{building}">follow its log' in panel.text
    assert "badge-building" in panel.text


def test_an_engine_that_does_not_answer_is_said_in_the_panel_not_a_failed_page(
    admin: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_app()
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{free_port()}")

    page = admin.open("/apps/hello")

    assert page.status_code == 200
    assert re.search(r"Cannot show the containers: .*the Docker engine (does|did) not answer", page.text)
    assert "Cannot list the releases to roll back to" in page.text


def test_a_viewer_sees_no_actions_and_is_refused_when_posting_them(admin: Browser) -> None:
    make_app()
    add_deployments({"status": "live", "image": "test/hello:1"})
    make_user("vic", "viewer password 1", role="viewer")
    sign_in_as(admin, "vic", "viewer password 1")

    page = admin.open("/apps/hello")

    assert page.status_code == 200
    for hidden in ("/deploy", "/restart", "/stop", "/scale", "/rollback", "/delete"):
        assert f'action="/apps/hello{hidden}"' not in page.text
    for action, data in (
        ("deploy", {}),
        ("restart", {}),
        ("stop", {}),
        ("scale", {"replicas_web": "3"}),
        ("rollback", {}),
        ("delete", {"confirm": "hello"}),
    ):
        refused = admin.submit(f"/apps/hello/{action}", data)
        assert refused.status_code == 403, action
        assert "your role in team &#39;main&#39; is viewer" in refused.text
    assert replicas()["web"] == 1 and app_exists()


def test_deploy_queues_a_build_of_the_branch_and_opens_its_live_log(
    member: Browser, queued: Callable[[], list[int]]
) -> None:
    member.open("/apps/hello")

    response = member.submit("/apps/hello/deploy")

    assert response.status_code == 303
    (deployment,) = queued()
    assert response.headers["location"] == f"/apps/hello/deployments/{deployment}"
    page = member.open(response.headers["location"])
    assert f"Deployment {deployment} queued." in page.text  # the notice, once
    assert f'data-build-log="/api/v1/apps/hello/deployments/{deployment}/logs/ws"' in page.text
    with db.session_scope() as session:
        row = session.get(Deployment, deployment)
        assert row is not None
        assert (row.trigger, row.ref, row.status) == ("web", "main", "queued")


def test_refusals_are_shown_on_the_page_with_what_to_do(member: Browser) -> None:
    member.open("/apps/hello")

    restart = member.submit("/apps/hello/restart")
    rollback = member.submit("/apps/hello/rollback")

    assert restart.status_code == 409
    assert "has no live release to restart; deploy it first" in restart.text
    assert "<h1>hello" in restart.text  # the app page again, not a bare error page
    assert rollback.status_code == 409
    assert "has no earlier release to roll back to" in rollback.text


def test_scale_sets_replicas_and_refuses_a_second_beat_keeping_what_was_typed(member: Browser) -> None:
    add_deployments({"status": "live", "image": "test/hello:1"})
    member.open("/apps/hello")

    refused = member.submit(
        "/apps/hello/scale", {"replicas_web": "3", "replicas_worker": "2", "replicas_beat": "2"}
    )

    assert refused.status_code == 422
    assert "beat runs at most one replica" in refused.text
    assert 'name="replicas_web" value="3"' in refused.text  # nothing typed is lost
    assert replicas() == {"web": 1, "worker": 1, "beat": 1}

    scaled = member.submit(
        "/apps/hello/scale", {"replicas_web": "3", "replicas_worker": "2", "replicas_beat": "0"}
    )

    assert scaled.status_code == 303
    assert replicas() == {"web": 3, "worker": 2, "beat": 0}
    assert "Scaled to web: 3, worker: 2, beat: 0" in member.open("/apps/hello").text


def test_only_managers_see_delete_and_it_needs_the_typed_name(member: Browser) -> None:
    page = member.open("/apps/hello")
    assert 'data-confirm-typed="hello"' not in page.text  # a member may deploy, not delete
    assert member.submit("/apps/hello/delete", {"confirm": "hello"}).status_code == 403
    assert app_exists()


@pytest.fixture
def caddy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A Caddy of this test's own, for deleting an app's route."""
    admin = f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("DOCKYARD_CADDY_ADMIN", admin)
    get_settings.cache_clear()
    process = start_caddy(admin=admin, data_dir=tmp_path / "caddy")
    assert process is not None
    yield admin
    process.terminate()
    process.wait(timeout=10)


def test_delete_with_the_wrong_name_keeps_the_app_and_the_right_one_deletes_it(
    admin: Browser, caddy: str
) -> None:
    make_app()
    page = admin.open("/apps/hello")
    assert '<form method="post" action="/apps/hello/delete" data-confirm-typed="hello"' in page.text
    assert '<input type="checkbox" name="volumes" value="true">' in page.text  # unchecked by default

    wrong = admin.submit("/apps/hello/delete", {"confirm": "hell"})

    assert wrong.status_code == 422
    assert "type the app&#39;s name, hello, to confirm" in wrong.text
    assert app_exists()

    deleted = admin.submit("/apps/hello/delete", {"confirm": "hello"})

    assert deleted.status_code == 303 and deleted.headers["location"] == "/"
    assert not app_exists()
    assert "App hello was deleted." in admin.open("/").text
