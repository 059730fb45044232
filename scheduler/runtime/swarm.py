"""A thin adapter that turns swarm service actions into Docker Swarm services (docker-py).

One service per app process (`{instance}-{app}-{process}`) lives across releases: a new release is a
rolling update the engine carries out (start-first, one task at a time, rolled back by the engine if a new
task fails), a scale is a replica change. Services use `endpoint_mode=dnsrr` on an attachable overlay
network per app, so a client on that network (the proxy) dials `{service}:{port}` and the engine's DNS
answers with the address of every healthy task. The routing mesh and service VIPs are not used: they need
IPVS, which not every host kernel has.

Every object it creates carries `dockyard.instance`; it never touches an object without this instance's label.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import docker
import docker.errors
from docker.models.services import Service
from docker.types import (
    EndpointSpec,
    Healthcheck,
    Mount,
    Resources,
    RestartPolicy,
    RollbackConfig,
    ServiceMode,
    UpdateConfig,
)

from core import labels
from core.errors import DeployError, TemporaryError
from core.shell import exec_form
from scheduler.desired import SINGLETONS, WEB, WEB_PORT, Limits, ProcessSpec, app_network
from scheduler.reconcile import (
    CreateService,
    ObservedService,
    ServiceAction,
    UpdateService,
    service_name,
)
from scheduler.runtime.errors import engine_errors

NS = 1_000_000_000  # the service API counts durations in nanoseconds
POLL_INTERVAL = 0.5
SHELL = ("/bin/sh", "-c")
# Update states in which the engine gave up on the new spec; while it is rolling back, wait for it to finish.
GAVE_UP = {
    "rollback_completed": "rolled it back",
    "paused": "paused it",
    "rollback_paused": "paused its rollback halfway",
}
# Dockyard's images are Python images: the health check needs nothing else. Below 500 is healthy, as for
# the single-engine backend's probe.
HEALTH_PROBE = (
    "import os, sys, urllib.error, urllib.request\n"
    "try:\n"
    "    urllib.request.urlopen('http://127.0.0.1:%s{path}' % os.environ['PORT'], timeout=2)\n"
    "except urllib.error.HTTPError as error:\n"
    "    sys.exit(error.code >= 500)\n"
)


@dataclass(frozen=True)
class Task:
    """A running task (container) of a service."""

    id: str
    slot: int
    release: int
    image: str
    address: str | None  # its address on the app's overlay network


@contextmanager
def _swarm_errors(action: str) -> Iterator[None]:
    """Like the single-engine backend's translation, plus the two refusals only a swarm gives."""
    with engine_errors(action):
        try:
            yield
        except docker.errors.APIError as error:
            text = str(error.explanation or error)
            if "not a swarm manager" in text or "swarm mode" in text:
                raise DeployError(
                    f"{action}: this engine is not a Swarm manager (run `docker swarm init` on it, "
                    "or point Dockyard at a manager)"
                ) from error
            if "update out of sequence" in text:  # someone else changed the service meanwhile
                raise TemporaryError(f"{action}: the service changed meanwhile; retry") from error
            raise


