"""Apps at a glance: each visible app with its newest deployment and live release, in three queries
whatever the number of apps (the dashboard must answer quickly for a team with a hundred apps)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from api.services.access import Principal, visible_apps
from core.models import App, Deployment, DeploymentStatus
from core.settings import Settings


@dataclass(frozen=True)
class AppSummary:
    """An app, where it is served, its newest deployment and the release live now (either may be None)."""

    app: App
    url: str
    latest: Deployment | None
    live: Deployment | None


def _newest(session: Session, app_ids: list[int], *, live_only: bool) -> dict[int, Deployment]:
    newest = select(func.max(Deployment.id)).where(Deployment.app_id.in_(app_ids)).group_by(Deployment.app_id)
    if live_only:
        newest = newest.where(Deployment.status == DeploymentStatus.LIVE.value)
    rows = session.scalars(select(Deployment).where(Deployment.id.in_(newest)))
    return {deployment.app_id: deployment for deployment in rows}


def app_summaries(session: Session, settings: Settings, principal: Principal) -> list[AppSummary]:
    """The caller's apps by name (previews after their parent), each with its newest and live deployment."""
    apps = list(
        session.scalars(
            visible_apps(principal)
            .options(selectinload(App.team), selectinload(App.domains))
            .order_by(App.name)
        )
    )
    ids = [app.id for app in apps]
    latest = _newest(session, ids, live_only=False) if ids else {}
    live = _newest(session, ids, live_only=True) if ids else {}
    return [
        AppSummary(app=app, url=settings.app_url(app.name), latest=latest.get(app.id), live=live.get(app.id))
        for app in apps
    ]
