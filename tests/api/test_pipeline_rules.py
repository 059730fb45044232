"""The deploy pipeline's rules that need no engine: redelivered tasks, coalescing, stuck deployments."""

from __future__ import annotations

from datetime import timedelta

import docker
import pytest
import redis

from api.services.deployments import deployment_log
from api.services.pipeline import Pipeline, fail_stuck
from core.db import session_scope
from core.models import App, Deployment, Team, utcnow
from core.settings import Settings, get_settings

REPO = "file:///nonexistent/o/hello.git"


@pytest.fixture
def settings(database: str) -> Settings:
    return get_settings()


@pytest.fixture
def pipeline(settings: Settings) -> Pipeline:
    # Neither the engine nor Caddy is reached by these rules; the clients connect lazily.
    return Pipeline(
        settings, redis_client=redis.Redis.from_url(settings.redis_url), docker_client=docker.DockerClient()
    )


def add_app(**deployments: dict) -> dict[str, int]:
    ids = {}
    with session_scope() as session:
        app = App(
            name="hello",
            team=Team(name="main"),
            repo_url="file:///r/o/hello.git",
            repo_full_name="o/hello",
            webhook_secret="x",
        )
        session.add(app)
        session.flush()
        for key, fields in deployments.items():
            deployment = Deployment(app_id=app.id, trigger="push", ref="main", **fields)
            session.add(deployment)
            session.flush()
            ids[key] = deployment.id
    return ids


def status_of(deployment_id: int) -> tuple[str, str | None]:
    with session_scope() as session:
        deployment = session.get(Deployment, deployment_id)
        assert deployment is not None
        return deployment.status, deployment.error


def test_a_redelivered_task_for_a_finished_deployment_does_nothing(pipeline: Pipeline) -> None:
    ids = add_app(
        live={"status": "live", "image": "dockyard/hello:1", "log": "built\n"},
        failed={"status": "failed", "error": "pip failed", "log": "pip failed\n"},
    )

    pipeline.run(ids["live"])
    pipeline.run(ids["failed"])

    assert status_of(ids["live"]) == ("live", None)
    assert status_of(ids["failed"]) == ("failed", "pip failed")


def test_a_queued_build_is_superseded_by_a_newer_queued_build(pipeline: Pipeline) -> None:
    ids = add_app(older={"commit": "a" * 40}, newer={"commit": "b" * 40})

    pipeline.run(ids["older"])

    assert status_of(ids["older"]) == ("superseded", f"deployment {ids['newer']} replaced it")
    assert status_of(ids["newer"]) == ("queued", None)


def test_an_older_build_that_starts_after_a_newer_one_went_live_is_superseded(pipeline: Pipeline) -> None:
    # Two workers took a burst's tasks out of order: the newer commit is live before the older one starts.
    ids = add_app(older={"commit": "a" * 40}, newer={"commit": "b" * 40, "status": "live", "image": "i:2"})

    pipeline.run(ids["older"])

    assert status_of(ids["older"]) == ("superseded", f"deployment {ids['newer']} replaced it")
    assert status_of(ids["newer"]) == ("live", None)


def test_an_older_build_still_deploys_when_the_newer_one_failed(pipeline: Pipeline) -> None:
    ids = add_app(older={"commit": "a" * 40}, newer={"commit": "b" * 40, "status": "failed"})

    pipeline.run(ids["older"])

    # It went on to fetch its (here missing) repository rather than giving way to a failed build.
    status, error = status_of(ids["older"])
    assert status == "failed"
    assert error is not None and error.startswith("could not fetch")


def add_rollout(live_id: int) -> int:
    with session_scope() as session:
        rollout = Deployment(app_id=1, trigger="config", source_deployment_id=live_id)
        session.add(rollout)
        session.flush()
        return rollout.id


def test_a_newer_config_rollout_does_not_supersede_a_queued_build(pipeline: Pipeline) -> None:
    ids = add_app(live={"status": "live", "image": "dockyard/hello:1"}, build={"commit": "c" * 40})
    rollout = add_rollout(ids["live"])

    pipeline.run(ids["build"])

    # The build went on to fetch its (here missing) repository instead of giving way to the rollout.
    status, error = status_of(ids["build"])
    assert status == "failed"
    assert error is not None and error.startswith("could not fetch")
    assert status_of(rollout) == ("queued", None)


def test_a_queued_config_rollout_gives_way_to_a_newer_build(pipeline: Pipeline) -> None:
    ids = add_app(live={"status": "live", "image": "dockyard/hello:1"})
    rollout = add_rollout(ids["live"])
    newer = add_app_deployment(commit="d" * 40)

    pipeline.run(rollout)

    assert status_of(rollout) == ("superseded", f"deployment {newer} replaced it")


def add_app_deployment(**fields: str) -> int:
    with session_scope() as session:
        deployment = Deployment(app_id=1, trigger="push", ref="main", **fields)
        session.add(deployment)
        session.flush()
        return deployment.id


def test_deployments_stuck_past_every_time_limit_are_failed(settings: Settings) -> None:
    long_ago = utcnow() - timedelta(days=1)
    ids = add_app(
        stuck={"status": "building", "created_at": long_ago},
        waiting={"status": "queued", "created_at": long_ago},
        recent={"status": "building"},
        finished={"status": "live", "created_at": long_ago},
    )
    client = redis.Redis.from_url(settings.redis_url)

    with session_scope() as session:
        failed = fail_stuck(session, settings, redis_client=client)

    assert sorted(failed) == sorted([ids["stuck"], ids["waiting"]])
    status, error = status_of(ids["stuck"])
    assert status == "failed"
    assert error is not None and "its worker stopped; deploy again" in error
    assert status_of(ids["recent"]) == ("building", None)
    assert status_of(ids["finished"]) == ("live", None)
    with session_scope() as session:
        stuck = session.get(Deployment, ids["stuck"])
        assert stuck is not None
        assert deployment_log(client, settings, stuck).read().ended


def test_a_deployment_run_again_after_a_lost_worker_starts_its_log_afresh(
    pipeline: Pipeline, settings: Settings
) -> None:
    ids = add_app(older={"commit": "a" * 40}, newer={"commit": "b" * 40})
    with session_scope() as session:
        older = session.get(Deployment, ids["older"])
        assert older is not None
        stale = deployment_log(pipeline.redis, settings, older)
    stale.append("-----> a line from an earlier run")
    stale.end()

    pipeline.run(ids["older"])

    with session_scope() as session:
        deployment = session.get(Deployment, ids["older"])
        assert deployment is not None
        assert deployment.log == f"-----> Superseded by deployment {ids['newer']} before it started\n"
