"""Moving an app from its live release to a new one without dropping a request.

release command → start web → health check → start workers → switch traffic → (live) → replace singletons →
retire old workers → drain old web → retire old web. Until traffic switches, a failure removes everything
the new release started and leaves the old release serving as it was.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from api.services import routing
from core import labels
from core.deploy_log import DeployLog
from core.errors import DeployError
from core.settings import Settings
from scheduler import proxy
from scheduler.desired import SINGLETONS, WEB, ProcessSpec, Release, containers_of, desired_processes
from scheduler.reconcile import Observed
from scheduler.runtime.docker import DockerRuntime

RELEASE_LOG_LINES = 20


@dataclass(frozen=True)
class WebPolicy:
    """How the new web process proves itself, and how the old one leaves."""

    health_path: str
    startup_timeout: int
    drain: int
    request_timeout: int | None


class Rollout:
    """Runs the phases for one release; every phase logs one `-----> ` line."""

    def __init__(
        self, settings: Settings, runtime: DockerRuntime, admin: proxy.CaddyAdmin, log: DeployLog
    ) -> None:
        self.settings = settings
        self.runtime = runtime
        self.admin = admin
        self.log = log

    def run(
        self, release: Release, *, release_command: str | None, web: WebPolicy, make_live: Callable[[], None]
    ) -> None:
        """Deploy `release`; `make_live` records it as live once traffic has moved to it."""
        if release_command:
            self.run_release_command(release, release_command)
        processes = desired_processes(release)
        old = [c for c in self.runtime.observe() if c.app == release.app and c.release != release.release]
        started: list[str] = []
        try:
            upstreams = self._start_web(processes, web, started)
            for process in processes:
                if process.process != WEB and process.process not in SINGLETONS and process.replicas:
                    self.log.append(f"-----> Starting {process.process} ({process.replicas} replicas)")
                    started += [self.runtime.start(spec) for spec in containers_of(process)]
            if upstreams:
                self.log.append(
                    f"-----> Switching traffic for {self.settings.app_host(release.app)} to release "
                    f"{release.release} ({len(upstreams)} web replica{'s' if len(upstreams) > 1 else ''})"
                )
                routing.ensure_server(self.admin, self.settings)
                routing.point_route(
                    self.admin, self.settings, release.app, upstreams, request_timeout=web.request_timeout
                )
        except BaseException:
            self._remove(started)
            raise
        make_live()
        for process in processes:
            if process.process in SINGLETONS:
                self._replace_singleton(process, old)
        self._retire([c for c in old if c.service != WEB], why="old workers")
        old_web = [c for c in old if c.service == WEB]
        if old_web and web.drain:
            self.log.append(
                f"-----> Draining release {old_web[0].release} for {web.drain} s (open connections finish)"
            )
            time.sleep(web.drain)
        self._retire(old_web, why="old web")

    def run_release_command(self, release: Release, command: str) -> None:
        """Run `command` once in the new image, before anything moves; DeployError when it fails."""
        self.log.append(f"-----> Running the release command: {command}")
        spec = containers_of(
            replace(
                desired_processes(replace(release, processes={"release": command}, scale={"release": 1}))[0],
                labels={
                    **labels.owned(release.instance, release.app, release=str(release.release)),
                    labels.ONE_OFF: "release",
                },
            )
        )[0]
        exit_code, output = self.runtime.run_once(spec, timeout=self.settings.release_timeout)
        lines = output.rstrip().splitlines()
        for line in lines:
            self.log.append(f"       {line}")
        if exit_code != 0:
            tail = "\n".join(lines[-RELEASE_LOG_LINES:])
            raise DeployError(
                f"the release command `{command}` failed (exit {exit_code}); nothing was changed and the "
                f"previous release keeps serving. Its last output:\n{tail}"
                if tail
                else f"the release command `{command}` failed (exit {exit_code}) without output; "
                "nothing was changed and the previous release keeps serving"
            )

    def _start_web(self, processes: Sequence[ProcessSpec], web: WebPolicy, started: list[str]) -> list[str]:
        """Start every web replica and wait until each answers; their upstreams."""
        specs = [spec for process in processes if process.process == WEB for spec in containers_of(process)]
        if not specs:
            return []
        self.log.append(f"-----> Starting web ({len(specs)} replicas)")
        ids = []
        for spec in specs:
            ids.append(self.runtime.start(spec))
            started.append(ids[-1])
        self.log.append(
            f"-----> Health check: waiting up to {web.startup_timeout} s for GET {web.health_path} below 500"
        )
        return [
            self.runtime.wait_healthy(
                container, port=specs[0].port, path=web.health_path, timeout=web.startup_timeout
            )
            for container in ids
        ]

    def _replace_singleton(self, process: ProcessSpec, old: Sequence[Observed]) -> None:
        """Stop the old one before the new one starts: two beats would send each periodic task twice."""
        self._retire([c for c in old if c.service == process.process], why=f"old {process.process}")
        if process.replicas:
            self.log.append(f"-----> Starting {process.process} (one at a time)")
            for spec in containers_of(process):
                self.runtime.start(spec)

    def _retire(self, containers: Sequence[Observed], *, why: str) -> None:
        """Stop containers with SIGTERM (their stop timeout, then SIGKILL) in parallel, then remove them."""
        if not containers:
            return
        self.log.append(f"-----> Stopping {why}: {', '.join(sorted(c.name for c in containers))}")
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda c: self._stop_and_remove(c.id), containers))

    def _stop_and_remove(self, container_id: str) -> None:
        self.runtime.stop(container_id, timeout=None)
        self.runtime.remove(container_id)

    def _remove(self, container_ids: Sequence[str]) -> None:
        for container_id in container_ids:
            self.runtime.remove(container_id)
