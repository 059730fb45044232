"""From the database to desired state: what a deployment of an app should run, as a scheduler Release."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from docker.utils import parse_bytes
from sqlalchemy.orm import Session

from api.services.apps import env_values
from core.models import App, Deployment, Service
from core.settings import Settings
from scheduler.desired import SINGLETONS, WEB, WEB_PORT, Limits, Release


def plan_processes(plan: Mapping[str, Any] | None) -> dict[str, str | None]:
    """The process types a deployment's plan runs; releases made before plans existed ran web only."""
    processes = (plan or {}).get("processes")
    return dict(processes) if isinstance(processes, dict) and processes else {WEB: None}


def plan_value(plan: Mapping[str, Any] | None, key: str, default: Any) -> Any:
    """One setting of a deployment's plan, or `default` when the plan does not set it."""
    value = (plan or {}).get(key)
    return default if value is None else value


def release_of(settings: Settings, app: App, deployment: Deployment) -> Release:
    """Everything `deployment` of `app` should run, with the app's current scale, limits, env and volumes."""
    if deployment.image is None:
        raise ValueError(f"deployment {deployment.id} has no image yet")
    plan = deployment.plan or {}
    processes = plan_processes(plan)
    services = {service.name: service for service in app.services}
    resources = plan_value(plan, "resources", {})
    asked = plan_value(plan, "replicas", {})
    return Release(
        instance=settings.instance,
        app=app.name,
        release=deployment.id,
        image=deployment.image,
        processes=processes,
        env=env_values(settings, app),
        port=int(plan_value(plan, "port", WEB_PORT)),
        # dockyard.toml's [volumes], then those added through the API (which win on a name clash).
        volumes={
            **plan_value(plan, "volumes", {}),
            **{volume.name: volume.mount_path for volume in app.volumes if volume.process is None},
        },
        process_volumes=_process_volumes(app),
        # The scale set through the API; a process type new in this release starts as its settings ask.
        scale={
            name: services[name].replicas if name in services else int(asked.get(name, 1))
            for name in processes
        },
        limits={name: _limits(services.get(name), resources.get(name)) for name in processes},
        stop_timeout=int(plan_value(plan, "stop_timeout", settings.stop_timeout)),
    )


def sync_services(session: Session, app: App, plan: Mapping[str, Any] | None) -> None:
    """Give the app one Service row per process type of `plan`, dropping the types it no longer has.

    A new process type starts with the replicas its settings ask for (1 by default); an existing one keeps
    the scale set through the API.
    """
    processes = plan_processes(plan)
    asked = plan_value(plan, "replicas", {})
    existing = {service.name: service for service in app.services}
    for name, service in existing.items():
        if name not in processes:
            app.services.remove(service)
    for name in processes:
        if name not in existing:
            replicas = int(asked.get(name, 1))
            app.services.append(
                Service(name=name, replicas=min(replicas, 1) if name in SINGLETONS else replicas)
            )
    session.flush()


def _process_volumes(app: App) -> dict[str, dict[str, str]]:
    mounted: dict[str, dict[str, str]] = {}
    for volume in app.volumes:
        if volume.process is not None:
            mounted.setdefault(volume.process, {})[volume.name] = volume.mount_path
    return mounted


def _limits(service: Service | None, planned: Mapping[str, Any] | None) -> Limits:
    memory = (service.memory if service else None) or (planned or {}).get("memory")
    cpus = (service.cpus if service else None) or (planned or {}).get("cpus")
    return Limits(memory=parse_bytes(memory) if memory else None, cpus=float(cpus) if cpus else None)
