"""/api/v1/apps/{name}/notifications: where the app's deploy outcomes are posted."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from api.deps import CurrentPrincipal, SessionDep, SettingsDep
from api.schemas import (
    NotificationCreate,
    NotificationCreated,
    NotificationPublic,
    NotificationTestResult,
)
from api.services import notifications as notification_service
from api.services.access import Permission, app_for
from core.models import NotificationTarget

router = APIRouter(prefix="/api/v1/apps/{name}/notifications", tags=["notifications"])

TargetId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The target's id, from the list.")]


def notification_public(target: NotificationTarget) -> NotificationPublic:
    """The API's view of a target: its URL masked."""
    return NotificationPublic(
        id=target.id,
        url=target.url_masked,
        format=target.format,
        events=target.events,
        signed=target.signing_secret is not None,
        created_at=target.created_at,
        last_sent_at=target.last_sent_at,
        last_result=target.last_result,
    )


@router.get("", response_model=list[NotificationPublic])
def list_notifications(
    name: str, session: SessionDep, principal: CurrentPrincipal
) -> list[NotificationPublic]:
    """The app's notification targets, with how the newest send to each went."""
    app = app_for(session, principal, name, Permission.READ)
    return [notification_public(target) for target in notification_service.list_targets(session, app)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=NotificationCreated)
def create_notification(
    name: str,
    body: NotificationCreate,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> NotificationCreated:
    """POST deploy outcomes to a URL; a `json` target's signing secret is in this response only."""
    app = app_for(session, principal, name, Permission.WRITE)
    target, secret = notification_service.create_target(
        session,
        settings,
        app=app,
        url=body.url,
        format=body.format,
        events=list(body.events) if body.events is not None else None,
    )
    return NotificationCreated(**notification_public(target).model_dump(), signing_secret=secret)


@router.delete("/{target_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def delete_notification(
    name: str, target_id: TargetId, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """Stop posting to a target."""
    app = app_for(session, principal, name, Permission.WRITE)
    notification_service.delete_target(session, app, target_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{target_id}/test", response_model=NotificationTestResult)
def test_notification(
    name: str,
    target_id: TargetId,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
) -> NotificationTestResult:
    """Send a test message now (5 s at most) and report the HTTP result; a failure answers `ok: false`."""
    app = app_for(session, principal, name, Permission.WRITE)
    target = notification_service.get_target(session, app, target_id)
    outcome = notification_service.send_test(settings, app, target)
    return NotificationTestResult(ok=outcome.ok, status_code=outcome.status_code, result=outcome.result)
