"""Keep the proxy's routes in step with the live releases and the apps' domains."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import session_scope
from core.models import App, Domain
from core.settings import Settings
from scheduler import proxy


def ensure_server(admin: proxy.CaddyAdmin, settings: Settings) -> None:
    """Make sure Dockyard's own servers exist on Caddy (other servers are left alone).

    With HTTPS: Caddy's local CA kept out of the host's trust stores and the certificate policy first, so no
    host is ever managed otherwise, then the HTTPS server that holds the routes and the HTTP server that
    redirects to it.
    """
    if settings.https == "off":
        admin.ensure_server(settings.instance, proxy.server_config(http_port=settings.http_port))
        return
    admin.keep_local_ca_untrusted()
    admin.set_policy(tls_policy(settings))
    admin.ensure_server(settings.instance, proxy.tls_server_config(https_port=settings.https_port))
    admin.ensure_server(
        f"{settings.instance}-redirect",
        proxy.redirect_server_config(http_port=settings.http_port, https_port=settings.https_port),
    )


def tls_policy(settings: Settings) -> dict[str, Any]:
    """The certificate policy DOCKYARD_HTTPS asks for: an ACME CA when on, Caddy's local CA when internal."""
    issuer = (
        proxy.INTERNAL_ISSUER
        if settings.https == "internal"
        else proxy.acme_issuer(
            email=settings.acme_email, http_port=settings.http_port, https_port=settings.https_port
        )
    )
    return proxy.tls_policy(policy_id=f"{settings.instance}-tls", issuer=issuer)


def app_hosts(settings: Settings, app_name: str, domains: Iterable[str] = ()) -> list[str]:
    """Every host an app answers at: `<name>.<apps domain>`, then its custom domains in order."""
    return [settings.app_host(app_name), *sorted(domains)]


def app_route(
    settings: Settings,
    app_name: str,
    upstreams: list[str],
    *,
    request_timeout: int | None = None,
    domains: Iterable[str] = (),
) -> dict[str, Any]:
    """The route that sends the app's hosts (its custom `domains` included) to `upstreams`."""
    return proxy.app_route(
        route_id=proxy.route_id(settings.instance, app_name),
        hosts=app_hosts(settings, app_name, domains),
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
    """Send the app's hosts to `upstreams`, creating or replacing its route.

    The app's domains are read at the moment of the switch, so one added while a deploy ran is kept.
    """
    with session_scope() as session:
        domains = session.scalars(
            select(Domain.hostname).join(App).where(App.name == app_name).order_by(Domain.hostname)
        ).all()
    admin.set_route(
        settings.instance,
        app_route(settings, app_name, upstreams, request_timeout=request_timeout, domains=domains),
    )


def set_hosts(admin: proxy.CaddyAdmin, settings: Settings, app_name: str, domains: Iterable[str]) -> bool:
    """Make the app's route match its hosts now, leaving its upstreams alone; False when it has no route."""
    return admin.set_route_hosts(
        proxy.route_id(settings.instance, app_name), app_hosts(settings, app_name, domains)
    )


def domains_by_app(session: Session) -> dict[int, tuple[str, ...]]:
    """Every app's custom domains, by app id, in order (one query for a whole reconcile pass)."""
    found: dict[int, list[str]] = defaultdict(list)
    for app_id, hostname in session.execute(select(Domain.app_id, Domain.hostname).order_by(Domain.hostname)):
        found[app_id].append(hostname)
    return {app_id: tuple(hostnames) for app_id, hostnames in found.items()}


def app_of_route(settings: Settings, route: dict[str, Any]) -> str | None:
    """The app a route of this instance serves, from its `@id`; None for other routes (the 404 fallback)."""
    prefix = proxy.route_id(settings.instance, "")
    route_id = route.get("@id")
    return (
        route_id.removeprefix(prefix) if isinstance(route_id, str) and route_id.startswith(prefix) else None
    )
