"""Desired state: what should run for a release, as plain values (no I/O).

`desired_processes(release)` gives one ProcessSpec per process type; single-engine backends expand each into
one ServiceSpec (a container) per replica. Names are derived here, in one place, so every backend, the
reconciler and the cleanup code agree on them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from core import labels

WEB = "web"
BEAT = "beat"
WEB_PORT = 8000
SINGLETONS = frozenset({BEAT})
DEFAULT_NETWORK_POOL = "10.213.0.0/16"
APP_SUBNET_PREFIX = 24  # 254 containers per app  # two Celery beats would send every periodic task twice


@dataclass(frozen=True)
class Limits:
    """Resource limits of one process type; None means unlimited."""

    memory: int | None = None  # bytes
    cpus: float | None = None


@dataclass(frozen=True)
class Release:
    """Everything that decides what runs for one release of an app: the input of `desired_processes`."""

    instance: str
    app: str
    release: int
    image: str
    processes: Mapping[str, str | None]  # process type → command; None runs the image's CMD
    env: Mapping[str, str] = field(default_factory=dict)
    port: int = WEB_PORT
    volumes: Mapping[str, str] = field(default_factory=dict)  # short volume name → mount path
    # Volumes mounted in one process type only: process → short volume name → mount path.
    process_volumes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    scale: Mapping[str, int] = field(default_factory=dict)  # process type → replicas; missing means 1
    limits: Mapping[str, Limits] = field(default_factory=dict)
    stop_timeout: int = 30  # seconds between SIGTERM and SIGKILL


@dataclass(frozen=True)
class ProcessSpec:
    """One process type of a release, with how many replicas of it should run."""

    instance: str
    app: str
    process: str
    release: int
    image: str
    command: str | None
    env: Mapping[str, str]
    port: int | None  # the port the web process listens on; None for the others
    replicas: int
    volumes: Mapping[str, str]  # Docker volume name → mount path
    network: str
    limits: Limits
    stop_timeout: int
    labels: Mapping[str, str]


@dataclass(frozen=True)
class ServiceSpec:
    """One container that should run: a replica of a process of an app's release."""

    instance: str
    app: str
    service: str
    release: int
    replica: int
    image: str
    command: str | None  # None runs the image's own CMD
    env: dict[str, str]
    port: int
    volumes: dict[str, str]  # Docker volume name -> mount path in the container
    network: str
    name: str
    labels: dict[str, str]
    limits: Limits = Limits()
    stop_timeout: int = 30


def app_network(instance: str, app: str) -> str:
    """The name of the bridge network an app's containers share."""
    return f"{instance}-{app}"


def free_subnet(pool: str, taken: Iterable[str], prefix: int = APP_SUBNET_PREFIX) -> str | None:
    """The first `/prefix` subnet of `pool` that overlaps none of the `taken` subnets; None when full.

    Apps get their networks from Dockyard's own pool: the engine's default pools hold about 30 bridge
    networks, far fewer than the apps one host runs.
    """
    used = [ipaddress.ip_network(subnet, strict=False) for subnet in taken]
    for candidate in ipaddress.ip_network(pool).subnets(new_prefix=prefix):
        if not any(candidate.overlaps(network) for network in used):
            return str(candidate)
    return None


def volume_name(instance: str, app: str, volume: str) -> str:
    """The Docker volume name behind an app's named volume."""
    return f"{instance}-{app}-{volume}"


def container_name(instance: str, app: str, service: str, release: int, replica: int) -> str:
    """The predictable name of one replica's container."""
    return f"{instance}-{app}-{service}-{release}-{replica}"


def replicas_of(release: Release, process: str) -> int:
    """How many replicas of `process` should run; singletons never more than one."""
    wanted = max(0, release.scale.get(process, 1))
    return min(wanted, 1) if process in SINGLETONS else wanted


def desired_processes(release: Release) -> list[ProcessSpec]:
    """One spec per process type of `release`, web first, then by name."""
    order = sorted(release.processes, key=lambda name: (name != WEB, name))
    return [
        ProcessSpec(
            instance=release.instance,
            app=release.app,
            process=process,
            release=release.release,
            image=release.image,
            command=release.processes[process],
            # PORT wins over the app's own env: the proxy and health check only know this port.
            env={**release.env, "PORT": str(release.port)},
            port=release.port if process == WEB else None,
            replicas=replicas_of(release, process),
            volumes={
                volume_name(release.instance, release.app, name): path
                for name, path in {**release.volumes, **release.process_volumes.get(process, {})}.items()
            },
            network=app_network(release.instance, release.app),
            limits=release.limits.get(process, Limits()),
            stop_timeout=release.stop_timeout,
            labels=labels.owned(release.instance, release.app, service=process, release=str(release.release)),
        )
        for process in order
    ]


def containers_of(process: ProcessSpec) -> list[ServiceSpec]:
    """The containers a single-engine backend runs for `process`: one per replica, numbered from 1."""
    return [
        ServiceSpec(
            instance=process.instance,
            app=process.app,
            service=process.process,
            release=process.release,
            replica=replica,
            image=process.image,
            command=process.command,
            env=dict(process.env),
            port=process.port or WEB_PORT,
            volumes=dict(process.volumes),
            network=process.network,
            name=container_name(process.instance, process.app, process.process, process.release, replica),
            labels={**process.labels, labels.REPLICA: str(replica)},
            limits=process.limits,
            stop_timeout=process.stop_timeout,
        )
        for replica in range(1, process.replicas + 1)
    ]


def desired_containers(release: Release) -> list[ServiceSpec]:
    """Every container `release` should run, web first."""
    return [spec for process in desired_processes(release) for spec in containers_of(process)]


def web_service(
    *,
    instance: str,
    app: str,
    release: int,
    image: str,
    env: dict[str, str],
    volumes: dict[str, str],
    command: str | None = None,
    port: int = WEB_PORT,
) -> ServiceSpec:
    """The first web replica of `release`; `volumes` maps short volume names to mount paths."""
    spec = Release(
        instance=instance,
        app=app,
        release=release,
        image=image,
        processes={WEB: command},
        env=env,
        port=port,
        volumes=volumes,
    )
    return desired_containers(spec)[0]
