"""The Dockyard GitHub App: registering it (site administrator), its installations and delivery log, and
connecting apps to repositories through it; an app's pull request previews.

GitHub sends the browser back to `/github/setup/*` without a bearer token: the callback is authenticated
by the signed state the administrator's setup request issued, and the installation callback only makes
Dockyard read its installations again from GitHub. A browser (one that asks for HTML) is handed on to
the web UI's pages, which do the same for a signed-in user and say how it went.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import redis
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from api.deps import CurrentPrincipal, SessionDep, SettingsDep
from api.openapi import errors
from api.paging import PageDep, next_link
from api.routes.deliveries import delivery_public
from api.schemas import DeliveryPublic, LiveRelease
from api.services import github_app as github_service
from api.services import github_setup
from api.services.access import Permission, app_for, require_site_admin
from api.services.github_connect import connect_app, disconnect_app
from api.services.previews import PreviewSummary, preview_summaries
from api.services.webhooks import github_app_deliveries
from core.errors import NotFound
from core.models import App, GitHubApp, GitHubInstallation
from core.settings import Settings

router = APIRouter(tags=["github"])


class GitHubSetupCreate(BaseModel):
    name: str = Field(
        "Dockyard", description="The app's name on GitHub, unique across GitHub.", examples=["Dockyard ACME"]
    )
    organization: str | None = Field(None, description="Register it for this organization, not your user.")


class GitHubSetupStarted(BaseModel):
    setup_url: str = Field(description="Open this in a browser signed in to GitHub: it posts the manifest.")
    state: str = Field(description="Ties GitHub's redirect back to this request; valid for an hour.")
    form_url: str = Field(description="Where the manifest form is posted (what `setup_url` does for you).")
    manifest: dict[str, Any] = Field(description="The GitHub App manifest: permissions, events, URLs.")


class GitHubAppPublic(BaseModel):
    configured: bool = Field(description="False until a GitHub App is registered.")
    app_id: int | None = None
    slug: str | None = None
    name: str | None = None
    html_url: str | None = None
    install_url: str | None = Field(None, description="Where an account installs the app on GitHub.")
    webhook_url: str = Field(description="Where the app's webhooks arrive.")
    installations: int = 0


class InstallationPublic(BaseModel):
    installation_id: int
    account_login: str
    account_type: str
    repository_selection: str = Field(description="all, or selected repositories only.")
    suspended_at: datetime | None


class RepositoryPublic(BaseModel):
    full_name: str
    private: bool
    default_branch: str
    clone_url: str


class SetupInstalled(BaseModel):
    installations: int = Field(description="How many installations Dockyard now knows.")
    detail: str


class GitHubConnect(BaseModel):
    installation_id: int = Field(description="`GET /api/v1/github/installations` lists them.")
    repository: str = Field(examples=["octo/hello"], description="owner/repo, visible to the installation.")
    branch: str | None = Field(None, description="The branch whose pushes deploy; default: unchanged.")


class GitHubConnection(BaseModel):
    app: str
    installation_id: int | None = Field(description="null: the app uses its own webhook secret only.")
    repository: str
    repo_url: str
    branch: str


class PreviewPublic(BaseModel):
    name: str
    pr_number: int
    branch: str = Field(description="The pull request's head branch.")
    url: str
    live_deployment: LiveRelease | None
    created_at: datetime


@router.post("/api/v1/github/setup", response_model=GitHubSetupStarted, responses=errors(409))
def start_setup(
    body: GitHubSetupCreate, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> dict[str, Any]:
    """Start registering Dockyard's GitHub App: open `setup_url` in a browser signed in to GitHub."""
    require_site_admin(principal)
    return github_setup.start_registration(
        session, settings, github_setup.Registration(name=body.name, organization=body.organization)
    )


