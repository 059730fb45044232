"""The dashboard: the viewer's apps and, for each, the truth about what serves and what last happened."""

from __future__ import annotations

from sqlalchemy import select

from api.services import teams
from api.services.access import Principal
from core import db
from core.models import User
from tests.web.conftest import Browser, make_user, sign_in_as
from tests.web.test_app_overview import add_deployments, make_app


def test_an_app_whose_last_deploy_failed_still_shows_live_and_links_to_the_failure(admin: Browser) -> None:
    make_app()
    _, failed = add_deployments({"status": "live"}, {"status": "failed", "error": "pip install failed"})
    page = admin.open("/").text
    assert 'class="badge badge-live">live</span>' in page
    assert f'href="/apps/hello/deployments/{failed}">last deploy failed</a>' in page
    assert "badge-failed" not in page


def test_a_deployment_in_progress_is_shown_beside_the_live_release(admin: Browser) -> None:
    make_app()
    _, building = add_deployments({"status": "live"}, {"status": "building"})
    assert f"deploying #{building}: building" in admin.open("/").text


def test_an_app_never_deployed_says_so(admin: Browser) -> None:
    make_app()
    assert "never deployed" in admin.open("/").text


def test_people_see_the_apps_of_their_own_teams_only(admin: Browser) -> None:
    make_app("ours")
    with db.session_scope() as session:
        owner = session.scalar(select(User).where(User.username == "admin"))
        assert owner is not None
        teams.create_team(session, Principal(user=owner, scopes=frozenset({"admin", "manage"})), "other")
    make_user("olga", "other password 1", team="other", role="owner")
    sign_in_as(admin, "olga", "other password 1")
    page = admin.open("/").text
    assert "ours" not in page
    assert "Create your first app" in page


def test_the_list_refreshes_itself_with_each_apps_state(admin: Browser) -> None:
    make_app()
    page = admin.open("/").text
    assert 'data-refresh="/fragments/apps"' in page
    add_deployments({"status": "building"})
    fragment = admin.get("/fragments/apps")
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert 'badge-building">building</span>' in fragment.text


def test_with_many_apps_a_search_finds_them_by_name_repository_or_team(admin: Browser) -> None:
    for name in ("shop-api", "shop-worker", "blog", "billing", "docs", "search", "auth", "mail"):
        make_app(name)
    page = admin.open("/").text
    assert 'name="q"' in page
    found = admin.open("/?q=SHOP").text
    assert "/apps/shop-api" in found and "/apps/shop-worker" in found
    assert "/apps/blog" not in found
    assert 'data-refresh="/fragments/apps?q=SHOP"' in found
    assert "/apps/blog" not in admin.get("/fragments/apps?q=shop").text
    assert "No app matches “nothing-like-it”" in admin.open("/?q=nothing-like-it").text


def test_a_few_apps_need_no_search_box(admin: Browser) -> None:
    make_app()
    assert 'name="q"' not in admin.open("/").text
