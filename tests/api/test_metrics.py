"""GET /metrics: Prometheus' text format, numbers read from seeded deployments, queries that do not grow."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from core import db
from core.db import session_scope
from core.models import App, Deployment, Team
from core.settings import get_settings

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*"'
SAMPLE = re.compile(rf"^({NAME})(?:\{{({LABEL}(?:,{LABEL})*)?\}})? (\S+)$")
HELP = re.compile(rf"^# HELP ({NAME}) .+$")
TYPE = re.compile(rf"^# TYPE ({NAME}) (counter|gauge|histogram|summary|untyped)$")

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Check every line against the 0.0.4 text format and return the samples by name and labels."""
    assert text.endswith("\n")
    types: dict[str, str] = {}
    helped: set[str] = set()
    samples: Samples = {}
    for line in text.splitlines():
        if match := HELP.match(line):
            assert match[1] not in helped, f"second HELP for {match[1]}"
            helped.add(match[1])
        elif match := TYPE.match(line):
            assert match[1] not in types, f"second TYPE for {match[1]}"
            types[match[1]] = match[2]
        else:
            match = SAMPLE.match(line)
            assert match, f"not a sample line: {line!r}"
            name, labels, value = match[1], match[2], match[3]
            family = name
            for suffix in ("_bucket", "_sum", "_count"):
                base = name.removesuffix(suffix)
                if base != name and types.get(base) in ("histogram", "summary"):
                    family = base
            assert family in types, f"{name} has no TYPE line before it"
            pairs = frozenset(
                (key, raw.encode().decode("unicode_escape"))
                for key, raw in re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', labels or "")
            )
            key = (name, pairs)
            assert key not in samples, f"duplicate sample {line!r}"
            samples[key] = float(value)  # accepts +Inf, -Inf and NaN as Prometheus does
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def seed(*rows: dict[str, Any], apps: int = 1) -> None:
    """`apps` apps; the deployments all belong to the first."""
    with session_scope() as session:
        team = Team(name="main")
        made = [
            App(
                name=f"app{n}",
                team=team,
                repo_url=f"https://github.com/octo/app{n}.git",
                repo_full_name=f"octo/app{n}",
                webhook_secret="x",
            )
            for n in range(apps)
        ]
        session.add_all(made)
        session.flush()
        for fields in rows:
            session.add(Deployment(app_id=made[0].id, trigger="push", ref="main", **fields))


def ran(seconds: float, status: str) -> dict[str, Any]:
    return {"status": status, "started_at": T0, "finished_at": T0 + timedelta(seconds=seconds)}


@contextmanager
def counting_selects() -> Iterator[list[str]]:
    statements: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    engine = db.get_engine()
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics")  # no bearer token: scrapers send none
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return parse(response.text)


def test_numbers_match_the_deployments(client: TestClient, queued: Callable[[], list[int]]) -> None:
    seed(
        ran(20, "live"),
        ran(100, "superseded"),  # live once, then replaced: its outcome stays live
        ran(700, "failed"),
        ran(300, "failed"),  # on a bucket's bound: counted in it
        {"status": "superseded"},  # replaced before it started
        {"status": "failed", "finished_at": T0},  # the queue never took it: no duration
        {"status": "queued"},
        {"status": "queued"},
        {"status": "building", "started_at": T0},
        apps=3,
    )

    samples = scrape(client)

    total = "dockyard_deployments_total"
    assert value(samples, total, outcome="live") == 2
    assert value(samples, total, outcome="failed") == 3
    assert value(samples, total, outcome="superseded") == 1
    active = "dockyard_deployments_active"
    assert [value(samples, active, status=s) for s in ("queued", "building", "deploying")] == [2, 1, 0]
    assert value(samples, "dockyard_apps_total") == 3
    histogram = "dockyard_build_duration_seconds"
    buckets = {
        le: value(samples, f"{histogram}_bucket", le=le)
        for le in ("5", "10", "30", "60", "120", "300", "600", "900", "1800", "+Inf")
    }
    assert buckets == {
        "5": 0, "10": 0, "30": 1, "60": 1, "120": 2, "300": 3, "600": 3, "900": 4, "1800": 4, "+Inf": 4
    }  # fmt: skip
    assert value(samples, f"{histogram}_count") == 4
    assert value(samples, f"{histogram}_sum") == pytest.approx(1120, abs=0.01)
    assert value(samples, "dockyard_queue_depth") == 0
    assert value(samples, "dockyard_redis_up") == 1


def test_an_empty_installation_reports_zeros(client: TestClient) -> None:
    samples = scrape(client)

    assert value(samples, "dockyard_deployments_total", outcome="live") == 0
    assert value(samples, "dockyard_build_duration_seconds_bucket", le="+Inf") == 0
    assert value(samples, "dockyard_build_duration_seconds_sum") == 0
    assert value(samples, "dockyard_apps_total") == 0


def test_queue_depth_counts_waiting_deploy_tasks(
    client: TestClient, auth: dict[str, str], queued: Callable[[], list[int]]
) -> None:
    client.post(
        "/api/v1/apps",
        json={"name": "hello", "repo_url": "https://github.com/octo/hello.git"},
        headers=auth,
    )
    for _ in range(2):
        assert client.post("/api/v1/apps/hello/deployments", headers=auth).status_code == 202

    assert value(scrape(client), "dockyard_queue_depth") == len(queued()) == 2


def test_without_redis_queue_depth_is_left_out(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKYARD_REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    get_settings.cache_clear()

    samples = scrape(client)

    assert value(samples, "dockyard_redis_up") == 0
    assert not [name for name, _labels in samples if name == "dockyard_queue_depth"]
    assert value(samples, "dockyard_apps_total") == 0


def test_the_queries_do_not_grow_with_apps(client: TestClient) -> None:
    seed(*(ran(n, "live") for n in range(1, 201)), apps=100)

    with counting_selects() as statements:
        samples = scrape(client)

    assert value(samples, "dockyard_apps_total") == 100
    assert value(samples, "dockyard_build_duration_seconds_count") == 200
    assert len(statements) == 3, statements


def test_the_parser_rejects_malformed_lines() -> None:
    good = '# HELP x_total X.\n# TYPE x_total counter\nx_total{a="b"} 1\n'
    assert parse(good) == {("x_total", frozenset({("a", "b")})): 1}
    for bad in (
        "x_total 1\n",  # no TYPE
        "# TYPE x_total counter\nx_total{a=b} 1\n",  # unquoted label value
        "# TYPE x_total counter\nx_total  1\n",
        "# TYPE x_total counter\nx_total 1",  # no final newline
    ):
        with pytest.raises(AssertionError):
            parse(bad)
