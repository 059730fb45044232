"""The Celery app on Redis, configured for a build queue.

Deploy tasks are acknowledged late and re-queued if their worker dies, so they must be idempotent:
a redelivered task for a finished deployment does nothing. Builds have a soft time limit that lets
the task mark its deployment failed, with a hard limit behind it; Redis' visibility timeout sits
above both so a slow build is never handed to a second worker while the first still runs.
Running apps are containers, not tasks: nothing here limits how long they run.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import worker_process_init

from core.db import dispose_engine
from core.settings import Settings, get_settings

STUCK_CHECK_SECONDS = 60.0


def deploy_time_limits(settings: Settings) -> tuple[int, int]:
    """(soft, hard) seconds for one deploy task: build, release command, health check, drain, plus slack."""
    soft = (
        settings.build_timeout
        + settings.release_timeout
        + settings.startup_timeout
        + settings.drain_seconds
        + settings.stop_timeout
        + 120
    )
    return soft, soft + 60


def reconcile_queue(settings: Settings) -> str:
    """The queue reconcile passes go to."""
    return f"dockyard-{settings.instance}-reconcile"


def events_queue(settings: Settings) -> str:
    """The queue deployment reports (GitHub statuses, notifications) go to: never behind a build."""
    return f"dockyard-{settings.instance}-events"


def make_celery(settings: Settings) -> Celery:
    """A Celery app for this installation's queue."""
    app = Celery("dockyard", broker=settings.redis_url, include=["api.tasks"])
    soft, hard = deploy_time_limits(settings)
    app.conf.update(
        task_default_queue=f"dockyard-{settings.instance}",
        # Reconcile passes get their own worker: a queue full of builds must not delay healing.
        # Reports get it too: a GitHub status must not wait for the build it reports on.
        task_routes={
            "api.tasks.reconcile": {"queue": reconcile_queue(settings)},
            "api.tasks.report_deployment": {"queue": events_queue(settings)},
            "api.tasks.teardown_preview": {"queue": events_queue(settings)},
        },
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_soft_time_limit=soft,
        task_time_limit=hard,
        task_ignore_result=True,
        broker_transport_options={"visibility_timeout": hard + 600},
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        beat_schedule_filename=str(settings.data_dir / "celerybeat-schedule"),
        beat_schedule={
            "fail-stuck-deployments": {
                "task": "api.tasks.fail_stuck_deployments",
                "schedule": STUCK_CHECK_SECONDS,
            },
            "reconcile": {
                "task": "api.tasks.reconcile",
                "schedule": float(settings.reconcile_interval),
                # A pass that waited longer than the interval is stale: the next one is already queued.
                "options": {"expires": float(settings.reconcile_interval)},
            },
        },
    )
    return app


@worker_process_init.connect
def _dispose_inherited_engine(**_kwargs: Any) -> None:
    # A forked worker must not reuse the parent's database connections.
    dispose_engine()


celery_app = make_celery(get_settings())
