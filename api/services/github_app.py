"""The Dockyard GitHub App: registered from a manifest, listing its installations and their repositories,
and minting the short-lived installation tokens that builds clone with."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from githubkit import AppAuthStrategy, AppInstallationAuthStrategy, GitHub
from githubkit.cache import MemCacheStrategy
from githubkit.exception import AuthCredentialError, RateLimitExceeded, RequestError, RequestFailed
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import crypto
from core.errors import ConfigError, Conflict, DockyardError, NotFound, TemporaryError
from core.models import GitHubApp, GitHubInstallation
from core.settings import Settings

WEBHOOK_PATH = "/webhooks/github"
MANIFEST_CALLBACK_PATH = "/github/setup/callback"  # GitHub redirects here with ?code= after registration
INSTALLED_PATH = "/github/setup/installed"  # and here with ?installation_id= after an installation
PERMISSIONS = {
    "contents": "read",
    "metadata": "read",
    "statuses": "write",
    "deployments": "write",
    "pull_requests": "read",
}
EVENTS = ["push", "pull_request"]
TIMEOUT = 15.0
GITHUB_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
MANIFEST_CODE = re.compile(r"^[A-Za-z0-9_-]{1,100}$")


class GitHubDenied(DockyardError):
    """GitHub refused Dockyard's own credentials (not the caller's): the app, its key or its permissions."""

    status = 502
    title = "GitHub denied access"


@dataclass(frozen=True)
class InstallationSummary:
    installation_id: int
    account_login: str
    account_type: str
    repository_selection: str
    suspended_at: datetime | None


@dataclass(frozen=True)
class RepoSummary:
    full_name: str
    private: bool
    default_branch: str
    clone_url: str


def app_manifest(settings: Settings, *, name: str) -> dict[str, Any]:
    """The manifest posted to GitHub to register Dockyard's GitHub App in one click."""
    base = settings.public_url.rstrip("/")
    return {
        "name": name,
        "url": settings.public_url,
        "description": "Deploys this account's Python apps to Dockyard and reports how each deploy went.",
        "hook_attributes": {"url": f"{base}{WEBHOOK_PATH}", "active": True},
        "redirect_url": f"{base}{MANIFEST_CALLBACK_PATH}",
        "setup_url": f"{base}{INSTALLED_PATH}",
        "setup_on_update": True,
        "public": False,
        "default_permissions": dict(PERMISSIONS),
        "default_events": list(EVENTS),
    }


def manifest_form_url(
    settings: Settings, *, organization: str | None = None, state: str | None = None
) -> str:
    """Where the manifest form is posted: the user's or an organization's new-app page on GitHub."""
    base = settings.github_url.rstrip("/")
    if organization is None:
        url = f"{base}/settings/apps/new"
    elif GITHUB_LOGIN.match(organization):
        url = f"{base}/organizations/{organization}/settings/apps/new"
    else:
        raise ConfigError("must be a GitHub organization login", where="organization")
    return f"{url}?{urlencode({'state': state})}" if state else url


def exchange_manifest_code(settings: Settings, *, code: str) -> GitHubApp:
    """The app GitHub registered for a manifest `code`, credentials encrypted, not yet added to a session."""
    if not MANIFEST_CODE.match(code):
        raise ConfigError("is not a code GitHub hands out after registering an app", where="code")
    expired = (
        "GitHub knows no app registration for this code: codes work once and expire after an hour; "
        f"register the app again from {manifest_form_url(settings)}"
    )
    with (
        github_client(settings, None) as github,
        github_errors(settings, doing="register the app", not_found=expired),
    ):
        created = github.rest.apps.create_from_manifest(code).parsed_data
    secret = settings.secret()
    return GitHubApp(
        app_id=created.id,
        slug=created.slug or created.name,
        name=created.name,
        html_url=created.html_url,
        client_id=created.client_id,
        client_secret=crypto.encrypt(secret, created.client_secret),
        private_key=crypto.encrypt(secret, created.pem),
        webhook_secret=crypto.encrypt(secret, created.webhook_secret or ""),
    )


def complete_manifest(session: Session, settings: Settings, *, code: str) -> GitHubApp:
    """Register the app GitHub created from the manifest; Dockyard has one GitHub App."""
    existing = session.scalar(select(GitHubApp))
    if existing is not None:  # checked before the exchange, which uses the code up
        raise Conflict(f"Dockyard already has the GitHub App {existing.slug} ({existing.html_url})")
    github_app = exchange_manifest_code(settings, code=code)
    session.add(github_app)
    session.flush()
    return github_app


def install_url(github_app: GitHubApp) -> str:
    """Where an account installs the app on GitHub."""
    return f"{github_app.html_url.rstrip('/')}/installations/new"


