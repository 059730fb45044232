"""Desired state: what should run for a release, as plain values (no I/O).

Names are derived here, in one place, so every backend, the reconciler and the cleanup code agree on them.
"""

from __future__ import annotations

from dataclasses import dataclass

from core import labels

WEB = "web"
WEB_PORT = 8000


@dataclass(frozen=True)
class ServiceSpec:
    """One container that should run: a replica of a service of an app's release."""

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


def app_network(instance: str, app: str) -> str:
    """The name of the bridge network an app's containers share."""
    return f"{instance}-{app}"


def volume_name(instance: str, app: str, volume: str) -> str:
    """The Docker volume name behind an app's named volume."""
    return f"{instance}-{app}-{volume}"


def container_name(instance: str, app: str, service: str, release: int, replica: int) -> str:
    """The predictable name of one replica's container."""
    return f"{instance}-{app}-{service}-{release}-{replica}"


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
    """The single web replica of `release`; `volumes` maps short volume names to mount paths."""
    replica = 1
    return ServiceSpec(
        instance=instance,
        app=app,
        service=WEB,
        release=release,
        replica=replica,
        image=image,
        command=command,
        # PORT wins over the app's own env: the proxy and health check only know this port.
        env={**env, "PORT": str(port)},
        port=port,
        volumes={volume_name(instance, app, short): path for short, path in volumes.items()},
        network=app_network(instance, app),
        name=container_name(instance, app, WEB, release, replica),
        labels=labels.owned(instance, app, service=WEB, release=str(release)),
    )
