"""Keep the proxy's routes in step with the live releases."""

from __future__ import annotations

from typing import Any

from core.settings import Settings
from scheduler import proxy


def ensure_server(admin: proxy.CaddyAdmin, settings: Settings) -> None:
    """Make sure Dockyard's own server exists on Caddy (other servers are left alone)."""
    admin.ensure_server(settings.instance, proxy.server_config(http_port=settings.http_port))


def app_route(
    settings: Settings, app_name: str, upstreams: list[str], *, request_timeout: int | None = None
) -> dict[str, Any]:
    """The route that sends the app's host to `upstreams`."""
    return proxy.app_route(
        route_id=proxy.route_id(settings.instance, app_name),
        hosts=[settings.app_host(app_name)],
        upstreams=upstreams,
        request_timeout=request_timeout,
    )


def point_route(
    admin: proxy.CaddyAdmin,
    settings: Settings,
    app_name: str,
    upstreams: list[str],
    *,
    request_timeout: int | None = None,
) -> None:
    """Send the app's host to `upstreams`, creating or replacing its route."""
    admin.set_route(
        settings.instance, app_route(settings, app_name, upstreams, request_timeout=request_timeout)
    )


def app_of_route(settings: Settings, route: dict[str, Any]) -> str | None:
    """The app a route of this instance serves, from its `@id`; None for other routes (the 404 fallback)."""
    prefix = proxy.route_id(settings.instance, "")
    route_id = route.get("@id")
    return (
        route_id.removeprefix(prefix) if isinstance(route_id, str) and route_id.startswith(prefix) else None
    )