def get_github_app(session: Session, settings: Settings) -> GitHubApp:
    """The registered GitHub App, or NotFound saying how to register it."""
    github_app = session.scalar(select(GitHubApp))
    if github_app is None:
        raise NotFound(f"Dockyard has no GitHub App yet: register one from {manifest_form_url(settings)}")
    return github_app


def list_installations(settings: Settings, github_app: GitHubApp) -> list[InstallationSummary]:
    """Every account the app is installed on, as GitHub lists them now."""
    with (
        github_client(settings, app_auth(settings, github_app)) as github,
        github_errors(settings, doing="list the app's installations", github_app=github_app),
    ):
        installations = list(github.rest.paginate(github.rest.apps.list_installations, per_page=100))
    summaries = []
    for installation in installations:
        account = installation.account
        # A user or an organization has a login; an enterprise, a slug.
        login = str(getattr(account, "login", None) or getattr(account, "slug", None) or "")
        summaries.append(
            InstallationSummary(
                installation_id=installation.id,
                account_login=login,
                account_type=str(getattr(account, "type", None) or installation.target_type),
                repository_selection=installation.repository_selection,
                suspended_at=installation.suspended_at,
            )
        )
    return summaries


def sync_installations(
    session: Session, settings: Settings, github_app: GitHubApp
) -> list[GitHubInstallation]:
    """Make the stored installations match GitHub's list (added, updated, uninstalled ones removed)."""
    listed = {summary.installation_id: summary for summary in list_installations(settings, github_app)}
    stored = {row.installation_id: row for row in session.scalars(select(GitHubInstallation))}
    for installation_id, row in stored.items():
        if installation_id not in listed:
            session.delete(row)
    for installation_id, summary in listed.items():
        row = stored.get(installation_id) or GitHubInstallation(installation_id=installation_id)
        row.account_login = summary.account_login
        row.account_type = summary.account_type
        row.repository_selection = summary.repository_selection
        row.suspended_at = summary.suspended_at
        session.add(row)
    session.flush()
    return sorted((row for row in session.scalars(select(GitHubInstallation))), key=lambda r: r.account_login)


def list_repositories(
    settings: Settings, github_app: GitHubApp, *, installation_id: int
) -> list[RepoSummary]:
    """The repositories an installation grants the app, every page of them."""
    with (
        github_client(settings, app_auth(settings, github_app).as_installation(installation_id)) as github,
        github_errors(
            settings,
            doing=f"list the repositories of installation {installation_id}",
            github_app=github_app,
            installation_id=installation_id,
        ),
    ):
        repositories = list(
            github.rest.paginate(
                github.rest.apps.list_repos_accessible_to_installation,
                map_func=lambda response: response.parsed_data.repositories,
                per_page=100,
            )
        )
    return [
        RepoSummary(
            full_name=repo.full_name,
            private=repo.private,
            default_branch=repo.default_branch,
            clone_url=repo.clone_url,
        )
        for repo in repositories
    ]


def installation_token(
    settings: Settings, github_app: GitHubApp, *, installation_id: int, repository: str | None = None
) -> str:
    """A fresh token (valid for an hour) to act as the installation; `repository` ("name", no owner)
    narrows it to reading that one repository's contents, all a clone needs. Never store or log it."""
    scope: dict[str, Any] = {}
    if repository is not None:
        scope = {"repositories": [repository], "permissions": {"contents": "read"}}
    with (
        github_client(settings, app_auth(settings, github_app)) as github,
        github_errors(
            settings,
            doing=f"get a token for installation {installation_id}",
            github_app=github_app,
            installation_id=installation_id,
        ),
    ):
        created = github.rest.apps.create_installation_access_token(installation_id, **scope)
        return created.parsed_data.token


def authenticated_clone_url(repo_url: str, token: str, *, github_url: str) -> str:
    """`repo_url` with the installation token as its credentials; refused for any host but GitHub's,
    which must never receive the token."""
    parts = urlsplit(repo_url.strip())
    github_host = urlsplit(github_url).hostname
    if parts.scheme != "https" or not parts.hostname or parts.hostname != github_host:
        raise ConfigError(
            f"must be an https://{github_host}/owner/repo.git URL to clone with the GitHub App",
            where="repo_url",
        )
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    netloc = f"x-access-token:{quote(token, safe='')}@{host}"
    return urlunsplit(("https", netloc, parts.path, "", ""))


