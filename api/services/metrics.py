"""Prometheus metrics, read at scrape time and written in the text exposition format 0.0.4.

Every figure comes from three aggregate queries and one Redis LLEN, so the API processes share no
state and a scrape costs the same with 100 apps as with one. Deployment counts and build durations are
read from the deployments table, so they only go down when an app (and its history) is deleted;
Prometheus takes that as a counter reset.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import redis
from sqlalchemy import ColumnElement, case, extract, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from core.models import App, Deployment, DeploymentStatus

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Seconds: builds range from a cached code-only rebuild to DOCKYARD_BUILD_TIMEOUT (15 min by default).
BUILD_BUCKETS = (5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0)
OUTCOMES = ("live", "failed", "superseded")
ACTIVE = (DeploymentStatus.QUEUED, DeploymentStatus.BUILDING, DeploymentStatus.DEPLOYING)
FINAL = (DeploymentStatus.LIVE, DeploymentStatus.FAILED, DeploymentStatus.SUPERSEDED)


@dataclass(frozen=True)
class Sample:
    """One line: a value with its labels; `suffix` extends the metric's name (`_bucket`, `_sum`)."""

    value: float
    labels: tuple[tuple[str, str], ...] = ()
    suffix: str = ""


@dataclass(frozen=True)
class Metric:
    """A metric family with its HELP and TYPE lines."""

    name: str
    kind: str  # counter, gauge, histogram
    help: str
    samples: list[Sample] = field(default_factory=list)


def render(metrics: Iterable[Metric]) -> str:
    """The text exposition format: HELP, TYPE, then one line per sample."""
    lines = []
    for metric in metrics:
        lines.append(f"# HELP {metric.name} {_escape_help(metric.help)}")
        lines.append(f"# TYPE {metric.name} {metric.kind}")
        for sample in metric.samples:
            labels = ",".join(f'{key}="{_escape_label(value)}"' for key, value in sample.labels)
            lines.append(
                f"{metric.name}{sample.suffix}{'{' + labels + '}' if labels else ''} {_number(sample.value)}"
            )
    return "\n".join(lines) + "\n"


def collect(session: Session, *, redis_client: redis.Redis, queue: str) -> list[Metric]:
    """Every metric Dockyard exports, as they are now."""
    by_status, by_outcome = deployment_counts(session)
    metrics = [
        Metric(
            "dockyard_deployments_total",
            "counter",
            "Deployments that ended, by outcome: live (went live, whether still serving or replaced since), "
            "failed, superseded (replaced by a newer deployment before it started).",
            [Sample(by_outcome.get(outcome, 0), (("outcome", outcome),)) for outcome in OUTCOMES],
        ),
        Metric(
            "dockyard_deployments_active",
            "gauge",
            "Deployments waiting or running, by status.",
            [Sample(by_status.get(status.value, 0), (("status", status.value),)) for status in ACTIVE],
        ),
        build_duration(session),
        Metric(
            "dockyard_apps_total",
            "gauge",
            "Apps Dockyard manages.",
            [Sample(session.scalar(select(func.count()).select_from(App)) or 0)],
        ),
    ]
    try:
        depth = int(redis_client.llen(queue))
    except redis.RedisError:
        depth = None
    if depth is not None:
        metrics.append(
            Metric(
                "dockyard_queue_depth", "gauge", "Deploy tasks waiting in the build queue.", [Sample(depth)]
            )
        )
    metrics.append(
        Metric(
            "dockyard_redis_up",
            "gauge",
            "1 when Redis (the build queue) answered this scrape, else 0 and no dockyard_queue_depth.",
            [Sample(1 if depth is not None else 0)],
        )
    )
    return metrics


def deployment_counts(session: Session) -> tuple[dict[str, int], dict[str, int]]:
    """Deployments by status, and finished ones by outcome, from one GROUP BY."""
    never_started = Deployment.started_at.is_(None)
    rows = session.execute(
        select(Deployment.status, never_started, func.count()).group_by(Deployment.status, never_started)
    )
    by_status: dict[str, int] = {}
    by_outcome: dict[str, int] = {}
    for status, was_never_started, count in rows:
        by_status[status] = by_status.get(status, 0) + count
        outcome = status
        # A superseded deployment that started was live once; one that never started was replaced.
        if status == DeploymentStatus.SUPERSEDED.value and not was_never_started:
            outcome = DeploymentStatus.LIVE.value
        by_outcome[outcome] = by_outcome.get(outcome, 0) + count
    return by_status, by_outcome


def build_duration(session: Session) -> Metric:
    """A histogram of finished deployments' time from start to end, from one aggregate query."""
    seconds = _seconds_between(session, Deployment.started_at, Deployment.finished_at)
    row = session.execute(
        select(
            func.count(),
            func.coalesce(func.sum(seconds), 0),
            *(func.coalesce(func.sum(case((seconds <= bound, 1), else_=0)), 0) for bound in BUILD_BUCKETS),
        ).where(
            Deployment.status.in_([status.value for status in FINAL]),
            Deployment.started_at.is_not(None),
            Deployment.finished_at.is_not(None),
        )
    ).one()
    count, total, *buckets = row
    samples = [
        Sample(int(value), (("le", _number(bound)),), "_bucket")
        for bound, value in zip(BUILD_BUCKETS, buckets, strict=True)
    ]
    samples += [
        Sample(int(count), (("le", "+Inf"),), "_bucket"),
        Sample(float(total), suffix="_sum"),
        Sample(int(count), suffix="_count"),
    ]
    return Metric(
        "dockyard_build_duration_seconds",
        "histogram",
        "Seconds from a deployment's start to its end (build, release command, health check, switch), "
        "over finished deployments.",
        samples,
    )


def _seconds_between(
    session: Session,
    start: ColumnElement[Any] | InstrumentedAttribute[Any],
    end: ColumnElement[Any] | InstrumentedAttribute[Any],
) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return extract("epoch", end - start)
    # SQLite stores timestamps as ISO text, which julianday() reads in days; rounded to the millisecond,
    # the float error of day fractions cannot move a duration across a bucket's bound.
    return func.round((func.julianday(end) - func.julianday(start)) * 86400.0, 3)


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if math.isnan(value):
        return "NaN"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")
