"""Celery tasks: thin wrappers that run the service layer in a worker."""

from __future__ import annotations

import docker
import redis
from celery import Task
from celery.utils.log import get_task_logger
from kombu.exceptions import OperationalError

from api.services import deployment_events as _deployment_events  # noqa: F401  (registers the session hooks)
from api.services import deployment_reports, previews, reconciler
from api.services.deployments import finish
from api.services.pipeline import Pipeline, fail_stuck
from core.celery_app import celery_app
from core.db import session_scope
from core.errors import Conflict, TemporaryError
from core.models import Deployment, DeploymentStatus
from core.settings import get_settings
from scheduler import proxy
from scheduler.runtime.docker import DockerRuntime

logger = get_task_logger(__name__)


@celery_app.task(name="api.tasks.deploy")
def deploy(deployment_id: int) -> None:
    """Run one deployment (idempotent: a finished deployment is left alone)."""
    settings = get_settings()
    docker_client = docker.from_env()
    redis_client = redis.Redis.from_url(settings.redis_url)
    pipeline = Pipeline(settings, redis_client=redis_client, docker_client=docker_client)
    try:
        pipeline.run(deployment_id)
    finally:
        pipeline.close()
        docker_client.close()


@celery_app.task(name="api.tasks.reconcile")
def reconcile() -> None:
    """Periodic and on engine events: make what runs match the live releases, and fix the routes."""
    settings = get_settings()
    docker_client = docker.from_env()
    admin = proxy.CaddyAdmin(settings.caddy_admin)
    try:
        report = reconciler.reconcile(
            settings,
            redis_client=redis.Redis.from_url(settings.redis_url),
            runtime=DockerRuntime(docker_client, settings.instance, network_pool=settings.network_pool),
            admin=admin,
        )
    finally:
        admin.close()
        docker_client.close()
    for line in (*report.actions, *report.routes):
        logger.info("reconcile: %s", line)
    for line in report.errors:
        logger.warning("reconcile: %s", line)


@celery_app.task(name="api.tasks.fail_stuck_deployments")
def fail_stuck_deployments() -> list[int]:
    """Periodic: no deployment stays queued or building forever."""
    settings = get_settings()
    with session_scope() as session:
        return fail_stuck(session, settings, redis_client=redis.Redis.from_url(settings.redis_url))


def enqueue_deployments(deployment_ids: list[int]) -> None:
    """Queue deploy tasks; call after the deployments are committed.

    When the queue does not take them, they are failed with the reason (nothing waits `queued` for a task
    that does not exist) and TemporaryError is raised for the caller to answer 503.
    """
    for position, deployment_id in enumerate(deployment_ids):
        try:
            deploy.delay(deployment_id)
        except OperationalError as error:
            reason = (
                f"the build queue did not take it: Redis did not answer ({error}); "
                "deploy again (or redeliver the webhook) once Redis is back"
            )
            with session_scope() as session:
                for unqueued in deployment_ids[position:]:
                    deployment = session.get(Deployment, unqueued)
                    if deployment is not None:
                        finish(deployment, DeploymentStatus.FAILED, reason)
            raise TemporaryError(reason) from error


@celery_app.task(name="api.tasks.report_deployment")
def report_deployment(deployment_id: int, status: str) -> None:
    """Tell GitHub and the app's notification targets that a deployment took `status`."""
    deployment_reports.report(get_settings(), deployment_id, status)


@celery_app.task(name="api.tasks.teardown_preview", bind=True, max_retries=360)
def teardown_preview(self: Task, app_id: int, last_deployment: int) -> None:
    """Remove a closed pull request's preview (on the events queue, never behind builds); retried while
    one of its deployments still runs."""
    settings = get_settings()
    plan = previews.Teardown(app_id=app_id, last_deployment=last_deployment)
    try:
        done = previews.teardown(settings, plan, redis_client=redis.Redis.from_url(settings.redis_url))
    except (Conflict, TemporaryError) as error:
        raise self.retry(exc=error, countdown=10) from error
    logger.info("preview: %s", done)


def enqueue_teardowns(plans: list[previews.Teardown]) -> None:
    """Queue the removal of closed pull requests' previews; TemporaryError when Redis does not take it."""
    for plan in plans:
        try:
            teardown_preview.delay(plan.app_id, plan.last_deployment)
        except OperationalError as error:
            raise TemporaryError(
                f"the queue did not take the removal of a preview: Redis did not answer ({error}); "
                "redeliver the webhook once Redis is back"
            ) from error
