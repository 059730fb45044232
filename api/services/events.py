"""Docker events as a reconcile trigger: a container of ours that dies or vanishes is noticed at once."""

from __future__ import annotations

import threading
from collections.abc import Callable

import docker
import redis
import requests.exceptions

from core import labels
from core.settings import Settings

WATCHED = ("start", "die", "destroy", "oom")
RECONNECT_SECONDS = 2.0
DEBOUNCE_SECONDS = 1


def watch_engine_events(settings: Settings, trigger: Callable[[], None], stop: threading.Event) -> None:
    """Call `trigger` when one of this instance's containers starts, dies or is removed, until `stop`.

    Reconnects when the engine goes away (it restarted: everything needs a look, so it triggers too).
    """
    while not stop.is_set():
        client = None
        try:
            client = docker.from_env()
            events = client.events(
                filters={
                    "type": "container",
                    "label": f"{labels.INSTANCE}={settings.instance}",
                    "event": list(WATCHED),
                },
                decode=True,
            )
            trigger()  # anything may have changed while nobody listened
            for _event in events:
                if stop.is_set():
                    break
                trigger()
        except (docker.errors.DockerException, requests.exceptions.RequestException):
            stop.wait(RECONNECT_SECONDS)
        finally:
            if client is not None:
                client.close()


def debounced(settings: Settings, redis_client: redis.Redis, send: Callable[[], None]) -> Callable[[], None]:
    """`send` at most once a second across every process of this instance (a deploy fires many events).

    `send` should run its pass a second later, so that the pass sees the end of a burst, not its start.
    """
    key = f"dockyard:{settings.instance}:reconcile-requested"

    def trigger() -> None:
        try:
            if redis_client.set(key, "1", nx=True, ex=DEBOUNCE_SECONDS):
                send()
        except redis.RedisError:
            pass  # the periodic pass still comes

    return trigger
