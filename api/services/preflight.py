"""Checks made before the platform starts, so a missing dependency is one clear sentence."""

from __future__ import annotations

import docker
import redis

from core.errors import ConfigError
from core.settings import Settings


def check_dependencies(settings: Settings) -> None:
    """Raise ConfigError naming the first of Docker and Redis that does not answer."""
    try:
        client = docker.from_env()
        client.ping()
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