@router.get("/github/setup", response_class=HTMLResponse, responses=errors(401))
def manifest_page(
    settings: SettingsDep, state: str = Query(description="From POST /api/v1/github/setup.")
) -> str:
    """A page that posts the GitHub App manifest to GitHub (it takes a manifest only from a form)."""
    return github_setup.manifest_page(settings, state)


@router.get(
    github_service.MANIFEST_CALLBACK_PATH,
    response_class=RedirectResponse,
    status_code=303,
    responses=errors(401, 409, 502, 503),
)
def setup_callback(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    code: str = Query(description="GitHub's one-time code for the registered app."),
    state: str = Query(description="The state the setup request issued."),
) -> RedirectResponse:
    """GitHub's redirect after registering the app: store it (credentials encrypted), then install it."""
    if _from_browser(request):
        return RedirectResponse(
            f"{WEB_REGISTERED}?{urlencode({'code': code, 'state': state})}", status_code=303
        )
    github_setup.read_state(settings, state)
    github_app = github_service.complete_manifest(session, settings, code=code)
    session.commit()
    return RedirectResponse(github_service.install_url(github_app), status_code=303)


@router.get(github_service.INSTALLED_PATH, response_model=SetupInstalled, responses=errors(404, 502, 503))
def setup_installed(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    installation_id: int | None = Query(None, description="The installation GitHub just made or changed."),
) -> SetupInstalled | RedirectResponse:
    """GitHub's redirect after an installation: read the installations again from GitHub.

    Anyone can open this URL, so it asks GitHub at most once every few seconds (the `installation`
    webhook keeps the list current anyway); in between it answers from what is stored.
    """
    if _from_browser(request):
        query = f"?{urlencode({'installation_id': installation_id})}" if installation_id is not None else ""
        return RedirectResponse(f"{WEB_INSTALLED}{query}", status_code=303)
    github_app = github_service.get_github_app(session, settings)
    if _may_sync(settings):
        rows = github_service.sync_installations(session, settings, github_app)
    else:
        rows = list(session.scalars(select(GitHubInstallation)))
    if installation_id is not None and all(row.installation_id != installation_id for row in rows):
        raise NotFound(f"GitHub lists no installation {installation_id} of GitHub App {github_app.slug}")
    return SetupInstalled(
        installations=len(rows),
        detail="connect an app to a repository: PUT /api/v1/apps/{name}/github "
        '{"installation_id": …, "repository": "owner/repo"}',
    )


