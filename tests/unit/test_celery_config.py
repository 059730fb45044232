"""The build queue's Celery settings: a slow build is never handed to a second worker while it runs."""

from __future__ import annotations

from pathlib import Path

from core.celery_app import make_celery
from core.settings import Settings


def test_time_limits_nest_inside_the_visibility_timeout(tmp_path: Path) -> None:
    settings = Settings(build_timeout=600, startup_timeout=60, data_dir=tmp_path, instance="blue")

    conf = make_celery(settings).conf

    soft, hard = conf.task_soft_time_limit, conf.task_time_limit
    visibility = conf.broker_transport_options["visibility_timeout"]
    assert settings.build_timeout + settings.startup_timeout < soft < hard < visibility


def test_tasks_survive_a_lost_worker_and_take_one_build_at_a_time(tmp_path: Path) -> None:
    conf = make_celery(Settings(data_dir=tmp_path, instance="blue")).conf

    assert (conf.task_acks_late, conf.task_reject_on_worker_lost, conf.worker_prefetch_multiplier) == (
        True,
        True,
        1,
    )


def test_each_installation_has_its_own_queue_and_beat_file(tmp_path: Path) -> None:
    blue = make_celery(Settings(data_dir=tmp_path / "blue", instance="blue")).conf
    green = make_celery(Settings(data_dir=tmp_path / "green", instance="green")).conf

    assert (blue.task_default_queue, green.task_default_queue) == ("dockyard-blue", "dockyard-green")
    assert blue.beat_schedule_filename == str(tmp_path / "blue" / "celerybeat-schedule")
    assert "api.tasks.fail_stuck_deployments" in {entry["task"] for entry in blue.beat_schedule.values()}
