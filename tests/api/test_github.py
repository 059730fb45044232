"""The GitHub App service against a local stand-in for GitHub's REST API (tests/github_fake.py): what
Dockyard sends, what it stores, and what it says when GitHub refuses."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from api.services.github_app import (
    GitHubDenied,
    InstallationSummary,
    RepoSummary,
    app_manifest,
    authenticated_clone_url,
    complete_manifest,
    exchange_manifest_code,
    installation_token,
    list_installations,
    list_repositories,
    manifest_form_url,
    sync_installations,
)
from api.services.github_status import (
    create_deployment,
    create_deployment_status,
    deployment_log_url,
    post_commit_status,
)
from core import crypto, db
from core.errors import ConfigError, Conflict, NotFound, TemporaryError
from core.models import GitHubApp, GitHubInstallation
from core.settings import Settings, get_settings
from tests.github_fake import GitHubFake

SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
PUBLIC = "https://dockyard.example.com"


@pytest.fixture
def github() -> Iterator[GitHubFake]:
    with GitHubFake() as fake:
        yield fake


@pytest.fixture
def settings(github: GitHubFake, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, secret_key="test-secret", public_url=PUBLIC, github_api_url=github.url)


@pytest.fixture
def github_app(github: GitHubFake, settings: Settings) -> GitHubApp:
    """The app as registered through the manifest flow (not stored: no database needed)."""
    return exchange_manifest_code(settings, code=github.register(app_manifest(settings, name="Dockyard")))


def test_the_manifest_asks_for_what_dockyard_needs(settings: Settings) -> None:
    assert app_manifest(settings, name="Dockyard") == {
        "name": "Dockyard",
        "url": PUBLIC,
        "description": "Deploys this account's Python apps to Dockyard and reports how each deploy went.",
        "hook_attributes": {"url": f"{PUBLIC}/webhooks/github", "active": True},
        "redirect_url": f"{PUBLIC}/github/setup/callback",
        "setup_url": f"{PUBLIC}/github/setup/installed",
        "setup_on_update": True,
        "public": False,
        "default_permissions": {
            "contents": "read",
            "metadata": "read",
            "statuses": "write",
            "deployments": "write",
            "pull_requests": "read",
        },
        "default_events": ["push", "pull_request"],
    }
    assert manifest_form_url(settings) == "https://github.com/settings/apps/new"
    assert (
        manifest_form_url(settings, organization="octo-org", state="abc")
        == "https://github.com/organizations/octo-org/settings/apps/new?state=abc"
    )
    with pytest.raises(ConfigError, match="organization"):
        manifest_form_url(settings, organization="../evil")


def test_the_registered_app_is_stored_with_its_secrets_encrypted(database: str, github: GitHubFake) -> None:
    settings = get_settings().model_copy(update={"github_api_url": github.url, "public_url": PUBLIC})
    code = github.register(app_manifest(settings, name="Dockyard"))
    with db.session_scope() as session:
        stored = complete_manifest(session, settings, code=code)
        assert (stored.app_id, stored.slug, stored.client_id) == (
            github.app["id"] if github.app else None,
            "dockyard",
            github.app["client_id"] if github.app else None,
        )

    with db.session_scope() as session:
        row = session.execute(text("SELECT * FROM github_apps")).mappings().one()
        clear = github.app_secrets
        assert not any(value in str(dict(row)) for value in clear.values())
        assert "PRIVATE KEY" not in str(dict(row))
        stored = session.scalars(select(GitHubApp)).one()
        assert crypto.decrypt(settings.secret(), stored.private_key) == clear["pem"]
        assert crypto.decrypt(settings.secret(), stored.client_secret) == clear["client_secret"]
        assert crypto.decrypt(settings.secret(), stored.webhook_secret) == clear["webhook_secret"]

    (conversion,) = github.calls_to("POST", f"/app-manifests/{code}/conversions")
    assert conversion.auth is None and conversion.status == 201

    second = github.register(app_manifest(settings, name="Another"))
    with db.session_scope() as session, pytest.raises(Conflict, match="already has the GitHub App dockyard"):
        complete_manifest(session, settings, code=second)
    assert github.calls_to("POST", f"/app-manifests/{second}/conversions") == []  # the code is still good


def test_a_used_or_unknown_code_says_to_register_again(github: GitHubFake, settings: Settings) -> None:
    code = github.register(app_manifest(settings, name="Dockyard"))
    exchange_manifest_code(settings, code=code)
    with pytest.raises(NotFound, match="codes work once and expire after an hour") as error:
        exchange_manifest_code(settings, code=code)
    assert "https://github.com/settings/apps/new" in error.value.detail
    with pytest.raises(ConfigError, match="code"):
        exchange_manifest_code(settings, code="../../app/installations")


def test_installations_are_synced(
    database: str, github: GitHubFake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = get_settings().model_copy(update={"github_api_url": github.url})
    with db.session_scope() as session:
        github_app = complete_manifest(
            session, settings, code=github.register(app_manifest(settings, name="Dockyard"))
        )
        octo = github.install("octo", repositories=["octo/hello"])
        mona = github.install("mona", account_type="User", repositories=["mona/blog"], selection="all")
        assert list_installations(settings, github_app) == [
            InstallationSummary(octo, "octo", "Organization", "selected", None),
            InstallationSummary(mona, "mona", "User", "all", None),
        ]
        synced = sync_installations(session, settings, github_app)
        assert [(row.installation_id, row.account_login) for row in synced] == [
            (mona, "mona"),
            (octo, "octo"),
        ]

        del github.installations[mona]  # uninstalled on GitHub
        github.installations[octo].selection = "all"
        sync_installations(session, settings, github_app)

    with db.session_scope() as session:
        rows = session.scalars(select(GitHubInstallation)).all()
        assert [(row.installation_id, row.account_type, row.repository_selection) for row in rows] == [
            (octo, "Organization", "all")
        ]
    listings = github.calls_to("GET", "/app/installations")
    assert [call.auth for call in listings] == [f"jwt:{github_app.app_id}"] * 3


def test_repositories_are_listed_across_pages(
    github: GitHubFake, github_app: GitHubApp, settings: Settings
) -> None:
    names = [f"octo/app-{n:03}" for n in range(150)]
    installation = github.install("octo", repositories=names)

    repositories = list_repositories(settings, github_app, installation_id=installation)

    assert len(repositories) == 150
    assert repositories[0] == RepoSummary(
        full_name="octo/app-000",
        private=True,
        default_branch="main",
        clone_url="https://github.com/octo/app-000.git",
    )
    assert [repo.full_name for repo in repositories] == names
    pages = github.calls_to("GET", "/installation/repositories")
    assert [call.query for call in pages] == [{"per_page": ["100"]}, {"per_page": ["100"], "page": ["2"]}]
    assert {call.auth for call in pages} == {f"token:{installation}"}
    (token_request,) = github.calls_to("POST", f"/app/installations/{installation}/access_tokens")
    assert token_request.auth == f"jwt:{github_app.app_id}"


def test_a_clone_token_reads_one_repository(
    github: GitHubFake, github_app: GitHubApp, settings: Settings
) -> None:
    installation = github.install("octo", repositories=["octo/hello", "octo/other"])

    token = installation_token(settings, github_app, installation_id=installation, repository="hello")

    assert token.startswith("ghs_")
    (request,) = github.calls_to("POST", f"/app/installations/{installation}/access_tokens")
    assert request.body == {"repositories": ["hello"], "permissions": {"contents": "read"}}
    assert request.auth == f"jwt:{github_app.app_id}"
    assert (
        authenticated_clone_url("https://github.com/octo/hello.git", token, github_url=settings.github_url)
        == f"https://x-access-token:{token}@github.com/octo/hello.git"
    )
    for elsewhere in (
        "https://gitlab.com/octo/hello.git",
        "http://github.com/octo/hello.git",
        "file:///x/y.git",
    ):
        with pytest.raises(ConfigError, match="repo_url") as error:
            authenticated_clone_url(elsewhere, token, github_url=settings.github_url)
        assert token not in error.value.detail


def test_a_deploy_is_reported_on_the_commit_and_as_a_deployment(
    github: GitHubFake, github_app: GitHubApp, settings: Settings
) -> None:
    installation = github.install("octo", repositories=["octo/hello"])
    log_url = deployment_log_url(settings, app_name="hello", deployment_id=12)
    where = {"installation_id": installation, "repo_full_name": "octo/hello"}

    post_commit_status(
        settings,
        github_app,
        **where,
        sha=SHA,
        app_name="hello",
        state="failure",
        log_url=log_url,
        description="build failed: " + "x" * 200,
    )
    deployment = create_deployment(settings, github_app, **where, sha=SHA, app_name="hello")
    preview = create_deployment(settings, github_app, **where, sha=SHA, app_name="hello-pr-7", preview=True)
    for state in ("queued", "in_progress", "success"):
        create_deployment_status(
            settings,
            github_app,
            **where,
            deployment_id=deployment,
            state=state,
            log_url=log_url,
            environment_url="http://hello.localhost:8080/",
        )

    (status,) = github.calls_to("POST", f"/repos/octo/hello/statuses/{SHA}")
    assert status.body == {
        "state": "failure",
        "target_url": f"{PUBLIC}/api/v1/apps/hello/deployments/12/logs",
        "description": "build failed: " + "x" * 125 + "…",
        "context": "dockyard/hello",
    }
    assert len(status.body["description"]) == 140
    assert status.auth == f"token:{installation}"
    opened = github.calls_to("POST", "/repos/octo/hello/deployments")
    assert [call.body for call in opened] == [
        {
            "ref": SHA,
            "auto_merge": False,
            "required_contexts": [],
            "environment": environment,
            "description": f"Dockyard deploys {environment}",
            "transient_environment": environment != "hello",
            "production_environment": environment == "hello",
        }
        for environment in ("hello", "hello-pr-7")
    ]
    assert (github.deployments[deployment]["environment"], github.deployments[preview]["environment"]) == (
        "hello",
        "hello-pr-7",
    )
    reported = github.calls_to("POST", f"/repos/octo/hello/deployments/{deployment}/statuses")
    assert [call.body for call in reported] == [
        {"state": state, "log_url": log_url, "environment_url": "http://hello.localhost:8080/"}
        for state in ("queued", "in_progress", "success")
    ]
    assert all(call.status == 201 for call in github.calls)


def test_a_revoked_key_names_what_to_check(
    github: GitHubFake, github_app: GitHubApp, settings: Settings
) -> None:
    installation = github.install("octo", repositories=["octo/hello"])
    github.revoke_private_key()

    with pytest.raises(GitHubDenied, match="private key was not revoked") as error:
        installation_token(settings, github_app, installation_id=installation)

    assert "GitHub App dockyard" in error.value.detail
    assert github.app_secrets["pem"] not in error.value.detail
    assert github.calls[-1].status == 401


def test_a_missing_permission_or_repository_is_named(
    github: GitHubFake, github_app: GitHubApp, settings: Settings
) -> None:
    installation = github.install(
        "octo", repositories=["octo/hello"], permissions={"metadata": "read", "statuses": "read"}
    )
    report = {"sha": SHA, "app_name": "hello", "state": "pending", "log_url": "x", "description": "building"}

    with pytest.raises(GitHubDenied, match="grants statuses: write") as denied:
        post_commit_status(
            settings, github_app, installation_id=installation, repo_full_name="octo/hello", **report
        )
    assert "Resource not accessible by integration" in denied.value.detail
    with pytest.raises(NotFound, match="GitHub shows no octo/secret to installation"):
        post_commit_status(
            settings, github_app, installation_id=installation, repo_full_name="octo/secret", **report
        )
    with pytest.raises(NotFound, match="no installation 999 of GitHub App dockyard"):
        list_repositories(settings, github_app, installation_id=999)


def test_an_unreachable_github_is_temporary(github_app: GitHubApp, settings: Settings) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    unreachable = settings.model_copy(update={"github_api_url": f"http://127.0.0.1:{port}"})

    with pytest.raises(TemporaryError, match="GitHub did not answer") as error:
        list_installations(unreachable, github_app)
    assert "ConnectError" in error.value.detail
