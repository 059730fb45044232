"""Following a deployment's build and release log from an offset, for chunked HTTP and WebSockets.

A running deployment's lines come from its Redis stream, a finished one's from the text saved in the
database; both count lines the same way (see core.deploy_log), so a reader that reconnects with the
number of lines it has gets the rest, whichever it reads. Waiting is async: a follower holds no thread.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import anyio
import redis.asyncio

from core.db import session_scope
from core.deploy_log import AsyncDeployLogReader, log_key, saved_lines
from core.models import Deployment, DeploymentStatus
from core.settings import Settings

IDLE_MS = 1000
# A finished deployment whose log was never saved (its worker was killed between going live and saving)
# is followed this long after its last line, then given up on.
UNSAVED_GRACE_SECONDS = 30.0
# The final status is committed just after the log's end is written (beat's stuck check): wait this long.
FINAL_STATUS_WAIT_SECONDS = 5.0


@dataclass(frozen=True)
class LogLine:
    """One line and the offset after it: the number of lines a reader has once it got this one."""

    offset: int
    text: str


@dataclass(frozen=True)
class Snapshot:
    """What the database says about a deployment now."""

    status: str
    log: str | None
    key: str

    @property
    def running(self) -> bool:
        return DeploymentStatus(self.status).is_active


def snapshot(settings: Settings, deployment_id: int) -> Snapshot | None:
    """The deployment's status and saved log (None once it is deleted); a short blocking read."""
    with session_scope() as session:
        deployment = session.get(Deployment, deployment_id)
        if deployment is None:
            return None
        return Snapshot(
            status=deployment.status,
            log=deployment.log,
            key=log_key(settings.instance, deployment.id, deployment.created_at),
        )


async def follow_log(
    client: redis.asyncio.Redis, settings: Settings, *, deployment_id: int, offset: int
) -> AsyncIterator[LogLine]:
    """The log's lines after the first `offset`, as they come, until the log ends."""
    current = await _snapshot(settings, deployment_id)
    if current is None:
        return
    stream = AsyncDeployLogReader(client, current.key)
    last_line = time.monotonic()
    while True:
        if current.log is not None:  # saved: the stream has ended (or expired), the text is whole
            for text in saved_lines(current.log)[offset:]:
                offset += 1
                yield LogLine(offset, text)
            return
        if not current.running and not await stream.exists():
            return  # it ended without running (the queue refused it): nothing was or will be logged
        chunk = await stream.read(offset, block_ms=IDLE_MS)
        for text in chunk.lines:
            offset += 1
            yield LogLine(offset, text)
        if chunk.ended:
            return
        if chunk.lines:
            last_line = time.monotonic()
            continue
        # Idle: look again at the database (saved meanwhile, or its worker gone for good).
        current = await _snapshot(settings, deployment_id)
        if current is None:
            return
        unsaved = current.log is None and not current.running
        if unsaved and time.monotonic() - last_line > UNSAVED_GRACE_SECONDS:
            return


async def final_status(settings: Settings, deployment_id: int, last_known: str) -> str:
    """The status a deployment ended with, once its log has ended."""
    deadline = time.monotonic() + FINAL_STATUS_WAIT_SECONDS
    while True:
        current = await _snapshot(settings, deployment_id)
        if current is None:
            return last_known
        if not current.running or time.monotonic() > deadline:
            return current.status
        await anyio.sleep(0.2)


async def _snapshot(settings: Settings, deployment_id: int) -> Snapshot | None:
    return await anyio.to_thread.run_sync(snapshot, settings, deployment_id)
