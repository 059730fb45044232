"""Deployment status changes pushed live: a Redis pub/sub channel per app that followers subscribe to.

`deployment_events.dispatch` publishes every committed change; WebSocket followers (an app's events,
a deployment's log) read them. Pub/sub keeps nothing: a follower sees the changes made while it listens,
and reads the current state from the database when it starts.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from functools import lru_cache

import redis
import redis.asyncio

from api.services.deployment_events import DeploymentChange
from core.settings import Settings

PUBLISH_TIMEOUT_SECONDS = 2.0
SUBSCRIBE_TIMEOUT_SECONDS = 5.0


def channel(settings: Settings, app_id: int) -> str:
    """The channel of one app's deployment changes."""
    return f"dockyard:{settings.instance}:deployments:{app_id}"


def publish(settings: Settings, changes: Iterable[DeploymentChange]) -> None:
    """Tell the app's followers; raises redis.RedisError when Redis does not answer."""
    client = _publisher(settings.redis_url)
    for change in changes:
        message = {"id": change.deployment_id, "app_id": change.app_id, "status": change.status}
        client.publish(channel(settings, change.app_id), json.dumps(message))


@lru_cache(maxsize=4)
def _publisher(url: str) -> redis.Redis:
    # One pool per process, shared by every commit; short timeouts, so an outage never stalls a commit.
    return redis.Redis.from_url(
        url, socket_connect_timeout=PUBLISH_TIMEOUT_SECONDS, socket_timeout=PUBLISH_TIMEOUT_SECONDS
    )


@asynccontextmanager
async def subscribed(
    client: redis.asyncio.Redis, settings: Settings, app_id: int
) -> AsyncIterator[AsyncIterator[DeploymentChange]]:
    """The app's changes from the moment this returns (Redis has confirmed the subscription)."""
    async with client.pubsub() as pubsub:
        await pubsub.subscribe(channel(settings, app_id))
        confirmed = await pubsub.get_message(timeout=SUBSCRIBE_TIMEOUT_SECONDS)
        if confirmed is None or confirmed["type"] != "subscribe":
            raise redis.TimeoutError("Redis did not confirm the subscription")
        yield _changes(pubsub)


async def _changes(pubsub: redis.asyncio.client.PubSub) -> AsyncIterator[DeploymentChange]:
    async for message in pubsub.listen():
        if message["type"] == "message":
            data = json.loads(message["data"])
            yield DeploymentChange(deployment_id=data["id"], app_id=data["app_id"], status=data["status"])
