"""Generic deploy hooks: create, rotate or disable an app's secret deploy URL, and the URL itself."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status

from api.deps import CurrentPrincipal, SessionDep, SettingsDep
from api.schemas import DeployHookCreated, DeploymentAccepted
from api.services import deploy_hooks
from api.services.access import Permission, app_for
from api.tasks import enqueue_deployments
from core.errors import ConfigError

router = APIRouter(tags=["deploy hooks"])

# Read by `requested_ref` from the raw body (CI systems send anything from nothing to a forge's payload).
HOOK_BODY = {
    "type": "object",
    "properties": {"ref": {"type": "string", "description": "Branch, tag or commit.", "examples": ["v1.2"]}},
}


@router.post(
    "/api/v1/apps/{name}/deploy-hook", status_code=status.HTTP_201_CREATED, response_model=DeployHookCreated
)
def create_deploy_hook(
    name: str, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> DeployHookCreated:
    """Create the app's deploy hook URL, or replace it (the old URL stops working); shown only here."""
    app = app_for(session, principal, name, Permission.WRITE)
    token = deploy_hooks.create_hook(app)
    return DeployHookCreated(url=deploy_hooks.hook_url(settings, app, token))


@router.delete("/api/v1/apps/{name}/deploy-hook", status_code=status.HTTP_204_NO_CONTENT)
def delete_deploy_hook(name: str, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Disable the app's deploy hook: its URL answers 404 until a new one is created."""
    deploy_hooks.disable_hook(app_for(session, principal, name, Permission.WRITE))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def requested_ref(
    request: Request,
    ref: str | None = Query(None, description="Branch, tag or commit; default: the app's branch."),
) -> str | None:
    """The ref from `?ref=` or a JSON body `{"ref": "v1.2"}` (both optional)."""
    body = await request.body()
    if not body.strip():
        return ref
    try:
        payload = json.loads(body)
    except ValueError as error:
        raise ConfigError('must be empty or JSON such as {"ref": "v1.2"}', where="body") from error
    body_ref = payload.get("ref") if isinstance(payload, dict) else None
    if body_ref is not None and not isinstance(body_ref, str):
        raise ConfigError("must be a string such as v1.2", where="ref")
    if ref is not None and body_ref is not None and ref != body_ref:
        raise ConfigError(f"?ref={ref} and the body's {body_ref} disagree: send one", where="ref")
    return ref if ref is not None else body_ref


@router.post(
    "/hooks/deploy/{app}/{token}",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeploymentAccepted,
    openapi_extra={
        "requestBody": {"required": False, "content": {"application/json": {"schema": HOOK_BODY}}}
    },
)
def call_deploy_hook(
    app: str, token: str, session: SessionDep, ref: Annotated[str | None, Depends(requested_ref)]
) -> DeploymentAccepted:
    """Deploy the app (no bearer token: the URL is the secret); 404 for any wrong app or token."""
    deployment = deploy_hooks.call_hook(session, app_name=app, token=token, ref=ref)
    session.commit()
    enqueue_deployments([deployment.id])
    return DeploymentAccepted(id=deployment.id, status=deployment.status)
