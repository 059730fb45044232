"""A deployment's log while it runs: a Redis Stream that followers read live.

Lines are appended as the build streams them; when the deployment ends the whole text is copied to
the database (the durable copy) and the stream expires.

Each entry's stream id is `0-<line number>`, so an offset (the number of lines a reader already has)
means the same in the stream and in the saved text: a follower that reconnects with it gets the rest,
without a gap or a repeat, whichever of the two it reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import redis
import redis.asyncio

STREAM_MAXLEN = 100_000
EXPIRE_AFTER_END_SECONDS = 3600

# Numbers entries atomically (several writers may append: a worker and beat's stuck check), on any Redis
# with streams; `XADD key 0-*` would need Redis 7.
_APPEND = """
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local n = 0
if #top > 0 then n = tonumber(string.match(top[1][1], '%-(%d+)$')) end
for i = 3, #ARGV do
  n = n + 1
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '0-' .. n, ARGV[2], ARGV[i])
end
return n
"""


@dataclass(frozen=True)
class LogChunk:
    """Lines read from the log, the offset after them (lines read in all), and whether the log has ended."""

    lines: list[str]
    offset: int
    ended: bool


def log_key(instance: str, deployment_id: int, created_at: datetime) -> str:
    """The stream's key. The creation time makes it unique to this row: ids repeat when a database is reset
    while Redis still holds the old streams, and a follower must never read another deployment's log."""
    return f"dockyard:{instance}:deploy-log:{deployment_id}:{created_at.timestamp():.6f}"


def saved_lines(text: str) -> list[str]:
    """The lines of a log saved as text, counted as the stream counts them."""
    return text.split("\n")[:-1] if text else []


class DeployLog:
    """The live log of one deployment."""

    def __init__(
        self, client: redis.Redis, *, instance: str, deployment_id: int, created_at: datetime
    ) -> None:
        self._redis = client
        self.key = log_key(instance, deployment_id, created_at)
        self._append = client.register_script(_APPEND)

    def restart(self) -> None:
        """Forget anything logged before: a deployment run again (after a lost worker) starts over."""
        self._redis.delete(self.key)

    def append(self, line: str) -> None:
        """Add one line (text with newlines counts as one line each)."""
        self._append(keys=[self.key], args=[STREAM_MAXLEN, "line", *line.split("\n")])

    def end(self) -> None:
        """Mark the log finished; followers stop after this."""
        self._append(keys=[self.key], args=[STREAM_MAXLEN, "end", "1"])
        self._redis.expire(self.key, EXPIRE_AFTER_END_SECONDS)

    def text(self) -> str:
        """Everything logged so far."""
        return "".join(f"{line}\n" for line in self.read().lines)

    def read(self, after: int = 0, *, block_ms: int | None = None) -> LogChunk:
        """Lines after the first `after`; waits up to `block_ms` for new ones when given."""
        if block_ms is None:
            return parse_entries(self._redis.xrange(self.key, min=f"0-{after + 1}"), after)
        answer: Any = self._redis.xread({self.key: f"0-{after}"}, block=block_ms)
        return parse_entries(answer[0][1] if answer else [], after)


class AsyncDeployLogReader:
    """Reads the live log of one deployment without holding a thread while it waits."""

    def __init__(self, client: redis.asyncio.Redis, key: str) -> None:
        self._redis = client
        self.key = key

    async def exists(self) -> bool:
        """Whether anything was logged (and not expired yet)."""
        return bool(await self._redis.exists(self.key))

    async def read(self, after: int, *, block_ms: int) -> LogChunk:
        """Lines after the first `after`, waiting up to `block_ms` for some."""
        answer: Any = await self._redis.xread({self.key: f"0-{after}"}, block=block_ms)
        return parse_entries(answer[0][1] if answer else [], after)


def parse_entries(entries: Any, after: int) -> LogChunk:
    """A chunk from stream entries (id, fields) that follow line `after`."""
    lines: list[str] = []
    offset = after
    for entry_id, fields in entries:
        if b"end" in fields or "end" in fields:
            return LogChunk(lines=lines, offset=offset, ended=True)
        line = fields.get(b"line", fields.get("line", b""))
        lines.append(line.decode() if isinstance(line, bytes) else line)
        offset = int(_text(entry_id).partition("-")[2])
    return LogChunk(lines=lines, offset=offset, ended=False)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
