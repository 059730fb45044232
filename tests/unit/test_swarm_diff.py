"""diff_services(desired, observed): whole action lists for one swarm service per app process."""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.shell import exec_form
from scheduler.desired import Limits, ProcessSpec, Release, desired_processes
from scheduler.reconcile import (
    CreateService,
    ObservedService,
    RemoveService,
    UpdateService,
    diff_services,
    service_name,
)

RELEASE = Release(
    instance="i",
    app="blog",
    release=2,
    image="i/blog:2",
    processes={"web": None, "worker": "celery worker", "beat": "celery beat"},
    env={"DEBUG": "0"},
    volumes={"media": "/app/media"},
    scale={"web": 2},
    limits={"worker": Limits(memory=256 * 2**20, cpus=0.5)},
)
DESIRED = desired_processes(RELEASE)
WEB, BEAT, WORKER = DESIRED


def running(spec: ProcessSpec, **changes: object) -> ObservedService:
    """What the engine reports for a service created from `spec`, with `changes`."""
    name = service_name(spec.instance, spec.app, spec.process)
    service = ObservedService(
        id=f"id-{name}",
        name=name,
        app=spec.app,
        process=spec.process,
        release=spec.release,
        image=spec.image,
        command=None if spec.command is None else exec_form(spec.command),  # as services store it
        env=dict(spec.env),
        replicas=spec.replicas,
        volumes=dict(spec.volumes),
        limits=spec.limits,
        stop_timeout=spec.stop_timeout,
    )
    return replace(service, **changes)  # type: ignore[arg-type]


RUNNING = [running(spec) for spec in DESIRED]


def test_service_names_are_per_process_not_per_release() -> None:
    assert [running(spec).name for spec in DESIRED] == ["i-blog-web", "i-blog-beat", "i-blog-worker"]


def test_nothing_to_do_when_every_service_matches() -> None:
    assert diff_services(DESIRED, RUNNING) == []


def test_a_new_app_creates_one_service_per_process_web_first() -> None:
    assert diff_services(DESIRED, []) == [
        CreateService(WEB, "missing"),
        CreateService(BEAT, "missing"),
        CreateService(WORKER, "missing"),
    ]


def test_a_new_release_is_a_rolling_update_of_the_same_services() -> None:
    new = desired_processes(replace(RELEASE, release=3, image="i/blog:3"))

    assert diff_services(new, RUNNING) == [
        UpdateService(RUNNING[0], 2, new[0], "release 2 -> 3: release, image changed"),
        UpdateService(RUNNING[1], 1, new[1], "release 2 -> 3: release, image changed"),
        UpdateService(RUNNING[2], 1, new[2], "release 2 -> 3: release, image changed"),
    ]


def test_command_env_limits_volumes_and_stop_timeout_changes_are_rolling_updates() -> None:
    observed = [
        running(WEB, env={"DEBUG": "1", "PORT": "8000"}, stop_timeout=10),
        running(BEAT, command="celery beat -l debug"),
        running(WORKER, limits=Limits(), volumes={}),
    ]

    assert diff_services(DESIRED, observed) == [
        UpdateService(observed[0], 2, WEB, "env, stop timeout changed"),
        UpdateService(observed[1], 1, BEAT, "command changed"),
        UpdateService(observed[2], 1, WORKER, "volumes, limits changed"),
    ]


def test_a_replica_only_change_is_just_a_scale() -> None:
    observed = [running(WEB, replicas=1), RUNNING[1], running(WORKER, replicas=3)]

    assert diff_services(DESIRED, observed) == [
        UpdateService(observed[0], 2, None, "scale 1 -> 2"),
        UpdateService(observed[2], 1, None, "scale 3 -> 1"),
    ]


def test_an_update_that_also_scales_carries_the_new_count() -> None:
    new = desired_processes(replace(RELEASE, release=3, scale={"web": 4}))
    observed = [RUNNING[0]]

    assert diff_services(new[:1], observed) == [
        UpdateService(observed[0], 4, new[0], "release 2 -> 3: release changed")
    ]


def test_scaled_to_zero_keeps_the_service_with_no_tasks() -> None:
    idle = desired_processes(replace(RELEASE, scale={"web": 2, "worker": 0}))

    assert diff_services(idle, RUNNING) == [UpdateService(RUNNING[2], 0, None, "scale 1 -> 0")]


def test_dropped_processes_and_gone_apps_are_removed_first() -> None:
    clock = running(replace(WORKER, process="clock"))
    shop = running(replace(WEB, app="shop"))
    new = desired_processes(replace(RELEASE, release=3))

    assert diff_services(new, [shop, *RUNNING[:2], clock]) == [
        RemoveService(clock, "the live release has no clock process"),
        RemoveService(shop, "its app is deleted or stopped"),
        UpdateService(RUNNING[0], 2, new[0], "release 2 -> 3: release changed"),
        UpdateService(RUNNING[1], 1, new[1], "release 2 -> 3: release changed"),
        CreateService(new[2], "missing"),
    ]


def test_apps_being_deployed_are_left_alone() -> None:
    shop = running(replace(WEB, app="shop"))
    stale = running(WEB, replicas=1)

    assert diff_services(DESIRED, [stale, shop], skip_apps={"blog", "shop"}) == []


def test_two_live_releases_of_one_app_are_refused() -> None:
    other = desired_processes(replace(RELEASE, release=3))

    with pytest.raises(ValueError, match="two releases of blog want service i-blog-web"):
        diff_services([*DESIRED, *other], RUNNING)
