"""Desired state: a release in, whole process and container specs out."""

from __future__ import annotations

from scheduler.desired import (
    Limits,
    ProcessSpec,
    Release,
    ServiceSpec,
    app_network,
    desired_containers,
    desired_processes,
    free_subnet,
    volume_name,
)

BLOG = Release(
    instance="dockyard",
    app="blog",
    release=7,
    image="dockyard/blog:7",
    processes={
        "worker": "celery -A site worker",
        "web": "gunicorn site.wsgi --bind 0.0.0.0:$PORT",
        "beat": "celery -A site beat",
    },
    env={"DEBUG": "0", "PORT": "5000"},
    port=8000,
    volumes={"media": "/app/media"},
    scale={"web": 2, "worker": 3, "beat": 4},
    limits={"worker": Limits(memory=512 * 2**20, cpus=0.5)},
    stop_timeout=20,
)


def labels(process: str, replica: int | None = None) -> dict[str, str]:
    found = {
        "dockyard.instance": "dockyard",
        "dockyard.app": "blog",
        "dockyard.service": process,
        "dockyard.release": "7",
    }
    return found if replica is None else {**found, "dockyard.replica": str(replica)}


def test_processes_are_web_first_and_beat_is_a_singleton() -> None:
    processes = desired_processes(BLOG)

    assert [(p.process, p.replicas) for p in processes] == [("web", 2), ("beat", 1), ("worker", 3)]
    assert processes[2] == ProcessSpec(
        instance="dockyard",
        app="blog",
        process="worker",
        release=7,
        image="dockyard/blog:7",
        command="celery -A site worker",
        env={"DEBUG": "0", "PORT": "8000"},
        port=None,
        replicas=3,
        volumes={"dockyard-blog-media": "/app/media"},
        network="dockyard-blog",
        limits=Limits(memory=512 * 2**20, cpus=0.5),
        stop_timeout=20,
        labels=labels("worker"),
    )


def test_each_replica_is_a_container_with_a_predictable_name() -> None:
    containers = desired_containers(BLOG)

    assert [c.name for c in containers] == [
        "dockyard-blog-web-7-1",
        "dockyard-blog-web-7-2",
        "dockyard-blog-beat-7-1",
        "dockyard-blog-worker-7-1",
        "dockyard-blog-worker-7-2",
        "dockyard-blog-worker-7-3",
    ]
    assert containers[1] == ServiceSpec(
        instance="dockyard",
        app="blog",
        service="web",
        release=7,
        replica=2,
        image="dockyard/blog:7",
        command="gunicorn site.wsgi --bind 0.0.0.0:$PORT",
        # PORT is the platform's: the proxy and the health check only know this one.
        env={"DEBUG": "0", "PORT": "8000"},
        port=8000,
        volumes={"dockyard-blog-media": "/app/media"},
        network="dockyard-blog",
        name="dockyard-blog-web-7-2",
        labels=labels("web", 2),
        limits=Limits(),
        stop_timeout=20,
    )


def test_a_process_scaled_to_zero_runs_nothing_and_a_missing_scale_means_one() -> None:
    release = Release(
        instance="i",
        app="a",
        release=1,
        image="img",
        processes={"web": None, "worker": "w"},
        scale={"web": 0},
    )

    assert [(c.service, c.command) for c in desired_containers(release)] == [("worker", "w")]


def test_names_are_scoped_by_instance_and_app() -> None:
    assert app_network("dockyard", "blog") == "dockyard-blog"
    assert volume_name("dockyard", "blog", "data") == "dockyard-blog-data"


def test_app_networks_take_the_first_free_subnet_of_the_pool() -> None:
    taken = ["10.213.0.0/24", "172.17.0.0/16", "10.213.1.128/25"]

    assert free_subnet("10.213.0.0/16", taken) == "10.213.2.0/24"
    assert free_subnet("10.213.0.0/23", taken) is None


def test_a_volume_for_one_process_is_mounted_only_there() -> None:
    release = Release(
        instance="i",
        app="a",
        release=1,
        image="img",
        processes={"web": None, "worker": "w"},
        volumes={"media": "/app/media"},
        process_volumes={"worker": {"scratch": "/scratch"}},
    )

    assert {c.service: c.volumes for c in desired_containers(release)} == {
        "web": {"i-a-media": "/app/media"},
        "worker": {"i-a-media": "/app/media", "i-a-scratch": "/scratch"},
    }