class SwarmRuntime:
    """Runs an instance's app processes as Swarm services: each app on its own attachable overlay network.

    `monitor` is how long the engine watches each updated task before updating the next (and rolls back if
    it fails meanwhile); `health_interval` and `health_grace` shape the web process's health check.
    """

    def __init__(
        self,
        client: docker.DockerClient,
        instance: str,
        *,
        monitor: float = 5.0,
        health_path: str = "/",
        health_interval: float = 2.0,
        health_grace: float = 60.0,
    ) -> None:
        self.client = client
        self.instance = instance
        self.monitor = monitor
        self.health_path = health_path
        self.health_interval = health_interval
        self.health_grace = health_grace

    # --- changing -------------------------------------------------------------------------------------

    def apply(self, action: ServiceAction) -> None:
        """Carry out one swarm reconcile action; returns once the engine accepted it (not converged)."""
        if isinstance(action, CreateService):
            self.create(action.spec)
        elif isinstance(action, UpdateService):
            self.update(action.service.name, action.spec, replicas=action.replicas)
        else:
            self.remove(action.service.name)

    def create(self, spec: ProcessSpec) -> str:
        """Create the service for `spec` (and its app's network); its id."""
        name = service_name(spec.instance, spec.app, spec.process)
        with _swarm_errors(f"creating service {name}"):
            self._ensure_network(spec.network, spec.app)
            if self._service_or_none(name) is not None:
                raise DeployError(f"service {name} exists already")
            service = self.client.services.create(**self._service_options(spec))
            return str(service.id)

    def update(self, name: str, spec: ProcessSpec | None, *, replicas: int) -> None:
        """Roll `name` to `spec` (the whole definition, replicas included); with no spec, only scale it."""
        with _swarm_errors(f"updating service {name}"):
            service = self._service(name)
            if spec is None:
                service.scale(replicas)
                return
            self._ensure_network(spec.network, spec.app)
            options = self._service_options(spec)
            # The whole spec, not merged with the current one: a limit or mount taken out must go away.
            service.update(**options, fetch_current_spec=False)

    def remove(self, name: str) -> None:
        """Remove a service; a missing one is fine. The engine stops its tasks in the background."""
        with _swarm_errors(f"removing service {name}"):
            service = self._service_or_none(name)
            if service is not None:
                service.remove()

    def remove_app(self, app: str, *, timeout: float = 60.0) -> None:
        """Remove an app's services and its network, waiting until its tasks are gone; volumes stay."""
        owned = {"label": labels.label_filters(labels.owned(self.instance, app))}
        deadline = time.monotonic() + timeout
        with _swarm_errors(f"removing {app}"):
            for service in self.client.services.list(filters=owned):
                service.remove()
            for network in self.client.networks.list(filters=owned):
                network.remove()
                # The manager forgets it at once, but the engine keeps its copy until the tasks attached to
                # it have stopped (their grace period), and a new deploy of the app could not create it.
                while any(n.id == network.id for n in self.client.networks.list(names=[network.name])):
                    if time.monotonic() >= deadline:
                        raise DeployError(f"the tasks of {app} did not stop within {timeout:g} s")
                    time.sleep(POLL_INTERVAL)

    def _service_options(self, spec: ProcessSpec) -> dict[str, Any]:
        """docker-py's services.create() arguments for `spec`; update() takes the same."""
        order = "stop-first" if spec.process in SINGLETONS else "start-first"  # never two beats
        return {
            "name": service_name(spec.instance, spec.app, spec.process),
            "image": spec.image,
            # Args, not Command: like `docker run IMAGE CMD…` it keeps the image's entrypoint. Procfile-style
            # commands expect a shell (`$PORT`, `&&`); None keeps the image's CMD.
            "args": None if spec.command is None else [*SHELL, exec_form(spec.command)],
            "labels": dict(spec.labels),
            "container_labels": dict(spec.labels),
            "env": dict(spec.env),
            "mounts": [
                Mount(target=path, source=volume, type="volume", labels=labels.owned(self.instance, spec.app))
                for volume, path in spec.volumes.items()
            ],
            "networks": [spec.network],
            "endpoint_spec": EndpointSpec(mode="dnsrr"),
            "mode": ServiceMode("replicated", replicas=spec.replicas),
            "resources": _resources(spec.limits),
            # `any`: these processes are meant to run forever, so even a clean exit is a failure to restart.
            "restart_policy": RestartPolicy(condition="any", delay=2 * NS),
            "update_config": UpdateConfig(
                parallelism=1,
                order=order,
                failure_action="rollback",
                monitor=int(self.monitor * NS),
            ),
            "rollback_config": RollbackConfig(
                parallelism=1, order=order, failure_action="pause", monitor=int(self.monitor * NS)
            ),
            "healthcheck": self._healthcheck(spec),
            # An init as PID 1 forwards SIGTERM to the app (PID 1 ignores it otherwise) and reaps zombies.
            "init": True,
            "stop_grace_period": spec.stop_timeout * NS,
        }

    def _healthcheck(self, spec: ProcessSpec) -> Healthcheck | None:
        """For web: a task counts as running, and gets a DNS entry, only once it answers."""
        if spec.process != WEB:
            return None
        return Healthcheck(
            test=["CMD", "python", "-c", HEALTH_PROBE.format(path=self.health_path)],
            interval=int(self.health_interval * NS),
            timeout=2 * NS,
            retries=3,
            start_period=int(self.health_grace * NS),
        )

    def _ensure_network(self, name: str, app: str) -> None:
        found = [n for n in self.client.networks.list(names=[name]) if n.name == name]
        if not found:
            self.client.networks.create(
                name,
                driver="overlay",
                attachable=True,  # so the proxy (and tests' probes) can join it
                scope="swarm",
                labels=labels.owned(self.instance, app),
                check_duplicate=True,
            )
            return
        network = found[0]
        self._check_owned(network.attrs.get("Labels"), f"network {name}")
        if network.attrs.get("Driver") != "overlay":
            raise DeployError(
                f"network {name} is a {network.attrs.get('Driver')} network, not an overlay: "
                "remove the app's single-engine containers and network first"
            )

    # --- waiting --------------------------------------------------------------------------------------

    def wait_converged(self, app: str, process: str, *, timeout: float) -> float:
        """Wait until every task of the service runs its current spec; the seconds it took.

        Fails once the engine has rolled back an update whose new task failed (so the previous release
        serves again when this returns), or at `timeout`, with the engine's reason for the last failed task.
        """
        name = service_name(self.instance, app, process)
        started = time.monotonic()
        while True:
            with _swarm_errors(f"inspecting service {name}"):
                service = self._service(name)
                status = service.attrs.get("UpdateStatus") or {}
                if status.get("State") in GAVE_UP:
                    raise DeployError(
                        f"the update of {name} failed and the engine {GAVE_UP[status['State']]}: "
                        f"{status.get('Message', '')}{self._failure_suffix(service)}"
                    )
                if self._is_converged(service):
                    return time.monotonic() - started
            if time.monotonic() - started >= timeout:
                raise DeployError(
                    f"{name} did not converge within {timeout:g} s{self._failure_suffix(service)}"
                )
            time.sleep(POLL_INTERVAL)

    def _is_converged(self, service: Service) -> bool:
        spec = service.attrs["Spec"]
        if (service.attrs.get("UpdateStatus") or {}).get("State", "completed") != "completed":
            return False
        wanted = spec["TaskTemplate"]["ContainerSpec"]
        live = [
            task
            for task in service.tasks(filters={"desired-state": "running"})
            if task["Status"]["State"] == "running"
        ]
        current = [task for task in live if task["Spec"]["ContainerSpec"] == wanted]
        return len(live) == len(current) == spec["Mode"]["Replicated"]["Replicas"]

    def _failure_suffix(self, service: Service) -> str:
        failed = [
            task
            for task in service.tasks()
            if task["Status"]["State"] in ("failed", "rejected") or task["Status"].get("Err")
        ]
        if not failed:
            return ""
        last = max(failed, key=lambda task: task["Status"]["Timestamp"])
        status = last["Status"]
        exit_code = (status.get("ContainerStatus") or {}).get("ExitCode")
        return f"; last failed task: {status.get('Err') or status['State']} (exit code {exit_code})"

    # --- reading --------------------------------------------------------------------------------------

    def observe(self) -> list[ObservedService]:
        """Every service of this instance, as the swarm diff sees it."""
        with _swarm_errors("listing services"):
            found = self.client.services.list(
                filters={"label": labels.label_filters(labels.owned(self.instance))}
            )
        return sorted((_observed(service) for service in found), key=lambda service: service.name)

    def upstreams(self, app: str, process: str = WEB, port: int = WEB_PORT) -> list[str]:
        """What the proxy dials: the service's name, which the engine's DNS resolves to every healthy task.

        Only a client attached to the app's overlay network can resolve and reach it. Caddy on the host
        (host networking) cannot join an overlay network, so with this backend Caddy runs as a container
        attached to the apps' networks (the compose setup does that).
        """
        name = service_name(self.instance, app, process)
        with _swarm_errors(f"inspecting service {name}"):
            self._service(name)
        return [f"{name}:{port}"]

    def running_tasks(self, app: str, process: str) -> list[Task]:
        """The service's running tasks, by slot."""
        name = service_name(self.instance, app, process)
        network = app_network(self.instance, app)
        with _swarm_errors(f"listing tasks of {name}"):
            service = self._service(name)
            tasks = service.tasks(filters={"desired-state": "running"})
        return sorted(
            (
                Task(
                    id=task["ID"],
                    slot=int(task.get("Slot", 0)),
                    release=int(task["Spec"]["ContainerSpec"].get("Labels", {}).get(labels.RELEASE, 0)),
                    image=_without_digest(task["Spec"]["ContainerSpec"]["Image"]),
                    address=_address_on(task, network),
                )
                for task in tasks
                if task["Status"]["State"] == "running"
            ),
            key=lambda task: (task.slot, task.id),
        )

    def _service(self, name: str) -> Service:
        service = self._service_or_none(name)
        if service is None:
            raise DeployError(f"service {name} does not exist")
        return service

    def _service_or_none(self, name: str) -> Service | None:
        # The name filter matches prefixes: `app-web` would also find `app-web2`.
        found = [s for s in self.client.services.list(filters={"name": name}) if s.name == name]
        if not found:
            return None
        self._check_owned(found[0].attrs["Spec"].get("Labels"), f"service {name}")
        return found[0]

    def _check_owned(self, object_labels: dict[str, str] | None, what: str) -> None:
        if (object_labels or {}).get(labels.INSTANCE) != self.instance:
            raise DeployError(f"{what} exists but does not belong to Dockyard instance {self.instance!r}")


