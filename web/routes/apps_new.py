"""New app: pick a repository (a GitHub App installation's, or any git URL), a branch, a name and a team;
see what detection found on that branch before anything is built, edit start commands, then create the
app and deploy it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from api.deps import SessionDep, SettingsDep
from api.services import apps as app_service
from api.services import deployments, github_app, github_connect, plan_preview, teams
from api.services.access import ROLE_PERMISSIONS, Permission, check_scope
from api.services.plan_preview import PlanPreview
from api.tasks import enqueue_deployments
from core.errors import ConfigError, Conflict, DockyardError, Forbidden, NotFound
from core.models import App, Deployment, GitHubApp, GitHubInstallation, Team
from core.settings import Settings
from web.session import Viewer, ViewerDep, csrf_protect
from web.templating import form_error, redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

GITHUB, URL = "github", "url"
SHOWN_REPOSITORIES = 50
COMMAND_FIELD = "command."


@dataclass(frozen=True)
class NewApp:
    """What the form carries from step to step."""

    source: str = URL
    repo_url: str = ""
    installation_id: int | None = None
    repository: str = ""  # owner/repo, for a GitHub App installation's repository
    branch: str = "main"
    name: str = ""
    team: str = ""

    @property
    def from_github(self) -> bool:
        return self.source == GITHUB

    @property
    def shown_source(self) -> str:
        return self.repository if self.from_github else self.repo_url


def manageable_teams(session: Session, viewer: Viewer) -> list[Team]:
    """The teams the viewer may create apps in; Forbidden (a 403 page) when there is none."""
    check_scope(viewer.principal, Permission.MANAGE)
    found = [
        team
        for team, role in teams.teams_of(session, viewer.principal)
        if Permission.MANAGE in ROLE_PERMISSIONS[role]
    ]
    if not found:
        raise Forbidden("creating apps needs the owner or admin role in a team: ask a team owner")
    return found


def _form(data: FormData) -> NewApp:
    def text(key: str, default: str = "") -> str:
        value = data.get(key)
        return value.strip() if isinstance(value, str) else default

    installation = text("installation_id")
    return NewApp(
        source=GITHUB if text("source") == GITHUB else URL,
        repo_url=text("repo_url"),
        installation_id=int(installation) if installation.isdigit() else None,
        repository=text("repository"),
        branch=text("branch") or "main",
        name=text("name"),
        team=text("team"),
    )


def _step_one(
    request: Request,
    session: Session,
    settings: Settings,
    viewer: Viewer,
    form: NewApp,
    *,
    query: str = "",
    status_code: int = 200,
    **context: Any,
) -> Response:
    """The source and details form; with a GitHub App, its installations' repositories to pick from."""
    team_choices = manageable_teams(session, viewer)
    registered = session.scalar(select(GitHubApp))
    installations = list(
        session.scalars(select(GitHubInstallation).order_by(GitHubInstallation.account_login))
    )
    picking = form.from_github and not form.repository
    session.commit()  # GitHub may take a while to answer: do not hold the database meanwhile
    listed: list[github_connect.InstallationRepositories] = []
    if registered is not None and picking:
        listed = github_connect.installation_repositories(settings, registered, installations)
    matches = github_connect.matching_repositories(listed, query)
    return render(
        request,
        "apps_new.html",
        viewer,
        status_code=status_code,
        form=form,
        teams=team_choices,
        github_registered=registered is not None,
        installations=installations,
        picking=picking,
        problems=[entry for entry in listed if entry.problem],
        matches=matches[:SHOWN_REPOSITORIES],
        more=max(0, len(matches) - SHOWN_REPOSITORIES),
        query=query,
        nav="apps",
        **context,
    )


@router.get("/apps/new")
def new_app_page(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    source: str | None = None,
    q: str = "",
    installation: int | None = None,
    repo: str = "",
    default_branch: str = "",
    repo_url: str = "",
    branch: str = "",
    name: str = "",
    team: str = "",
) -> Response:
    """Step 1: where the code comes from, its branch, the app's name and team."""
    if source not in (GITHUB, URL):
        has_installations = session.scalar(select(GitHubInstallation.id).limit(1)) is not None
        source = GITHUB if has_installations else URL
    form = NewApp(
        source=source,
        repo_url=repo_url,
        installation_id=installation,
        repository=repo if installation is not None else "",
        branch=branch or default_branch or "main",
        name=name or (plan_preview.suggest_app_name(repo or repo_url) if (repo or repo_url) else ""),
        team=team,
    )
    return _step_one(request, session, settings, viewer, form, query=q)


@router.post("/apps/new/plan")
async def detect_plan(
    request: Request, session: SessionDep, settings: SettingsDep, viewer: ViewerDep
) -> Response:
    """Step 2: clone the branch and show what the build will do, before anything is created."""
    form = _form(await request.form())
    try:
        preview = _detect(session, settings, viewer, form)
    except DockyardError as error:
        session.rollback()
        return _step_one(
            request, session, settings, viewer, form, status_code=error.status, **_problem(error)
        )
    return _plan_page(request, session, viewer, form, preview)


