"""An app's deployments: the list (newest first, paged) and one deployment with its live build log."""

from __future__ import annotations

from typing import Any

import redis
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.deps import SessionDep, SettingsDep
from api.services import operations
from api.services.apps import live_deployment
from api.services.deployments import get_deployment, is_running, list_deployments, log_lines
from api.services.paging import PageRequest
from core.errors import Conflict, TemporaryError
from core.models import Deployment, DeploymentStatus
from core.settings import Settings
from web.pages import AppPage, app_page
from web.session import ViewerDep, csrf_protect
from web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

PAGE_SIZE = 20
PHASE_PREFIXES = ("-----> ", "=====> ", "==> ")
ERROR_PREFIXES = (" !", "!!", "ERROR", "error:")


def _table_context(session: Session, page: AppPage, before: int | None) -> dict[str, Any]:
    found = list_deployments(session, page.app, PageRequest(limit=PAGE_SIZE, before=before))
    return {
        "app": page.app,
        "deployments": found.items,
        "next_before": found.next_before,
        "before": before,
        # The first page shows new deployments as they come; older pages only while one still runs.
        "live_updates": before is None or any(is_running(deployment) for deployment in found.items),
    }


@router.get("/apps/{name}/deployments")
def deployments_page(
    request: Request,
    name: str,
    session: SessionDep,
    viewer: ViewerDep,
    before: int | None = Query(None, ge=1),
) -> Response:
    """The app's deployments, newest first, with an "Older" link."""
    page = app_page(session, viewer, name)
    return render(
        request,
        "deployments.html",
        viewer,
        page=page,
        tab="deployments",
        **_table_context(session, page, before),
    )


@router.get("/apps/{name}/deployments/table")
def deployments_table(
    request: Request,
    name: str,
    session: SessionDep,
    viewer: ViewerDep,
    before: int | None = Query(None, ge=1),
) -> Response:
    """The list alone: the deployments page refreshes it while deployments run."""
    page = app_page(session, viewer, name)
    return render(request, "deployments_table.html", viewer, **_table_context(session, page, before))


def log_line_class(text: str) -> str:
    """How a log line is shown: a phase header, an error, or plain (as the live log shows them)."""
    if text.startswith(PHASE_PREFIXES):
        return "phase"
    if text.startswith(ERROR_PREFIXES):
        return "err"
    return ""


def _rollback_allowed(session: Session, settings: Settings, page: AppPage, deployment: Deployment) -> bool:
    """Whether the viewer can roll back to `deployment`: a release that was live, whose image is kept."""
    if not page.can("deploy") or deployment.status != DeploymentStatus.SUPERSEDED.value:
        return False
    try:
        with operations.engine(settings) as runtime:
            operations.rollback_target(session, runtime, app=page.app, deployment_id=deployment.id)
    except (Conflict, TemporaryError):
        return False
    return True


@router.get("/apps/{name}/deployments/{deployment_id}")
def deployment_page(
    request: Request,
    name: str,
    deployment_id: int,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
) -> Response:
    """One deployment: why it failed (first), its facts, and its build log (streamed live while it runs)."""
    page = app_page(session, viewer, name)
    deployment = get_deployment(session, page.app, deployment_id)
    running = is_running(deployment)
    # A finished deployment's log is rendered whole (no JavaScript needed); a running one streams.
    saved: list[tuple[str, str]] = []
    log_error = None
    if not running:
        try:
            saved = [(line, log_line_class(line)) for line in log_lines(settings, deployment)]
        except redis.RedisError as error:
            log_error = f"the log is not saved yet and Redis does not answer ({error}); reload in a moment"
    live = live_deployment(session, page.app)
    return render(
        request,
        "deployment.html",
        viewer,
        page=page,
        app=page.app,
        tab="deployments",
        deployment=deployment,
        running=running,
        saved_lines=saved,
        log_error=log_error,
        is_live=live is not None and live.id == deployment.id,
        can_roll_back=_rollback_allowed(session, settings, page, deployment),
    )