def _resources(limits: Limits) -> Resources | None:
    if limits.memory is None and limits.cpus is None:
        return None
    return Resources(
        mem_limit=limits.memory, cpu_limit=None if limits.cpus is None else int(limits.cpus * NS)
    )


def _observed(service: Service) -> ObservedService:
    """A service read back into the terms `_service_options` wrote it in."""
    spec = service.attrs["Spec"]
    container = spec["TaskTemplate"]["ContainerSpec"]
    service_labels = spec.get("Labels") or {}
    args = container.get("Args")
    limits = (spec["TaskTemplate"].get("Resources") or {}).get("Limits") or {}
    cpus = limits.get("NanoCPUs")
    return ObservedService(
        id=str(service.id),
        name=str(service.name),
        app=service_labels.get(labels.APP, ""),
        process=service_labels.get(labels.SERVICE, ""),
        release=int(service_labels.get(labels.RELEASE, "0") or 0),
        image=_without_digest(container["Image"]),
        # Anything but our own `sh -c` form was not written by us: keep it visible so the diff replaces it.
        command=args[2]
        if args and len(args) == 3 and tuple(args[:2]) == SHELL
        else (" ".join(args or []) or None),
        env=dict(item.split("=", 1) for item in container.get("Env") or [] if "=" in item),
        replicas=int((spec["Mode"].get("Replicated") or {}).get("Replicas", 0)),
        volumes={
            m["Source"]: m["Target"] for m in container.get("Mounts") or [] if m.get("Type") == "volume"
        },
        limits=Limits(memory=limits.get("MemoryBytes"), cpus=None if cpus is None else cpus / NS),
        stop_timeout=int(container.get("StopGracePeriod", 10 * NS)) // NS,
    )


def _without_digest(image: str) -> str:
    """The image as we named it: a manager that can reach a registry pins `name:tag@sha256:…`."""
    return image.split("@", 1)[0]


def _address_on(task: dict[str, Any], network: str) -> str | None:
    for attachment in task.get("NetworksAttachments") or []:
        if attachment["Network"]["Spec"]["Name"] == network and attachment.get("Addresses"):
            return str(attachment["Addresses"][0].split("/", 1)[0])
    return None
