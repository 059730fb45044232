"""/api/v1/apps/{name}/deliveries: the app's delivery log (GitHub webhooks and deploy-hook calls)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.deps import CurrentPrincipal, SessionDep, SettingsDep
from api.paging import PageDep, next_link
from api.schemas import DeliveryPublic
from api.services import deliveries as delivery_service
from api.services.access import Permission, app_for
from core.models import WebhookDelivery


def delivery_public(delivery: WebhookDelivery) -> DeliveryPublic:
    """The API's view of one delivery-log entry."""
    return DeliveryPublic(
        id=delivery.id,
        delivery_id=delivery.delivery_id,
        event=delivery.event,
        received_at=delivery.received_at,
        signature_ok=delivery.signature_ok,
        decision=delivery.decision,
        deployment=delivery.deployment_id,
    )


router = APIRouter(prefix="/api/v1/apps/{name}/deliveries", tags=["deliveries"])


@router.get("", response_model=list[DeliveryPublic])
def list_deliveries(
    name: str,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    page: PageDep,
    principal: CurrentPrincipal,
) -> list[DeliveryPublic]:
    """What each delivery meant for the app and why, newest first; `Link: rel="next"` when there are more."""
    found = delivery_service.list_deliveries(
        session, app_for(session, principal, name, Permission.READ), page
    )
    response.headers.update(next_link(request, settings, found))
    return [delivery_public(delivery) for delivery in found.items]