def _detect(session: Session, settings: Settings, viewer: Viewer, form: NewApp) -> PlanPreview:
    _check_new_app(session, viewer, form)
    github = session.scalar(select(GitHubApp)) if form.from_github else None
    session.commit()  # cloning takes seconds: do not hold the database meanwhile
    if form.from_github:
        repo = _github_repository(settings, github, form)
        url = github_app.clone_url(
            settings, github, repo_url=repo.clone_url, installation_id=form.installation_id
        )
    else:
        app_service.repo_full_name(form.repo_url)  # refuses what is not a git URL, on the field
        url = form.repo_url
    try:
        return plan_preview.detect_branch(settings, clone_url=url, branch=form.branch)
    except ConfigError as error:
        if error.where in ("branch", "repo_url"):
            raise
        raise ConfigError(
            f"branch {form.branch} has a setting Dockyard cannot use: {error.detail}"
        ) from error
    except DockyardError as error:
        raise ConfigError(
            f"Dockyard found no app it can run on branch {form.branch}: {error.detail}"
        ) from error


def _check_new_app(session: Session, viewer: Viewer, form: NewApp) -> Team:
    """The checks the API makes before creating an app, so that detection is not run for nothing."""
    if not form.name:
        raise ConfigError("give the app a name", where="name")
    if not app_service.APP_NAME.match(form.name):
        raise ConfigError(
            "must be a DNS label: 1-30 lowercase letters, digits and dashes, starting with a letter",
            where="name",
        )
    if session.scalar(select(App.id).where(App.name == form.name)) is not None:
        raise Conflict(f"an app named {form.name!r} already exists; choose another name")
    if form.from_github and (form.installation_id is None or not form.repository):
        raise ConfigError("pick a repository from the list", where="repository")
    if not form.from_github and not form.repo_url:
        raise ConfigError("give the repository's git URL", where="repo_url")
    manageable_teams(session, viewer)
    team = teams.team_for_new_app(session, viewer.principal, form.team or None)
    if not form.branch or form.branch.startswith(("refs/", "-")):
        raise ConfigError("must be a branch name such as main", where="branch")
    return team


def _github_repository(settings: Settings, github: GitHubApp | None, form: NewApp) -> github_app.RepoSummary:
    if github is None or form.installation_id is None:
        raise ConfigError("Dockyard has no GitHub App: use a git URL instead", where="repository")
    return github_connect.visible_repository(
        settings, github, installation_id=form.installation_id, repository=form.repository
    )


def _problem(error: DockyardError) -> dict[str, Any]:
    context = form_error(error)
    if isinstance(error, Conflict) and "already exists" in error.detail:
        context["error_field"] = "name"
    elif isinstance(error, NotFound) and "no team" in error.detail:
        context["error_field"] = "team"
    return context


def _plan_page(
    request: Request,
    session: Session,
    viewer: Viewer,
    form: NewApp,
    preview: PlanPreview,
    *,
    commands: dict[str, str] | None = None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    return render(
        request,
        "apps_new_plan.html",
        viewer,
        status_code=status_code,
        form=form,
        preview=preview,
        commands=commands or {p.name: p.command or "" for p in preview.processes},
        nav="apps",
        **context,
    )


@router.post("/apps/new/create")
async def create_app(
    request: Request, session: SessionDep, settings: SettingsDep, viewer: ViewerDep
) -> Response:
    """Step 3: create the app with the commands as edited, connect it to GitHub, and deploy it."""
    manageable_teams(session, viewer)
    data = await request.form()
    form = _form(data)
    plan_json = data.get("plan")
    preview = PlanPreview.from_json(plan_json if isinstance(plan_json, str) else "")
    commands = {
        key.removeprefix(COMMAND_FIELD): value
        for key, value in data.items()
        if key.startswith(COMMAND_FIELD) and isinstance(value, str)
    }
    try:
        app, secret, deployment = _create(session, settings, viewer, form, preview, commands)
    except DockyardError as error:
        session.rollback()
        return _plan_page(
            request,
            session,
            viewer,
            form,
            preview,
            commands=commands,
            status_code=error.status,
            **_problem(error),
        )
    session.commit()
    enqueue_deployments([deployment.id])
    watch = f"/apps/{app.name}/deployments/{deployment.id}"
    if form.from_github:
        return redirect(watch, notice=f"Created {app.name}: building {form.repository} at {form.branch}.")
    return render(
        request,
        "apps_new_created.html",
        viewer,
        app=app,
        secret=secret,
        webhook_url=f"{settings.public_url.rstrip('/')}{github_app.WEBHOOK_PATH}",
        watch=watch,
        nav="apps",
    )


def _create(
    session: Session,
    settings: Settings,
    viewer: Viewer,
    form: NewApp,
    preview: PlanPreview,
    commands: dict[str, str],
) -> tuple[App, str, Deployment]:
    team = _check_new_app(session, viewer, form)
    config = plan_preview.command_overrides(preview, commands)
    repo_url = form.repo_url
    if form.from_github:
        repo = _github_repository(settings, session.scalar(select(GitHubApp)), form)
        repo_url = repo.clone_url
    app, secret = app_service.create_app(
        session,
        settings=settings,
        team=team,
        name=form.name,
        repo_url=repo_url,
        branch=form.branch,
        config=config,
    )
    if form.from_github and form.installation_id is not None:
        github_connect.connect_app(
            session, settings, app=app, installation_id=form.installation_id, repository=form.repository
        )
    # As POST /api/v1/apps/{name}/deployments does: queued now, enqueued once committed.
    deployment = deployments.request_deployment(session, app=app, trigger=deployments.Trigger.WEB)
    return app, secret, deployment
