"""An app's runtime logs: what its process containers write, one line each as

    2026-11-22T23:50:01.123456Z web.1 | the line

read from the engine (its own timestamps), merged in time order, or followed live.
"""

from __future__ import annotations

import heapq
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import docker

from scheduler.runtime.docker import DockerRuntime

# How long the follower waits for a line before it yields nothing, which lets the server notice that the
# client went away, and how often it looks for containers that (re)started.
IDLE_SECONDS = 1.0
RESCAN_SECONDS = 2.0
BUFFERED_LINES = 10_000
RUNNING_STATES = ("running", "restarting")


def format_line(source: str, raw: str) -> str:
    """`<time, microseconds> <source> | <text>` from one of the engine's timestamped lines."""
    stamp, _, text = raw.partition(" ")
    return f"{_stamp(stamp, digits=6)} {source} | {text}"


def read_logs(runtime: DockerRuntime, app: str, *, process: str | None, tail: int) -> str:
    """The last `tail` lines of the app's containers (of `process`, or all), merged in time order."""
    per_container = []
    for source in runtime.log_sources(app, process):
        lines, _stream = runtime.logs(source["id"], tail=tail, follow=False)
        per_container.append([(_stamp(raw.partition(" ")[0]), source["source"], raw) for raw in lines])
    merged = list(heapq.merge(*per_container))[-tail:] if tail else []
    return "".join(f"{format_line(source, raw)}\n" for _stamp_key, source, raw in merged)


def follow_logs(runtime: DockerRuntime, app: str, *, process: str | None, tail: int) -> Iterator[str]:
    """The last `tail` lines of each container, then new lines as they come, until the consumer stops.

    A thread per container feeds one queue. Containers that start later (a deploy, a scale-up, a restart)
    are picked up within RESCAN_SECONDS. Closing the generator (the client went away) ends the threads.
    """
    follower = _Follower(runtime, app, process, tail)
    try:
        while True:
            follower.scan()
            deadline = time.monotonic() + RESCAN_SECONDS
            while time.monotonic() < deadline:
                try:
                    yield follower.lines.get(timeout=IDLE_SECONDS)
                except queue.Empty:
                    yield ""  # nothing to say; a write lets the server notice a client that went away
    finally:
        follower.close()


@dataclass
class _Attached:
    source: str
    last: str | None = None  # the newest engine timestamp seen, so a re-attach repeats nothing
    ended: bool = False


class _Follower:
    def __init__(self, runtime: DockerRuntime, app: str, process: str | None, tail: int) -> None:
        self.runtime = runtime
        self.app = app
        self.process = process
        self.tail = tail
        self.lines: queue.Queue[str] = queue.Queue(maxsize=BUFFERED_LINES)
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
                known = self.attached[found["id"]] = _Attached(found["source"])
                since = None if self.first_scan else self.started
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
                stamp = _stamp(raw.partition(" ")[0])
                if attached.last is not None and stamp <= attached.last:
                    continue  # `since` is inclusive: seen before this container was followed again
                attached.last = stamp
                if not self._put(format_line(attached.source, raw) + "\n"):
                    return
        finally:
            attached.ended = True

    def _put(self, line: str) -> bool:
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
