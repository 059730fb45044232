"""/api/v1/apps/{name}/deployments: deploy, follow and read releases."""

from __future__ import annotations

from collections.abc import AsyncIterator

import redis.asyncio
from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import PlainTextResponse, StreamingResponse

from api.deps import CurrentPrincipal, SessionDep, SettingsDep
from api.openapi import errors
from api.paging import PageDep, next_link
from api.schemas import DeploymentAccepted, DeploymentCreate, DeploymentPublic
from api.services import deployments as deployment_service
from api.services import log_streams, operations
from api.services.access import Permission, app_for
from api.services.deployments import Trigger
from core.models import Deployment, DeploymentStatus
from core.settings import Settings

router = APIRouter(prefix="/api/v1/apps/{name}/deployments", tags=["deployments"])


@router.post(
    "", status_code=status.HTTP_202_ACCEPTED, response_model=DeploymentAccepted, responses=errors(503)
)
def create_deployment(
    name: str, session: SessionDep, principal: CurrentPrincipal, body: DeploymentCreate | None = None
) -> DeploymentAccepted:
    """Build and release the app's branch, or `ref` (a branch, tag or commit)."""
    app = app_for(session, principal, name, Permission.DEPLOY)
    deployment = operations.deploy(session, app=app, trigger=Trigger.API, ref=body.ref if body else None)
    return DeploymentAccepted(id=deployment.id, status=deployment.status)


@router.get("", response_model=list[DeploymentPublic])
def list_deployments(
    name: str,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    page: PageDep,
    deployment_status: DeploymentStatus | None = Query(
        None, alias="status", description="Only deployments with this status."
    ),
    trigger: str | None = Query(
        None,
        pattern="^[a-z_-]{1,20}$",
        description="Only deployments made this way: push, hook, api, config, rollback, …",
    ),
    commit: str | None = Query(
        None, pattern="^[0-9a-fA-F]{4,64}$", description="Only deployments of commits starting with this."
    ),
) -> list[Deployment]:
    """The app's deployments, newest first, filtered; `Link: rel="next"` when there are more."""
    found = deployment_service.list_deployments(
        session,
        app_for(session, principal, name, Permission.READ),
        page,
        status=deployment_status,
        trigger=trigger,
        commit=commit,
    )
    response.headers.update(next_link(request, settings, found))
    return found.items


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
    offset: int = Query(0, ge=0, description="Lines you already have: send only the ones after them."),
) -> PlainTextResponse | StreamingResponse:
    """The deployment's build and release log as text; `?follow=1` streams it live, `?offset=N` resumes."""
    deployment = deployment_service.get_deployment(
        session, app_for(session, principal, name, Permission.READ), deployment_id
    )
    if not follow:
        lines = deployment_service.log_lines(settings, deployment, offset)
        return PlainTextResponse("".join(f"{line}\n" for line in lines))
    session.close()  # a stream can last minutes: do not hold a database connection meanwhile
    return StreamingResponse(_follow(settings, deployment.id, offset), media_type="text/plain; charset=utf-8")


async def _follow(settings: Settings, deployment_id: int, offset: int) -> AsyncIterator[str]:
    async with redis.asyncio.Redis.from_url(settings.redis_url) as client:
        async for line in log_streams.follow_log(
            client, settings, deployment_id=deployment_id, offset=offset
        ):
            yield f"{line.text}\n"
