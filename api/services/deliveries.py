"""The delivery log: every webhook and deploy-hook call an app received, and what Dockyard decided."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.services.paging import Page, PageRequest, keyset_page
from core.models import App, Deployment, WebhookDelivery


def record_delivery(
    session: Session,
    *,
    app: App,
    delivery_id: str,
    event: str,
    signature_ok: bool,
    decision: str,
    deployment: Deployment | None = None,
) -> WebhookDelivery:
    """Log what a delivery meant for `app`, and why."""
    delivery = WebhookDelivery(
        delivery_id=delivery_id,
        app_id=app.id,
        event=event,
        signature_ok=signature_ok,
        decision=decision,
        deployment_id=deployment.id if deployment else None,
    )
    session.add(delivery)
    session.flush()
    return delivery


def list_deliveries(session: Session, app: App, page: PageRequest) -> Page[WebhookDelivery]:
    """A page of the app's delivery log, newest first."""
    return keyset_page(
        session, select(WebhookDelivery).where(WebhookDelivery.app_id == app.id), WebhookDelivery.id, page
    )


def started_deployments(session: Session, deliveries: list[WebhookDelivery]) -> dict[int, Deployment]:
    """The deployments these deliveries started, by id, in one query (to show how each went)."""
    ids = {delivery.deployment_id for delivery in deliveries if delivery.deployment_id is not None}
    if not ids:
        return {}
    return {
        deployment.id: deployment
        for deployment in session.scalars(select(Deployment).where(Deployment.id.in_(ids)))
    }
