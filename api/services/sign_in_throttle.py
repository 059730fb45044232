"""Slows password guessing: after too many failed sign-ins for one username, refuse for a while.

Counted in Redis, so every API process shares the count. When Redis does not answer, sign-in still
works (unthrottled) rather than locking everyone out.
"""

from __future__ import annotations

import logging

import redis

from core.errors import TooManyRequests
from core.settings import Settings

log = logging.getLogger(__name__)

MAX_FAILURES = 10
WINDOW_SECONDS = 15 * 60


def _key(settings: Settings, username: str) -> str:
    return f"dockyard:{settings.instance}:sign-in-failures:{username.strip().lower()}"


def check(client: redis.Redis, settings: Settings, username: str) -> None:
    """Refuse (429) while `username` has had too many failures in the window."""
    try:
        failures = int(client.get(_key(settings, username)) or 0)
        wait = client.ttl(_key(settings, username))
    except redis.RedisError as error:
        log.warning("sign-in throttle unavailable: %s", error)
        return
    if failures >= MAX_FAILURES:
        minutes = max(1, (int(wait) + 59) // 60)
        raise TooManyRequests(
            f"too many failed sign-ins for {username.strip().lower()!r}: try again in {minutes} minute(s), "
            "or ask the site administrator to reset the password"
        )


def record_failure(client: redis.Redis, settings: Settings, username: str) -> None:
    """Count one failed sign-in; the count expires a window after the first failure."""
    key = _key(settings, username)
    try:
        with client.pipeline() as pipe:
            pipe.incr(key)
            pipe.expire(key, WINDOW_SECONDS, nx=True)
            pipe.execute()
    except redis.RedisError as error:
        log.warning("sign-in throttle unavailable: %s", error)


def clear(client: redis.Redis, settings: Settings, username: str) -> None:
    """Forget the failures after a successful sign-in."""
    try:
        client.delete(_key(settings, username))
    except redis.RedisError as error:
        log.warning("sign-in throttle unavailable: %s", error)
