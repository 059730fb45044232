"""Deployments: request one, list them, and read their logs."""

from __future__ import annotations

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.services.paging import Page, PageRequest, keyset_page
from core.deploy_log import DeployLog, saved_lines
from core.errors import NotFound
from core.models import App, Deployment, DeploymentStatus, utcnow
from core.settings import Settings


class Trigger:
    """Why a deployment was made."""

    PUSH = "push"
    HOOK = "hook"
    API = "api"
    WEB = "web"  # the dashboard: a new app's first build, the Deploy button
    CONFIG = "config"
    ROLLBACK = "rollback"
    RESTART = "restart"


def request_rollback(session: Session, *, app: App, target: Deployment) -> Deployment:
    """Queue a release of `target`'s image and plan with the app's current config: an instant rollback."""
    return request_rollout(session, app=app, live=target, trigger=Trigger.ROLLBACK)


def request_deployment(
    session: Session, *, app: App, trigger: str, ref: str | None = None, commit: str | None = None
) -> Deployment:
    """Queue a build of `commit` (or `ref`, or the app's branch). Enqueue it after the commit."""
    deployment = Deployment(app_id=app.id, trigger=trigger, ref=ref or app.branch, commit=commit)
    session.add(deployment)
    session.flush()
    return deployment


def request_rollout(
    session: Session, *, app: App, live: Deployment, trigger: str = Trigger.CONFIG
) -> Deployment:
    """Queue a release of `live`'s image with the app's current config: no rebuild.

    For a config change or a restart the pipeline takes whatever is live when the deployment runs; for a
    rollback, `live` is the release to go back to.
    """
    deployment = Deployment(
        app_id=app.id,
        trigger=trigger,
        ref=live.ref,
        commit=live.commit,
        commit_author=live.commit_author,
        commit_message=live.commit_message,
        source_deployment_id=live.id,
    )
    session.add(deployment)
    session.flush()
    return deployment


def list_deployments(
    session: Session,
    app: App,
    page: PageRequest,
    *,
    status: DeploymentStatus | None = None,
    trigger: str | None = None,
    commit: str | None = None,
) -> Page[Deployment]:
    """A page of the app's deployments, newest first; with a status, a trigger or a commit prefix."""
    statement = select(Deployment).where(Deployment.app_id == app.id)
    if status is not None:
        statement = statement.where(Deployment.status == status.value)
    if trigger is not None:
        statement = statement.where(Deployment.trigger == trigger)
    if commit is not None:
        statement = statement.where(Deployment.commit.startswith(commit.lower(), autoescape=True))
    return keyset_page(session, statement, Deployment.id, page)


def get_deployment(session: Session, app: App, deployment_id: int) -> Deployment:
    """One deployment of `app`, or NotFound."""
    deployment = session.get(Deployment, deployment_id)
    if deployment is None or deployment.app_id != app.id:
        raise NotFound(f"app {app.name!r} has no deployment {deployment_id}")
    return deployment


def newest_deployment(session: Session, app: App) -> Deployment | None:
    """The app's most recent deployment, whatever its status."""
    return session.scalar(
        select(Deployment).where(Deployment.app_id == app.id).order_by(Deployment.id.desc()).limit(1)
    )


def deployment_log(client: redis.Redis, settings: Settings, deployment: Deployment) -> DeployLog:
    """The live log of `deployment`."""
    return DeployLog(
        client, instance=settings.instance, deployment_id=deployment.id, created_at=deployment.created_at
    )


def log_lines(settings: Settings, deployment: Deployment, offset: int = 0) -> list[str]:
    """The lines of the deployment's log after the first `offset`: the saved copy once it has ended, else
    what the live log holds so far."""
    if deployment.log is not None:
        return saved_lines(deployment.log)[offset:]
    with redis.Redis.from_url(settings.redis_url) as client:
        return deployment_log(client, settings, deployment).read(offset).lines


def finish(deployment: Deployment, status: DeploymentStatus, error: str | None) -> None:
    """Record how a deployment ended (a superseded one keeps the time it stopped serving)."""
    deployment.status = status.value
    if error is not None:
        deployment.error = error
    if deployment.finished_at is None or status is not DeploymentStatus.SUPERSEDED:
        deployment.finished_at = utcnow()


def fail(deployment: Deployment, log: DeployLog, reason: str) -> None:
    """End a deployment `failed`, with the reason in its error and its log."""
    log.append(f" !     {reason}")
    finish(deployment, DeploymentStatus.FAILED, reason)


def is_running(deployment: Deployment) -> bool:
    """True while the deployment may still log lines."""
    return DeploymentStatus(deployment.status).is_active
