"""Deployment status changes, noticed in one place and told to whoever follows them.

Every status a deployment takes (queued, building, deploying, live, failed, superseded) is written through
the ORM somewhere: the API, the webhook, the pipeline, beat's stuck check. Rather than asking each of those
places to remember to report, a session hook collects the changes at flush and hands them on once the
transaction commits, so nobody is told about a status that was rolled back.

Reporting (GitHub commit statuses and deployments, notifications) is network work: it runs as a Celery task
on the events queue, never inside the request or the build that changed the status.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, UOWTransaction

from core.models import Deployment
from core.settings import get_settings

log = logging.getLogger(__name__)

_PENDING = "dockyard.deployment_changes"


@dataclass(frozen=True)
class DeploymentChange:
    """A deployment that took a new status."""

    deployment_id: int
    app_id: int
    status: str


@event.listens_for(Session, "after_flush")
def _collect(session: Session, _context: UOWTransaction) -> None:
    for instance in [*session.new, *session.dirty]:
        if not isinstance(instance, Deployment):
            continue
        if instance in session.new or inspect(instance).attrs.status.history.has_changes():
            pending: dict[int, DeploymentChange] = session.info.setdefault(_PENDING, {})
            pending[instance.id] = DeploymentChange(instance.id, instance.app_id, instance.status)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    changes = session.info.pop(_PENDING, None)
    if changes:
        dispatch(list(changes.values()))


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(_PENDING, None)


def dispatch(changes: list[DeploymentChange]) -> None:
    """Push committed changes to live followers and hand them to the reporters; a Redis outage is logged,
    never raised into the caller."""
    from api.services import deployment_feed  # it imports this module
    from api.tasks import report_deployment  # the task module imports this one

    try:
        deployment_feed.publish(get_settings(), changes)
    except redis.RedisError as error:  # followers miss a push; the status itself is saved
        log.warning("could not push %d deployment change(s) to followers: %s", len(changes), error)
    for change in changes:
        try:
            report_deployment.apply_async(args=[change.deployment_id, change.status], retry=False)
        except Exception as error:  # Redis down: the status itself is saved; only its report is lost
            log.warning(
                "could not queue the report of deployment %s (%s): %s",
                change.deployment_id,
                change.status,
                error,
            )