@router.get("/api/v1/github", response_model=GitHubAppPublic)
def get_github_app(
    session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> GitHubAppPublic:
    """Whether a GitHub App is registered, and which (never its secrets)."""
    require_site_admin(principal)
    webhook_url = f"{settings.public_url.rstrip('/')}{github_service.WEBHOOK_PATH}"
    github_app = session.scalar(select(GitHubApp))
    if github_app is None:
        return GitHubAppPublic(configured=False, webhook_url=webhook_url)
    return GitHubAppPublic(
        configured=True,
        app_id=github_app.app_id,
        slug=github_app.slug,
        name=github_app.name,
        html_url=github_app.html_url,
        install_url=github_service.install_url(github_app),
        webhook_url=webhook_url,
        installations=session.scalar(select(func.count()).select_from(GitHubInstallation)) or 0,
    )


@router.get(
    "/api/v1/github/installations", response_model=list[InstallationPublic], responses=errors(404, 502, 503)
)
def list_installations(
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    refresh: bool = Query(False, description="Read them from GitHub first, rather than as last stored."),
) -> list[GitHubInstallation]:
    """The accounts the GitHub App is installed on, as webhooks and the last sync left them."""
    require_site_admin(principal)
    github_app = github_service.get_github_app(session, settings)
    if refresh:
        return github_service.sync_installations(session, settings, github_app)
    return list(session.scalars(select(GitHubInstallation).order_by(GitHubInstallation.account_login)))


@router.get(
    "/api/v1/github/installations/{installation_id}/repositories",
    response_model=list[RepositoryPublic],
    responses=errors(502, 503),
)
def list_repositories(
    installation_id: int, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> list[github_service.RepoSummary]:
    """The repositories an installation lets the app see, as GitHub lists them now."""
    require_site_admin(principal)
    github_app = github_service.get_github_app(session, settings)
    return github_service.list_repositories(settings, github_app, installation_id=installation_id)


@router.get("/api/v1/github/deliveries", response_model=list[DeliveryPublic])
def list_deliveries(
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    principal: CurrentPrincipal,
) -> list[DeliveryPublic]:
    """The GitHub App's delivery log: deliveries about no app (installations, pings, unconnected
    repositories, bad signatures), newest first."""
    require_site_admin(principal)
    found = github_app_deliveries(session, page)
    response.headers.update(next_link(request, settings, found))
    return [delivery_public(delivery) for delivery in found.items]


@router.get("/api/v1/apps/{name}/github", response_model=GitHubConnection)
def get_connection(name: str, session: SessionDep, principal: CurrentPrincipal) -> GitHubConnection:
    """How the app is connected to GitHub: its repository, branch and installation (null: none)."""
    return _connection(app_for(session, principal, name, Permission.READ))


@router.put("/api/v1/apps/{name}/github", response_model=GitHubConnection)
def connect(
    name: str, body: GitHubConnect, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> GitHubConnection:
    """Connect the app to a repository through an installation of the GitHub App: private clones with
    short-lived tokens, statuses and deployments on GitHub, pull request previews."""
    app = app_for(session, principal, name, Permission.WRITE)
    connect_app(
        session,
        settings,
        app=app,
        installation_id=body.installation_id,
        repository=body.repository,
        branch=body.branch,
    )
    return _connection(app)


@router.delete("/api/v1/apps/{name}/github", response_model=GitHubConnection)
def disconnect(name: str, session: SessionDep, principal: CurrentPrincipal) -> GitHubConnection:
    """Stop using the GitHub App for the app; its own webhook secret keeps working."""
    return _connection(disconnect_app(session, app=app_for(session, principal, name, Permission.WRITE)))


@router.get("/api/v1/apps/{name}/previews", response_model=list[PreviewPublic])
def previews(
    name: str, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> list[PreviewPublic]:
    """The app's pull request previews, each served at its own host."""
    app = app_for(session, principal, name, Permission.READ)
    return [_preview(summary) for summary in preview_summaries(session, settings, app)]


def _connection(app: App) -> GitHubConnection:
    return GitHubConnection(
        app=app.name,
        installation_id=app.github_installation_id,
        repository=app.repo_full_name,
        repo_url=app.repo_url,
        branch=app.branch,
    )


def _preview(summary: PreviewSummary) -> PreviewPublic:
    preview, live = summary.app, summary.live
    return PreviewPublic(
        name=preview.name,
        pr_number=preview.pr_number or 0,
        branch=preview.branch,
        url=summary.url,
        live_deployment=LiveRelease(id=live.id, commit=live.commit) if live else None,
        created_at=preview.created_at,
    )


INSTALLED_SYNC_SECONDS = 5
WEB_REGISTERED = "/settings/github/registered"  # the web UI's pages for GitHub's redirects
WEB_INSTALLED = "/settings/github/installed"


def _from_browser(request: Request) -> bool:
    """Whether a person's browser followed GitHub's redirect (it asks for HTML; API clients do not)."""
    return "text/html" in request.headers.get("accept", "")


def _may_sync(settings: Settings) -> bool:
    """True for the first call in a short window; Redis being down does not block the sync."""
    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=1.0, socket_timeout=1.0)
    try:
        key = f"dockyard:{settings.instance}:github-installed-sync"
        return bool(client.set(key, "1", nx=True, ex=INSTALLED_SYNC_SECONDS))
    except redis.RedisError:
        return True
    finally:
        client.close()
