"""/settings/github: registering the GitHub App from the browser through GitHub's redirects (the local
GitHub stand-in plays GitHub), its installations and their repositories, and the first-run guide."""

from __future__ import annotations

import html
import json
import re

from sqlalchemy import select

from core import db
from core.models import GitHubApp
from tests.api.github_fixtures import github
from tests.github_fake import GitHubFake
from tests.web.conftest import PASSWORD, Browser, make_user, sign_in_as

__all__ = ["github"]  # fixture

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def follow(browser: Browser, url: str) -> tuple[str, str]:
    """GET `url` as a browser does, following redirects on this site; the last location and its page."""
    while True:
        response = browser.get(url, headers=HTML, follow_redirects=False)
        if response.status_code != 303:
            assert response.status_code == 200, response.text
            return url, response.text
        url = response.headers["location"]


def register_github_app(admin: Browser, github: GitHubFake, *, name: str = "Dockyard") -> int:
    """Register and install the GitHub App through the pages and GitHub's redirects, as the administrator
    would in a browser; returns the installation's id (on `octo`, seeing octo/hello and octo/other)."""
    admin.open("/settings/github")
    started = admin.submit("/settings/github/register", {"name": name, "organization": ""})
    assert started.status_code == 303, started.text
    manifest_page = admin.get(started.headers["location"])
    state = re.search(r"state=([^'&]+)'", manifest_page.text)
    manifest = re.search(r"name='manifest' value='([^']*)'", manifest_page.text)
    assert state and manifest, manifest_page.text
    code = github.register(json.loads(html.unescape(manifest.group(1))))  # "Create GitHub App" on GitHub
    landed, page = follow(admin, f"/github/setup/callback?code={code}&state={state.group(1)}")
    assert landed == "/settings/github?welcome=1"
    assert f"GitHub App {name} registered: now install it" in page
    installation = github.install("octo", repositories=["octo/hello", "octo/other"])
    landed, page = follow(
        admin, f"/github/setup/installed?installation_id={installation}&setup_action=install"
    )
    assert landed == "/settings/github?welcome=1"
    assert "GitHub App installed on octo: Dockyard now sees 1 installation(s)" in page
    return installation


def test_only_the_site_administrator_sees_the_github_settings(admin: Browser) -> None:
    make_user("olga", PASSWORD, role="owner")
    sign_in_as(admin, "olga", PASSWORD)
    page = admin.get("/settings/github")
    assert page.status_code == 403
    assert "only the site administrator can do this" in page.text
    assert admin.submit("/settings/github/register", {"name": "Mine"}).status_code == 403


def test_first_run_guide_shows_each_step_and_the_git_url_alternative(
    admin: Browser, github: GitHubFake
) -> None:
    page = admin.open("/settings/github?welcome=1")

    assert page.status_code == 200
    steps = re.findall(r'<li class="(done|todo)">', page.text)
    assert steps == ["todo", "todo", "todo"]
    assert "Register the GitHub App" in page.text and "Create your first app" in page.text
    assert 'href="/apps/new?source=url">Use any git URL</a>' in page.text
    assert 'action="/settings/github/register"' in page.text


def test_the_administrator_registers_and_installs_the_app_and_lands_back_on_the_page(
    admin: Browser, github: GitHubFake
) -> None:
    installation = register_github_app(admin, github)

    page = admin.open("/settings/github?welcome=1")
    assert re.findall(r'<li class="(done|todo)">', page.text) == ["done", "done", "todo"]
    assert 'href="https://github.com/apps/dockyard/installations/new"' in page.text
    assert "octo" in page.text and "Organization" in page.text and "selected repositories" in page.text
    assert "octo/hello" in page.text and "octo/other" in page.text
    assert f"installation={installation}&amp;repo=octo/hello" in page.text
    assert 'action="/settings/github/register"' not in page.text
    assert not any(secret in page.text for secret in github.app_secrets.values())


def test_the_notice_after_registering_says_to_install_it(admin: Browser, github: GitHubFake) -> None:
    admin.open("/settings/github")
    started = admin.submit("/settings/github/register", {"name": "Dockyard ACME", "organization": "acme"})
    manifest_page = admin.get(started.headers["location"])
    assert "https://github.com/organizations/acme/settings/apps/new?state=" in manifest_page.text
    state = re.search(r"state=([^'&]+)'", manifest_page.text)
    manifest = re.search(r"name='manifest' value='([^']*)'", manifest_page.text)
    assert state and manifest
    code = github.register(json.loads(html.unescape(manifest.group(1))))

    landed, page = follow(admin, f"/github/setup/callback?code={code}&state={state.group(1)}")

    assert landed == "/settings/github?welcome=1"
    assert "GitHub App Dockyard ACME registered: now install it" in page
    assert "Not installed anywhere yet" in page
    with db.session_scope() as session:
        assert session.scalars(select(GitHubApp)).one().name == "Dockyard ACME"


def test_a_forged_or_expired_setup_link_shows_the_form_again_with_the_reason(
    admin: Browser, github: GitHubFake
) -> None:
    admin.open("/settings/github")
    page = admin.get("/settings/github/registered?code=abc&state=e30.forged")

    assert page.status_code == 401
    assert "not issued by this Dockyard or has expired" in page.text
    assert 'action="/settings/github/register"' in page.text
    assert github.calls == []  # GitHub was not asked to convert the code


def test_bad_registration_input_is_refused_on_its_field_and_kept(admin: Browser, github: GitHubFake) -> None:
    admin.open("/settings/github")
    response = admin.submit("/settings/github/register", {"name": "Dockyard", "organization": "../evil"})

    assert response.status_code == 422
    assert (
        'id="organization-error"' in response.text and "must be a GitHub organization login" in response.text
    )
    assert 'value="../evil"' in response.text


def test_refresh_reads_new_installations_from_github(admin: Browser, github: GitHubFake) -> None:
    register_github_app(admin, github)
    github.install("mona", account_type="User", repositories=["mona/blog"], selection="all")

    admin.open("/settings/github")
    refreshed = admin.submit("/settings/github/refresh")
    page = admin.open(refreshed.headers["location"])

    assert "Refreshed from GitHub: 2 installation(s)" in page.text
    assert "mona/blog" in page.text and "all repositories" in page.text


def test_api_clients_still_get_the_api_answers_from_githubs_redirects(
    admin: Browser, github: GitHubFake
) -> None:
    register_github_app(admin, github)

    answer = admin.get("/github/setup/installed", headers={"Accept": "application/json"})

    assert answer.status_code == 200
    assert answer.json()["installations"] == 1
