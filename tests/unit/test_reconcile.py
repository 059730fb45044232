"""diff(desired, observed): whole action lists for the situations the reconcile loop meets."""

from __future__ import annotations

import pytest

from scheduler.desired import Release, desired_containers
from scheduler.reconcile import Observed, Remove, Start, diff

RELEASE = Release(
    instance="i",
    app="blog",
    release=2,
    image="i/blog:2",
    processes={"web": None, "worker": "celery worker", "beat": "celery beat"},
    scale={"web": 2},
)
DESIRED = desired_containers(RELEASE)
WEB1, WEB2, BEAT, WORKER = DESIRED


def seen(name: str, state: str = "running", *, app: str = "blog", release: int = 2) -> Observed:
    service = name.split("-")[2] if name.count("-") >= 4 else "web"
    return Observed(id=f"id-{name}", name=name, app=app, service=service, release=release, state=state)


RUNNING = [seen(spec.name) for spec in DESIRED]


def test_nothing_to_do_when_everything_runs() -> None:
    assert diff(DESIRED, RUNNING) == []


def test_a_missing_or_stopped_container_is_started_again() -> None:
    observed = [seen(WEB1.name, "exited"), seen(BEAT.name), seen(WORKER.name, "restarting")]

    assert diff(DESIRED, observed) == [Start(WEB1, "was exited"), Start(WEB2, "missing")]


def test_orphans_are_removed_before_anything_starts() -> None:
    old_beat = seen("i-blog-beat-1-1", release=1)
    extra_worker = seen("i-blog-worker-2-2")
    gone = seen("i-shop-web-4-1", app="shop", release=4)
    observed = [*RUNNING[:2], old_beat, extra_worker, gone, seen(WORKER.name)]

    assert diff(DESIRED, observed) == [
        Remove(old_beat, "release 1 is no longer live"),
        Remove(extra_worker, "scaled down"),
        Remove(gone, "its app is deleted or stopped"),
        Start(BEAT, "missing"),
    ]


def test_a_process_the_live_release_dropped_is_removed() -> None:
    clock = seen("i-blog-clock-2-1")

    assert diff(DESIRED, [*RUNNING, clock]) == [Remove(clock, "the live release has no clock process")]


def test_apps_being_deployed_are_left_alone() -> None:
    new_release = seen("i-blog-web-3-1", release=3)

    assert diff(DESIRED, [new_release], skip_apps={"blog"}) == []


def test_two_beats_are_never_started() -> None:
    twin = desired_containers(
        Release(instance="i", app="blog", release=3, image="x", processes={"beat": "b"})
    )

    with pytest.raises(ValueError, match="two beat containers"):
        diff([BEAT, *twin], [])
