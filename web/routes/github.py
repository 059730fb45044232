"""Connect GitHub (site administrator): register Dockyard's GitHub App from a manifest, install it, see
its installations and their repositories; and the first-run guide that leads to the first app.

GitHub sends the browser back to `/github/setup/*` (the API's routes), which hand browsers on to the
`/settings/github/registered` and `/settings/github/installed` pages here.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.deps import SessionDep, SettingsDep
from api.services import github_app, github_connect, github_setup
from api.services.access import require_site_admin
from core.errors import DockyardError, NotFound
from core.models import App, GitHubApp, GitHubInstallation
from core.settings import Settings
from web.session import Viewer, ViewerDep, csrf_protect
from web.templating import form_error, redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

PAGE = "/settings/github"


def _page(
    request: Request,
    session: Session,
    settings: Settings,
    viewer: Viewer,
    *,
    welcome: bool = False,
    status_code: int = 200,
    **context: Any,
) -> Response:
    registered = session.scalar(select(GitHubApp))
    installations = list(
        session.scalars(select(GitHubInstallation).order_by(GitHubInstallation.account_login))
    )
    has_apps = bool(session.scalar(select(func.count()).select_from(App)))
    session.commit()  # GitHub may take a while to answer: do not hold the database meanwhile
    listed = (
        github_connect.installation_repositories(settings, registered, installations) if registered else []
    )
    steps = [
        ("Register the GitHub App", registered is not None),
        ("Install it on your account or organization", bool(installations)),
        ("Create your first app", has_apps),
    ]
    context.setdefault("name", "Dockyard")
    return render(
        request,
        "github.html",
        viewer,
        status_code=status_code,
        registered=registered,
        install_url=github_app.install_url(registered) if registered else None,
        webhook_url=f"{settings.public_url.rstrip('/')}{github_app.WEBHOOK_PATH}",
        public_url=settings.public_url,
        listed=listed,
        steps=steps,
        show_steps=welcome or not all(done for _, done in steps),
        nav="github",
        **context,
    )


@router.get(PAGE)
def github_page(
    request: Request, session: SessionDep, settings: SettingsDep, viewer: ViewerDep, welcome: bool = False
) -> Response:
    """Whether the GitHub App is registered; its installations and their repositories."""
    require_site_admin(viewer.principal)
    return _page(request, session, settings, viewer, welcome=welcome)


@router.post(f"{PAGE}/register")
def register(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    name: str = Form(""),
    organization: str = Form(""),
) -> Response:
    """Start the manifest flow: the browser goes to a page that posts the manifest to GitHub."""
    require_site_admin(viewer.principal)
    try:
        started = github_setup.start_registration(
            session, settings, github_setup.Registration(name=name, organization=organization.strip() or None)
        )
    except DockyardError as error:
        return _page(
            request,
            session,
            settings,
            viewer,
            status_code=error.status,
            name=name,
            organization=organization,
            **form_error(error),
        )
    return redirect(f"{github_setup.SETUP_PATH}?{urlencode({'state': started['state']})}")


@router.get(f"{PAGE}/registered")
def registered(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    code: str = "",
    state: str = "",
) -> Response:
    """GitHub registered the app (its redirect, handed on by `/github/setup/callback`): store it."""
    require_site_admin(viewer.principal)
    try:
        wanted = github_setup.read_state(settings, state)
        created = github_app.complete_manifest(session, settings, code=code)
    except DockyardError as error:
        session.rollback()
        detail = error.detail.replace("with POST /api/v1/github/setup", "below")
        return _page(request, session, settings, viewer, welcome=True, status_code=error.status, error=detail)
    session.commit()
    return redirect(
        f"{PAGE}?welcome=1",
        notice=f"GitHub App {created.name or wanted.name} registered: now install it on the account or "
        "organization that owns your repositories.",
    )


@router.get(f"{PAGE}/installed")
def installed(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    installation_id: int | None = None,
) -> Response:
    """GitHub installed the app (its redirect, handed on by `/github/setup/installed`): read the
    installations again; the administrator goes back to this page, anyone else on to a new app."""
    rows = github_app.sync_installations(session, settings, github_app.get_github_app(session, settings))
    found = next((row for row in rows if row.installation_id == installation_id), None)
    if installation_id is not None and found is None:
        raise NotFound(f"GitHub lists no installation {installation_id} of the GitHub App")
    where = f" on {found.account_login}" if found else ""
    target = f"{PAGE}?welcome=1" if viewer.principal.is_site_admin else "/apps/new?source=github"
    return redirect(
        target, notice=f"GitHub App installed{where}: Dockyard now sees {len(rows)} installation(s)."
    )


@router.post(f"{PAGE}/refresh")
def refresh(request: Request, session: SessionDep, settings: SettingsDep, viewer: ViewerDep) -> Response:
    """Read the installations again from GitHub (webhooks normally keep them current)."""
    require_site_admin(viewer.principal)
    try:
        rows = github_app.sync_installations(session, settings, github_app.get_github_app(session, settings))
    except DockyardError as error:
        session.rollback()
        return _page(request, session, settings, viewer, status_code=error.status, error=error.detail)
    return redirect(PAGE, notice=f"Refreshed from GitHub: {len(rows)} installation(s).")
