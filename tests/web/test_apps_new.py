"""/apps/new: pick a source, detect the plan on a real clone before anything is created, override a start
command, then create the app and queue its first deployment; refusals keep what was typed."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from api.services.plan_preview import explain
from builder.detect import plan_build
from core import crypto, db
from core.models import App, Deployment
from core.settings import get_settings
from tests.api.github_fixtures import github
from tests.github_fake import GitHubFake
from tests.github_payloads import push_for, signed_headers
from tests.platform import Repo, fastapi_app
from tests.web.conftest import PASSWORD, Browser, make_user, sign_in_as
from tests.web.test_github_pages import register_github_app

__all__ = ["github"]  # fixture

WEB = "uvicorn main:app --host 0.0.0.0 --port $PORT"


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    """A FastAPI app in a local repository, cloned as file:// (what the browser tests use)."""
    made = Repo(tmp_path / "repo")
    made.commit(fastapi_app("1"), "first")
    return made


def details(repo: Repo, **changes: str) -> dict[str, str]:
    return {
        "source": "url",
        "repo_url": repo.url,
        "branch": "main",
        "name": "hello",
        "team": "main",
        **changes,
    }


def hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', page)
    assert found, f"no hidden {name} field"
    return html.unescape(found.group(1))


def app_count() -> int:
    with db.session_scope() as session:
        return session.scalar(select(func.count()).select_from(App)) or 0


def test_a_new_app_from_a_git_url_is_detected_then_created_with_an_edited_command(
    admin: Browser, repo: Repo, queued: Callable[[], list[int]]
) -> None:
    form = admin.open("/apps/new?source=url")
    assert form.status_code == 200 and 'name="repo_url"' in form.text

    plan = admin.submit("/apps/new/plan", details(repo))

    assert plan.status_code == 200, plan.text
    assert "fastapi" in plan.text
    assert "no version declared → default Python 3.13" in plan.text
    assert "found requirements.txt → installing with pip install -r requirements.txt" in plan.text
    assert f'name="command.web" value="{WEB}"' in html.unescape(plan.text)
    assert "found main.py with `app = FastAPI()` → FastAPI → uvicorn main:app" in html.unescape(plan.text)
    assert app_count() == 0  # detecting creates nothing

    edited = f"{WEB} --proxy-headers"
    created = admin.submit(
        "/apps/new/create",
        {**details(repo), "plan": hidden(plan.text, "plan"), "command.web": edited},
    )

    assert created.status_code == 200, created.text
    assert "https://" in created.text or "http://" in created.text
    assert f"{get_settings().public_url.rstrip('/')}/webhooks/github" in created.text
    secret = re.search(r'id="webhook-secret">([^<]+)<', created.text)
    assert secret is not None
    with db.session_scope() as session:
        app = session.scalars(select(App)).one()
        assert app.config == {"processes": {"web": {"command": edited}}}
        assert crypto.decrypt(get_settings().secret(), app.webhook_secret) == secret.group(1)
        first = session.scalars(select(Deployment)).one()
        assert (first.trigger, first.ref) == ("web", "main")
    assert queued() == [first.id]
    assert f'href="/apps/hello/deployments/{first.id}"' in created.text
    # The secret shown is the one GitHub's signed pushes must carry.
    body = json.dumps(push_for("octo/hello", branch="main", after="a" * 40)).encode()
    push = admin.post(
        "/webhooks/github", content=body, headers=signed_headers(secret.group(1), body, event="push")
    )
    assert push.status_code == 202, push.text


def test_an_unchanged_command_is_not_saved(
    admin: Browser, repo: Repo, queued: Callable[[], list[int]]
) -> None:
    admin.open("/apps/new?source=url")
    plan = admin.submit("/apps/new/plan", details(repo))
    created = admin.submit(
        "/apps/new/create", {**details(repo), "plan": hidden(plan.text, "plan"), "command.web": f"  {WEB} "}
    )

    assert created.status_code == 200
    with db.session_scope() as session:
        assert session.scalars(select(App)).one().config == {}
    assert len(queued()) == 1


def test_an_emptied_command_is_refused_on_its_field_and_nothing_is_created(
    admin: Browser, repo: Repo, queued: Callable[[], list[int]]
) -> None:
    admin.open("/apps/new?source=url")
    plan = admin.submit("/apps/new/plan", details(repo))
    refused = admin.submit(
        "/apps/new/create", {**details(repo), "plan": hidden(plan.text, "plan"), "command.web": " "}
    )

    assert refused.status_code == 422
    assert 'id="processes.web.command-error"' in refused.text
    assert "put back the detected one" in refused.text
    assert "Create and deploy" in refused.text  # the plan is still shown
    assert app_count() == 0 and queued() == []


