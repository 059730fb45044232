"""A deployment's log while it runs: a Redis Stream that followers read live.

Lines are appended as the build streams them; when the deployment ends the whole text is copied to
the database (the durable copy) and the stream expires.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis

STREAM_MAXLEN = 100_000
EXPIRE_AFTER_END_SECONDS = 3600


@dataclass(frozen=True)
class LogChunk:
    """Lines read from the stream, the offset to resume from, and whether the log has ended."""

    lines: list[str]
    offset: str
    ended: bool


class DeployLog:
    """The live log of one deployment."""

    def __init__(
        self, client: redis.Redis, *, instance: str, deployment_id: int, created_at: datetime
    ) -> None:
        self._redis = client
        # The creation time makes the key unique to this row: ids repeat when a database is reset while
        # Redis still holds the old streams, and a follower must never read another deployment's log.
        self.key = f"dockyard:{instance}:deploy-log:{deployment_id}:{created_at.timestamp():.6f}"

    def restart(self) -> None:
        """Forget anything logged before: a deployment run again (after a lost worker) starts over."""
        self._redis.delete(self.key)

    def append(self, line: str) -> None:
        """Add one line."""
        self._redis.xadd(self.key, {"line": line}, maxlen=STREAM_MAXLEN, approximate=True)

    def end(self) -> None:
        """Mark the log finished; followers stop after this."""
        self._redis.xadd(self.key, {"end": "1"})
        self._redis.expire(self.key, EXPIRE_AFTER_END_SECONDS)

    def text(self) -> str:
        """Everything logged so far."""
        return "".join(f"{line}\n" for line in self.read().lines)

    def read(self, offset: str = "0", *, block_ms: int | None = None) -> LogChunk:
        """Lines after `offset` (a stream id); waits up to `block_ms` for new ones when given."""
        entries: Any
        if block_ms is None:
            entries = self._redis.xrange(self.key, min=f"({offset}" if offset != "0" else "-")
        else:
            answer: Any = self._redis.xread({self.key: offset}, block=block_ms)
            entries = answer[0][1] if answer else []
        lines: list[str] = []
        ended = False
        for entry_id, fields in entries:
            offset = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
            if b"end" in fields or "end" in fields:
                ended = True
                break
            line = fields.get(b"line", fields.get("line", b""))
            lines.append(line.decode() if isinstance(line, bytes) else line)
        return LogChunk(lines=lines, offset=offset, ended=ended)

    def follow(self, offset: str = "0", *, idle_check_ms: int = 1000) -> Iterator[str | None]:
        """Yield lines as they come until the log ends; yields None on each idle wait (a keep-alive)."""
        while True:
            chunk = self.read(offset, block_ms=idle_check_ms)
            offset = chunk.offset
            yield from chunk.lines
            if chunk.ended:
                return
            if not chunk.lines:
                yield None
