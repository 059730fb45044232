"""What each of an app's processes is doing right now, read from the engine."""

from __future__ import annotations

from typing import Any

from api.services.operations import engine
from core.models import App
from core.settings import Settings
from scheduler.runtime.docker import DockerRuntime


def current_services(settings: Settings, app: App) -> list[dict[str, Any]]:
    """service_status on the local engine; TemporaryError when the engine does not answer."""
    with engine(settings) as runtime:
        return service_status(runtime, app)


def service_status(runtime: DockerRuntime, app: App) -> list[dict[str, Any]]:
    """One row per process type: wanted replicas, the containers found, and a summary status."""
    found = runtime.containers(app.name)
    rows = []
    for service in sorted(app.services, key=lambda s: s.name):
        containers = [
            {"name": c["name"], "release": c["release"], "status": c["status"]}
            for c in found
            if c["service"] == service.name
        ]
        running = sum(1 for c in containers if c["status"] == "running")
        if running >= service.replicas:
            status = "running"
        elif not containers:
            status = "not deployed"
        else:
            status = f"{running}/{service.replicas} running"
        rows.append(
            {"name": service.name, "status": status, "replicas": service.replicas, "containers": containers}
        )
    return rows