@pytest.mark.parametrize(
    ("changes", "status", "field", "message"),
    [
        ({"branch": "nope"}, 422, "branch", "the repository has no branch &#39;nope&#39;"),
        (
            {"repo_url": "file:///nowhere/octo/gone.git"},
            422,
            "repo_url",
            "could not fetch file:///nowhere/octo/gone.git",
        ),
        ({"repo_url": "not a url"}, 422, "repo_url", "must be an https://, ssh or file:// git URL"),
        ({"name": "Hello_World"}, 422, "name", "must be a DNS label"),
    ],
)
def test_a_refused_detect_says_why_on_the_field_and_keeps_what_was_typed(
    admin: Browser, repo: Repo, changes: dict[str, str], status: int, field: str, message: str
) -> None:
    admin.open("/apps/new?source=url")
    refused = admin.submit("/apps/new/plan", details(repo, **changes))

    assert refused.status_code == status
    assert f'id="{field}-error"' in refused.text
    assert message in refused.text
    for value in details(repo, **changes).values():
        if value != "url":
            assert f'value="{html.escape(value)}"' in refused.text
    assert app_count() == 0


def test_a_taken_name_is_refused_before_cloning(
    admin: Browser, repo: Repo, queued: Callable[[], list[int]]
) -> None:
    admin.open("/apps/new?source=url")
    plan = admin.submit("/apps/new/plan", details(repo))
    admin.submit("/apps/new/create", {**details(repo), "plan": hidden(plan.text, "plan")})

    again = admin.submit("/apps/new/plan", details(repo))
    late = admin.submit("/apps/new/create", {**details(repo), "plan": hidden(plan.text, "plan")})

    assert again.status_code == 409
    assert 'id="name-error"' in again.text and "an app named &#39;hello&#39; already exists" in again.text
    assert late.status_code == 409 and "already exists" in late.text
    assert app_count() == 1 and len(queued()) == 1


def test_a_branch_without_a_python_app_says_so(admin: Browser, tmp_path: Path) -> None:
    empty = Repo(tmp_path / "empty")
    empty.commit({"README.md": "# nothing to run\n"}, "docs only")
    admin.open("/apps/new?source=url")

    refused = admin.submit("/apps/new/plan", details(empty))

    assert refused.status_code == 422
    assert "Dockyard found no app it can run on branch main: found no dependencies to install" in refused.text
    assert app_count() == 0


def test_a_viewer_can_neither_open_nor_post_the_new_app_form(admin: Browser, repo: Repo) -> None:
    make_user("vera", PASSWORD, role="viewer")
    sign_in_as(admin, "vera", PASSWORD)

    page = admin.get("/apps/new")
    detect = admin.submit("/apps/new/plan", details(repo))
    create = admin.submit("/apps/new/create", {**details(repo), "plan": "{}"})

    assert page.status_code == 403
    assert "creating apps needs the owner or admin role in a team" in page.text
    assert detect.status_code == 403 and create.status_code == 403
    assert app_count() == 0


def test_a_team_admin_gets_their_team_preselected(admin: Browser) -> None:
    make_user("ada", PASSWORD, role="admin")
    sign_in_as(admin, "ada", PASSWORD)

    page = admin.open("/apps/new?source=url")

    assert page.status_code == 200
    assert '<option value="main" selected>main</option>' in page.text


def test_the_repository_picker_lists_the_installations_repositories_and_filters_them(
    admin: Browser, github: GitHubFake
) -> None:
    installation = register_github_app(admin, github)

    everything = admin.open("/apps/new")  # GitHub is the default source once installed
    filtered = admin.open("/apps/new?source=github&q=HEL")
    nothing = admin.open("/apps/new?source=github&q=zzz")

    assert "octo/hello" in everything.text and "octo/other" in everything.text
    assert "octo/hello" in filtered.text and "octo/other" not in filtered.text
    assert "No repository matches “zzz”" in nothing.text
    picked = admin.open(
        f"/apps/new?source=github&installation={installation}&repo=octo/hello&default_branch=main"
    )
    assert 'name="repository" value="octo/hello"' in picked.text
    assert 'name="name" value="hello"' in picked.text
    assert 'name="branch" value="main"' in picked.text


def test_creating_from_a_github_repository_connects_it_and_goes_to_the_build(
    admin: Browser, github: GitHubFake, queued: Callable[[], list[int]]
) -> None:
    installation = register_github_app(admin, github)
    preview = explain(plan_build(fastapi_app("1")), commit="c" * 40, supported_pythons=("3.13",))
    admin.open(f"/apps/new?source=github&installation={installation}&repo=octo/hello")

    created = admin.submit(
        "/apps/new/create",
        {
            "source": "github",
            "installation_id": str(installation),
            "repository": "octo/hello",
            "branch": "main",
            "name": "hello",
            "team": "main",
            "plan": preview.to_json(),
            "command.web": WEB,
        },
    )

    assert created.status_code == 303, created.text
    with db.session_scope() as session:
        app = session.scalars(select(App)).one()
        assert (app.repo_url, app.github_installation_id) == (
            "https://github.com/octo/hello.git",
            installation,
        )
        first = session.scalars(select(Deployment)).one()
    assert created.headers["location"] == f"/apps/hello/deployments/{first.id}"
    assert queued() == [first.id]
