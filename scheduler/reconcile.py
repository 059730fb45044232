"""Reconciliation as a pure function: compare what should run with what runs, and say what to do.

Backends list what runs (`Observed`) and carry out the actions; deciding lives here, where it is tested
by comparing whole outputs.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from scheduler.desired import SINGLETONS, ServiceSpec

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
