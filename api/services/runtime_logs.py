"""An app's runtime logs: what its process containers write, one line each as

    2026-11-22T23:50:01.123456Z web.1 | the line

read from the engine (its own timestamps), merged in time order, or followed live. A reader resumes
with `since`, the time of the last line it has: it gets the lines written after it.
"""

from __future__ import annotations

import heapq
import math
import queue
import re
import threading
import time
from collections.abc import Generator, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime

import docker

from core.errors import ConfigError
from scheduler.runtime.docker import DockerRuntime

# How long the follower waits for a line before it yields nothing, which lets the server notice that the
# client went away, and how often it looks for containers that (re)started.
IDLE_SECONDS = 1.0
RESCAN_SECONDS = 2.0
BUFFERED_LINES = 10_000
RUNNING_STATES = ("running", "restarting")
DEFAULT_TAIL = 100
SINCE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")


@dataclass(frozen=True, order=True)
class RuntimeLine:
    """One line a container wrote: the engine's time (nanoseconds, so that it sorts as text), where from."""

    time: str
    source: str
    text: str

    def formatted(self) -> str:
        """`<time, microseconds> <source> | <text>`."""
        return f"{self.time[:-4]}Z {self.source} | {self.text}"


def parse_line(source: str, raw: str) -> RuntimeLine:
    """A line from one of the engine's timestamped lines."""
    stamp, _, text = raw.partition(" ")
    return RuntimeLine(_stamp(stamp), source, text)


def resume_point(since: str) -> str:
    """The time after which lines are new to a reader that has every line up to `since`.

    `since` counts at the precision given: `…:01.123456Z` (as the text lines show it) covers every line
    of that microsecond, so none is sent twice.
    """
    if not SINCE.match(since):
        raise ConfigError(
            f"{since!r} is not a log time; give the time of the last line you have, "
            "like 2026-11-22T23:50:01.123456Z",
            where="since",
        )
    head, _, fraction = since.removesuffix("Z").partition(".")
    return f"{head}.{(fraction + '9' * 9)[:9]}Z"


def default_tail(since: str | None) -> int | None:
    """How many lines to show when the reader does not say: the last DEFAULT_TAIL, or all after `since`."""
    return None if since else DEFAULT_TAIL


def read_logs(
    runtime: DockerRuntime, app: str, *, process: str | None, tail: int | None, since: str | None = None
) -> str:
    """The app's log as text: see read_lines."""
    return "".join(
        f"{line.formatted()}\n" for line in read_lines(runtime, app, process=process, tail=tail, since=since)
    )


def read_lines(
    runtime: DockerRuntime, app: str, *, process: str | None, tail: int | None, since: str | None = None
) -> list[RuntimeLine]:
    """The last `tail` lines (None: all) of the app's containers (of `process`, or all), after `since` when
    given, merged in time order."""
    after = resume_point(since) if since else None
    per_container = []
    for source in runtime.log_sources(app, process):
        raws, _stream = runtime.logs(
            source["id"], tail=None if after else tail, follow=False, since=_engine_since(after)
        )
        lines = [parse_line(source["source"], raw) for raw in raws]
        per_container.append([line for line in lines if after is None or line.time > after])
    merged = list(heapq.merge(*per_container))
    if tail is None:
        return merged
    return merged[-tail:] if tail else []


def follow_logs(
    runtime: DockerRuntime, app: str, *, process: str | None, tail: int | None, since: str | None = None
) -> Iterator[str]:
    """follow_lines as text; an empty string when idle."""
    with closing(follow_lines(runtime, app, process=process, tail=tail, since=since)) as lines:
        for line in lines:
            yield "" if line is None else f"{line.formatted()}\n"


def follow_lines(
    runtime: DockerRuntime, app: str, *, process: str | None, tail: int | None, since: str | None = None
) -> Generator[RuntimeLine | None]:
    """The last `tail` lines of each container (or those after `since`), then new lines as they come, until
    the consumer stops; None each idle second, which lets the server notice a client that went away.

    A thread per container feeds one queue. Containers that start later (a deploy, a scale-up, a restart)
    are picked up within RESCAN_SECONDS. Closing the generator (the client went away) ends the threads.
    """
    follower = _Follower(runtime, app, process, tail, resume_point(since) if since else None)
    try:
        while True:
            follower.scan()
            deadline = time.monotonic() + RESCAN_SECONDS
            while time.monotonic() < deadline:
                try:
                    yield follower.lines.get(timeout=IDLE_SECONDS)
                except queue.Empty:
                    yield None
    finally:
        follower.close()


@dataclass
class _Attached:
    source: str
    last: str | None = None  # the newest engine timestamp seen, so a re-attach repeats nothing
    ended: bool = False


class _Follower:
    def __init__(
        self, runtime: DockerRuntime, app: str, process: str | None, tail: int | None, after: str | None
    ) -> None:
        self.runtime = runtime
        self.app = app
        self.process = process
        self.tail = None if after else tail
        self.after = after
        self.lines: queue.Queue[RuntimeLine] = queue.Queue(maxsize=BUFFERED_LINES)
        self.stop = threading.Event()
        self.attached: dict[str, _Attached] = {}
        self.streams: list[docker.types.CancellableStream] = []
        self.first_scan = True
        self.started = time.time()

    def scan(self) -> None:
        """Attach to containers not followed yet: all of them at first, later the running ones."""
        for found in self.runtime.log_sources(self.app, self.process):
            known = self.attached.get(found["id"])
            if known is not None and not known.ended:
                continue
            if not self.first_scan and found["state"] not in RUNNING_STATES:
                continue
            if known is None:
                known = self.attached[found["id"]] = _Attached(found["source"], last=self.after)
                since = _engine_since(self.after) if self.first_scan else self.started
            else:
                since = _unix(known.last) if known.last else self.started
            known.ended = False
            lines, stream = self.runtime.logs(
                found["id"], tail=self.tail if self.first_scan else None, follow=True, since=since
            )
            self.streams.append(stream)
            threading.Thread(target=self._pump, args=(known, lines), daemon=True).start()
        self.first_scan = False

    def _pump(self, attached: _Attached, lines: Iterator[str]) -> None:
        try:
            for raw in lines:
                line = parse_line(attached.source, raw)
                if attached.last is not None and line.time <= attached.last:
                    continue  # `since` is inclusive: seen before this container was followed again
                attached.last = line.time
                if not self._put(line):
                    return
        finally:
            attached.ended = True

    def _put(self, line: RuntimeLine) -> bool:
        while not self.stop.is_set():
            try:
                self.lines.put(line, timeout=IDLE_SECONDS)
                return True
            except queue.Full:
                continue  # a slow client: wait for it rather than drop lines
        return False

    def close(self) -> None:
        self.stop.set()
        for stream in self.streams:
            stream.close()


def _stamp(stamp: str, digits: int = 9) -> str:
    """An engine timestamp with exactly `digits` fractional digits, so that strings sort as times."""
    head, _, fraction = stamp.removesuffix("Z").partition(".")
    return f"{head}.{(fraction + '0' * 9)[:digits]}Z"


def _unix(stamp: str) -> float:
    return datetime.fromisoformat(_stamp(stamp, digits=6)).timestamp()


def _engine_since(after: str | None) -> int | None:
    """The engine's `since` (whole seconds, inclusive) for lines after `after`; they are filtered after."""
    return None if after is None else math.floor(_unix(after))
