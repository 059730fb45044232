"""/api/v1/apps/{name}/deployments: deploy, follow and read releases."""

from __future__ import annotations

from collections.abc import Iterator

import redis
from fastapi import APIRouter, Query, status
from fastapi.responses import PlainTextResponse, StreamingResponse

from api.deps import CurrentPrincipal, SessionDep, SettingsDep
from api.schemas import DeploymentAccepted, DeploymentCreate, DeploymentPublic
from api.services import deployments as deployment_service
from api.services.access import Permission, app_for
from api.tasks import enqueue_deployments
from core.db import session_scope
from core.deploy_log import DeployLog
from core.models import Deployment
from core.settings import Settings

router = APIRouter(prefix="/api/v1/apps/{name}/deployments", tags=["deployments"])


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_model=DeploymentAccepted)
def create_deployment(
    name: str, session: SessionDep, principal: CurrentPrincipal, body: DeploymentCreate | None = None
) -> DeploymentAccepted:
    """Build and release the app's branch, or `ref` (a branch, tag or commit)."""
    app = app_for(session, principal, name, Permission.DEPLOY)
    deployment = deployment_service.request_deployment(
        session, app=app, trigger=deployment_service.Trigger.API, ref=body.ref if body else None
    )
    session.commit()
    enqueue_deployments([deployment.id])
    return DeploymentAccepted(id=deployment.id, status=deployment.status)


@router.get("", response_model=list[DeploymentPublic])
def list_deployments(
    name: str,
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: int = Query(50, ge=1, le=500),
) -> list[Deployment]:
    """The app's deployments, newest first."""
    return deployment_service.list_deployments(
        session, app_for(session, principal, name, Permission.READ), limit=limit
    )


@router.get("/{deployment_id}", response_model=DeploymentPublic)
def get_deployment(
    name: str, deployment_id: int, session: SessionDep, principal: CurrentPrincipal
) -> Deployment:
    """One deployment: status, commit, image and, when it failed, why."""
    return deployment_service.get_deployment(
        session, app_for(session, principal, name, Permission.READ), deployment_id
    )


@router.get("/{deployment_id}/logs", response_class=PlainTextResponse, response_model=None)
def get_logs(
    name: str,
    deployment_id: int,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    follow: bool = Query(False, description="Stream lines until the deployment ends."),
) -> PlainTextResponse | StreamingResponse:
    """The deployment's build and release log as text; `?follow=1` streams it live."""
    deployment = deployment_service.get_deployment(
        session, app_for(session, principal, name, Permission.READ), deployment_id
    )
    log = deployment_service.deployment_log(redis.Redis.from_url(settings.redis_url), settings, deployment)
    if not deployment_service.is_running(deployment):
        return PlainTextResponse(deployment.log if deployment.log is not None else log.text())
    session.close()  # a stream can last minutes: do not hold a database connection meanwhile
    if not follow:
        return PlainTextResponse(log.text())
    return StreamingResponse(_follow(log, settings, deployment.id), media_type="text/plain; charset=utf-8")


def _follow(log: DeployLog, settings: Settings, deployment_id: int) -> Iterator[str]:
    for line in log.follow():
        if line is not None:
            yield f"{line}\n"
            continue
        # Idle: make sure the deployment is still running (its worker may have died).
        with session_scope() as session:
            deployment = session.get(Deployment, deployment_id)
            if deployment is None or not deployment_service.is_running(deployment):
                return
