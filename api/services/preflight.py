"""Checks made before the platform starts: a missing dependency or a too-small host is one clear sentence."""

from __future__ import annotations

import shutil
from pathlib import Path

import docker
import redis
from docker.utils import parse_bytes

from core.errors import ConfigError
from core.settings import Settings

GIB = 2**30
# What the platform's own processes (API, workers, beat, Redis, Caddy) need besides the builds.
PLATFORM_MEMORY = 1 * GIB
# Room for base images, a few releases per app and the build that is running.
MIN_FREE_DISK = 3 * GIB


def check_dependencies(settings: Settings) -> None:
    """Raise ConfigError naming the first of Docker, Redis, memory and disk that is missing or too small."""
    try:
        client = docker.from_env()
        try:
            total_memory = int(client.info()["MemTotal"])
        finally:
            client.close()
    except docker.errors.DockerException as error:
        raise ConfigError(
            f"the Docker engine does not answer ({error}); start it (deploy/provision.sh does) "
            "or set DOCKER_HOST"
        ) from error
    try:
        redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        raise ConfigError(
            f"Redis does not answer at {settings.redis_url} ({error}); start it or set DOCKYARD_REDIS_URL"
        ) from error
    problem = host_too_small(
        total_memory=total_memory,
        free_disk=free_disk(settings.data_dir),
        build_memory=parse_bytes(settings.build_memory),
    )
    if problem is not None:
        raise ConfigError(problem)


def host_too_small(*, total_memory: int, free_disk: int, build_memory: int) -> str | None:
    """What is too small on this host, and what to do about it; None when it fits."""
    needed = PLATFORM_MEMORY + build_memory
    if total_memory < needed:
        return (
            f"this host has {total_memory / GIB:.1f} GiB of memory; Dockyard needs {needed / GIB:.1f} GiB "
            f"({PLATFORM_MEMORY / GIB:.0f} GiB for its own processes and {build_memory / GIB:.1f} GiB for a "
            "build, DOCKYARD_BUILD_MEMORY): use a larger host or lower DOCKYARD_BUILD_MEMORY (at least 512m)"
        )
    if free_disk < MIN_FREE_DISK:
        return (
            f"only {free_disk / GIB:.1f} GiB of disk is free where Dockyard keeps its data; it needs "
            f"{MIN_FREE_DISK / GIB:.0f} GiB for images and builds: free some space "
            "(`docker image prune` removes unused images) or grow the disk"
        )
    return None


def free_disk(data_dir: Path) -> int:
    """Free bytes on the filesystem of `data_dir` (or of its nearest existing parent).

    In the container install the data directory is a volume, so this is the engine's own disk.
    """
    path = data_dir
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free
