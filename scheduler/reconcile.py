"""Reconciliation as a pure function: compare what should run with what runs, and say what to do.

Backends list what runs (`Observed`) and carry out the actions; deciding lives here, where it is tested
by comparing whole outputs.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from core.shell import exec_form
from scheduler.desired import SINGLETONS, Limits, ProcessSpec, ServiceSpec

RUNNING_STATES = frozenset({"running", "restarting"})  # restarting: the engine's restart policy has it


@dataclass(frozen=True)
class Observed:
    """A container the engine reports, read from its Dockyard labels."""

    id: str
    name: str
    app: str
    service: str
    release: int
    state: str  # the engine's: created, running, restarting, paused, exited, dead


@dataclass(frozen=True)
class Start:
    """Start the container for `spec`, replacing a stopped one of the same name."""

    spec: ServiceSpec
    why: str


@dataclass(frozen=True)
class Remove:
    """Stop (SIGTERM, then SIGKILL after its stop timeout) and remove a container."""

    container: Observed
    why: str


Action = Start | Remove


def diff(
    desired: Sequence[ServiceSpec], observed: Sequence[Observed], *, skip_apps: Collection[str] = ()
) -> list[Action]:
    """The actions that make `observed` match `desired`: removals first, then starts.

    Apps in `skip_apps` (being deployed right now) are left alone. Removals go first so a singleton such as
    beat is gone before its replacement starts.
    """
    wanted = {spec.name: spec for spec in desired if spec.app not in skip_apps}
    actions: list[Action] = []
    for container in sorted(observed, key=lambda c: c.name):
        if container.app in skip_apps or container.name in wanted:
            continue
        actions.append(Remove(container, _why_unwanted(container, desired)))
    by_name = {container.name: container for container in observed}
    for name, spec in wanted.items():
        found = by_name.get(name)
        if found is None:
            actions.append(Start(spec, "missing"))
        elif found.state not in RUNNING_STATES:
            actions.append(Start(spec, f"was {found.state}"))
    singles = [a for a in actions if isinstance(a, Start) and a.spec.service in SINGLETONS]
    if len(singles) > 1:  # desired state never asks for two; guard the invariant all the same
        raise ValueError(f"two {singles[0].spec.service} containers wanted for {singles[0].spec.app}")
    return actions


def _why_unwanted(container: Observed, desired: Sequence[ServiceSpec]) -> str:
    same_app = [spec for spec in desired if spec.app == container.app]
    if not same_app:
        return "its app is deleted or stopped"
    if all(spec.release != container.release for spec in same_app):
        return f"release {container.release} is no longer live"
    if all(spec.service != container.service for spec in same_app):
        return f"the live release has no {container.service} process"
    return "scaled down"


# --- Swarm: one service per app process ----------------------------------------------------------------
# A swarm service outlives releases: a new release is a rolling update of the same service, done by the
# engine. So the swarm diff compares service definitions, not containers.


def service_name(instance: str, app: str, process: str) -> str:
    """The swarm service that runs every replica of one process type of an app, across releases."""
    return f"{instance}-{app}-{process}"


@dataclass(frozen=True)
class ObservedService:
    """A swarm service the engine reports, read back into the terms of a ProcessSpec."""

    id: str
    name: str
    app: str
    process: str
    release: int
    image: str
    command: str | None
    env: dict[str, str]
    replicas: int
    volumes: dict[str, str]  # Docker volume name -> mount path
    limits: Limits
    stop_timeout: int


@dataclass(frozen=True)
class CreateService:
    """Create the service for `spec` (and its app's overlay network if needed)."""

    spec: ProcessSpec
    why: str


@dataclass(frozen=True)
class UpdateService:
    """Change a service: a rolling update to `spec`, or, when `spec` is None, only its replica count."""

    service: ObservedService
    replicas: int
    spec: ProcessSpec | None
    why: str


@dataclass(frozen=True)
class RemoveService:
    """Remove a service; the engine stops its tasks (SIGTERM, then SIGKILL after the grace period)."""

    service: ObservedService
    why: str


ServiceAction = CreateService | UpdateService | RemoveService


def diff_services(
    desired: Sequence[ProcessSpec], observed: Sequence[ObservedService], *, skip_apps: Collection[str] = ()
) -> list[ServiceAction]:
    """The actions that make the swarm's services match `desired`: removals first, then in desired order.

    `desired` holds the processes of each app's live release only. Apps in `skip_apps` are left alone.
    """
    wanted: dict[str, ProcessSpec] = {}
    for spec in desired:
        if spec.app in skip_apps:
            continue
        name = service_name(spec.instance, spec.app, spec.process)
        if name in wanted:  # two live releases of one app: a caller's bug, not something to pick from
            raise ValueError(f"two releases of {spec.app} want service {name}")
        wanted[name] = spec
    by_name = {service.name: service for service in observed if service.app not in skip_apps}
    actions: list[ServiceAction] = [
        RemoveService(service, _why_service_unwanted(service, desired))
        for name, service in sorted(by_name.items())
        if name not in wanted
    ]
    for name, spec in wanted.items():
        found = by_name.get(name)
        if found is None:
            actions.append(CreateService(spec, "missing"))
            continue
        changed = _changed_fields(spec, found)
        if changed:
            why = f"release {found.release} -> {spec.release}: " if found.release != spec.release else ""
            actions.append(UpdateService(found, spec.replicas, spec, why + ", ".join(changed) + " changed"))
        elif found.replicas != spec.replicas:
            actions.append(
                UpdateService(found, spec.replicas, None, f"scale {found.replicas} -> {spec.replicas}")
            )
    return actions


def _changed_fields(spec: ProcessSpec, service: ObservedService) -> list[str]:
    """What differs in the task definition (a rolling update); the replica count is not part of it."""
    pairs = {
        "release": (spec.release, service.release),
        "image": (spec.image, service.image),
        # Services run the command in its exec form (see core.shell); compare it the way it is stored.
        "command": (None if spec.command is None else exec_form(spec.command), service.command),
        "env": (dict(spec.env), service.env),
        "volumes": (dict(spec.volumes), service.volumes),
        "limits": (spec.limits, service.limits),
        "stop timeout": (spec.stop_timeout, service.stop_timeout),
    }
    return [field for field, (want, have) in pairs.items() if want != have]


def _why_service_unwanted(service: ObservedService, desired: Sequence[ProcessSpec]) -> str:
    if all(spec.app != service.app for spec in desired):
        return "its app is deleted or stopped"
    return f"the live release has no {service.process} process"
