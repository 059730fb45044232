"""GET /metrics: Prometheus' text format, without authentication, like most exporters."""

from __future__ import annotations

import redis
from fastapi import APIRouter, Response

from api.deps import SessionDep, SettingsDep
from api.services import metrics
from core.celery_app import celery_app

router = APIRouter(tags=["metrics"])

# A scrape must answer quickly even when Redis does not.
REDIS_TIMEOUT = 1.0


@router.get("/metrics", response_class=Response)
def get_metrics(session: SessionDep, settings: SettingsDep) -> Response:
    """Deployments by outcome and status, build durations, the build queue's depth and the app count."""
    client = redis.Redis.from_url(
        settings.redis_url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT
    )
    try:
        found = metrics.collect(session, redis_client=client, queue=celery_app.conf.task_default_queue)
    finally:
        client.close()
    return Response(metrics.render(found), media_type=metrics.CONTENT_TYPE)