def clone_url(
    settings: Settings, github_app: GitHubApp | None, *, repo_url: str, installation_id: int | None
) -> str:
    """The URL a build clones from: `repo_url` with a fresh installation token (reading that repository
    only) when the app is connected through the GitHub App and the URL is GitHub's; else `repo_url` as it
    is (public, file:// or a mirror elsewhere, which must never receive the token). Never store or log it."""
    parts = urlsplit(repo_url.strip())
    on_github = parts.scheme == "https" and parts.hostname == urlsplit(settings.github_url).hostname
    if github_app is None or installation_id is None or not on_github:
        return repo_url
    name = parts.path.rstrip("/").removesuffix(".git").rsplit("/", 1)[-1]
    token = installation_token(settings, github_app, installation_id=installation_id, repository=name)
    return authenticated_clone_url(repo_url, token, github_url=settings.github_url)


def app_auth(settings: Settings, github_app: GitHubApp) -> AppAuthStrategy:
    """Authentication as the app itself (a JWT signed with its private key)."""
    secret = settings.secret()
    return AppAuthStrategy(
        app_id=github_app.app_id,
        private_key=crypto.decrypt(secret, github_app.private_key),
        client_id=github_app.client_id,
        client_secret=crypto.decrypt(secret, github_app.client_secret),
    )


def github_client(
    settings: Settings, auth: AppAuthStrategy | AppInstallationAuthStrategy | None
) -> GitHub[Any]:
    """A client of the configured GitHub API; use it in a `with` block."""
    return GitHub(
        auth,
        base_url=settings.github_api_url,
        user_agent="Dockyard",
        timeout=TIMEOUT,
        http_cache=False,
        auto_retry=False,  # callers retry TemporaryError on their own schedule
        cache_strategy=MemCacheStrategy(),  # JWTs and tokens live as long as this client, no longer
    )


@contextmanager
def github_errors(
    settings: Settings,
    *,
    doing: str,
    github_app: GitHubApp | None = None,
    installation_id: int | None = None,
    not_found: str | None = None,
    permission: str | None = None,
) -> Iterator[None]:
    """GitHub's failures as Dockyard's errors, each saying what to check; never with credentials."""
    try:
        try:
            yield
        except RequestError as error:
            # A failure while minting the installation token surfaces wrapped in a RequestError.
            if isinstance(error.exc, RequestFailed):
                raise error.exc from error
            raise
    except RateLimitExceeded as error:
        raise TemporaryError(
            f"GitHub's rate limit stopped Dockyard from trying to {doing}; retry in {error.retry_after}"
        ) from error
    except RequestFailed as error:
        raise _failure(error, settings, doing, github_app, installation_id, not_found, permission) from error
    except RequestError as error:  # timeouts and connection errors: GitHub was not reached
        raise TemporaryError(
            f"GitHub did not answer at {settings.github_api_url} ({type(error.exc).__name__}) when Dockyard "
            f"tried to {doing}; retry later, or check DOCKYARD_GITHUB_API_URL and the network"
        ) from error
    except AuthCredentialError as error:
        raise ConfigError(f"the GitHub App's credentials are incomplete: {error}") from error


def _failure(
    error: RequestFailed,
    settings: Settings,
    doing: str,
    github_app: GitHubApp | None,
    installation_id: int | None,
    not_found: str | None,
    permission: str | None,
) -> DockyardError:
    status = error.response.status_code
    said = _github_message(error)
    app = f"GitHub App {github_app.slug}" if github_app else "the GitHub App"
    installation = f"installation {installation_id}" if installation_id is not None else "the installation"
    if status == 401:
        return GitHubDenied(
            f"GitHub refused the credentials of {app} when Dockyard tried to {doing}{said}: check that the "
            "app still exists on GitHub and that its private key was not revoked"
        )
    if status == 403:
        needs = f" and grants {permission}" if permission else ""
        return GitHubDenied(
            f"GitHub denied {app} when Dockyard tried to {doing}{said}: check that the app is installed on "
            f"the repository's account{needs} (accept any permission change on the installation's page)"
        )
    if status == 404 and error.request.url.path.endswith("/access_tokens"):
        return NotFound(
            f"GitHub has no {installation} of {app}{said}: it was uninstalled or belongs to another app; "
            "sync the installations and pick one of them"
        )
    if status == 404:
        return NotFound(f"{not_found or f'GitHub found nothing when Dockyard tried to {doing}'}{said}")
    if status == 422:
        return ConfigError(f"GitHub rejected the request to {doing}{said}")
    if status >= 500:
        return TemporaryError(f"GitHub failed ({status}) when Dockyard tried to {doing}; retry later")
    return DockyardError(f"GitHub answered {status} when Dockyard tried to {doing}{said}")


def _github_message(error: RequestFailed) -> str:
    try:
        message = error.response.raw_response.json().get("message")
    except (ValueError, AttributeError):
        return ""
    return f' (GitHub said "{str(message)[:200]}")' if message else ""
