"""Keep the proxy's routes in step with the live releases."""

from __future__ import annotations

import docker
from sqlalchemy import select

from core.db import session_scope
from core.models import App, Deployment, DeploymentStatus
from core.settings import Settings
from scheduler import desired, proxy
from scheduler.runtime.docker import DockerRuntime


def ensure_server(admin: proxy.CaddyAdmin, settings: Settings) -> None:
    """Make sure Dockyard's own server exists on Caddy (other servers are left alone)."""
    admin.ensure_server(settings.instance, proxy.server_config(http_port=settings.http_port))


def point_route(admin: proxy.CaddyAdmin, settings: Settings, app_name: str, upstream: str) -> None:
    """Send the app's host to `upstream`, creating or replacing its route."""
    route = proxy.app_route(
        route_id=proxy.route_id(settings.instance, app_name),
        hosts=[settings.app_host(app_name)],
        upstream=upstream,
    )
    admin.set_route(settings.instance, route)


def restore_routes(settings: Settings) -> int:
    """After a proxy or platform restart, point each live app at its running web container.

    Returns how many routes were set.
    """
    admin = proxy.CaddyAdmin(settings.caddy_admin)
    client = docker.from_env()
    runtime = DockerRuntime(client, settings.instance)
    with session_scope() as session:
        live = list(
            session.execute(
                select(App.name, Deployment.id)
                .join(Deployment, Deployment.app_id == App.id)
                .where(Deployment.status == DeploymentStatus.LIVE.value)
            ).tuples()
        )
    restored = 0
    try:
        ensure_server(admin, settings)
        for app_name, release in live:
            running = [
                container["name"]
                for container in runtime.containers(app_name)
                if container["service"] == desired.WEB and container["release"] == release
            ]
            if running:
                point_route(admin, settings, app_name, runtime.upstream(running[0], desired.WEB_PORT))
                restored += 1
    finally:
        client.close()
        admin.close()
    return restored
