"""Applying a settings change (env, volumes) to a running app: its live image released again, no rebuild."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api.services.apps import live_deployment
from api.services.deployments import request_rollout
from api.tasks import enqueue_deployments
from core.models import App


def roll_out(session: Session, app: App) -> int | None:
    """Commit the change and queue a release of the live image with it: the deployment's id, or None when
    nothing is live yet or the app is stopped (the next deploy, or starting the app, picks the change up).

    A stopped app's containers are created from the current settings when it starts.
    """
    live = live_deployment(session, app)
    if live is None or app.stopped:
        return None
    deployment = request_rollout(session, app=app, live=live)
    session.commit()
    enqueue_deployments([deployment.id])
    return deployment.id
