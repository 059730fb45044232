"""Custom domains: the host names an app answers at besides `<name>.<apps domain>`.

A host name belongs to one app across the installation. Adding or removing one on a live app changes the
host match of its Caddy route at once, without a deploy; the reconciler and every deploy build the route
from the same rows, so a change Caddy missed is applied on the next pass.
"""

from __future__ import annotations

import ipaddress
import re

import idna
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.services import routing
from api.services.access import Principal, visible_apps
from api.services.apps import live_deployment
from core.errors import ConfigError, Conflict, NotFound, TemporaryError
from core.models import App, Domain
from core.settings import Settings
from scheduler import proxy

LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
EXAMPLE = "such as www.example.com"


def normalize_hostname(raw: str) -> str:
    """`raw` as Caddy matches it: lowercase ASCII, IDNA names in xn-- form, no trailing dot.

    Refuses what cannot be one app's domain: wildcards, IP addresses, single labels and URLs.
    """
    host = raw.strip().removesuffix(".")
    if not host:
        raise ConfigError(f"must be a host name {EXAMPLE}", where="hostname")
    if "*" in host:
        raise ConfigError(
            f"wildcard domains are not supported: add each host name {EXAMPLE}", where="hostname"
        )
    if any(char in host for char in ":/?#@ "):
        raise ConfigError(
            f"must be a bare host name {EXAMPLE}, without scheme, port or path", where="hostname"
        )
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        raise ConfigError(f"must be a host name {EXAMPLE}, not an IP address", where="hostname")
    try:
        # UTS 46 maps case and compatibility forms first (Bücher.Example → xn--bcher-kva.example).
        host = idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError as error:
        raise ConfigError(f"{raw.strip()!r} is not a valid host name ({error})", where="hostname") from None
    labels = host.split(".")
    if len(host) > 253 or not all(LABEL.fullmatch(label) for label in labels):
        raise ConfigError(
            f"{host!r} is not a valid host name: letters, digits and dashes in dot-separated labels of at "
            "most 63 characters, 253 in all",
            where="hostname",
        )
    if len(labels) < 2 or labels[-1].isdigit():
        raise ConfigError(f"must be a fully qualified host name {EXAMPLE}", where="hostname")
    return host


def check_outside_apps_domain(host: str, apps_domain: str) -> None:
    """Refuse the apps domain and names under it: each app already answers at `<name>.<apps domain>`."""
    apps_domain = apps_domain.lower()
    if host == apps_domain or host.endswith(f".{apps_domain}"):
        raise ConfigError(
            f"{host} is in the apps domain {apps_domain}, where each app already answers at "
            f"<name>.{apps_domain}; add a domain outside it",
            where="hostname",
        )


def add_domain(
    session: Session, *, settings: Settings, principal: Principal, app: App, hostname: str
) -> tuple[Domain, bool]:
    """Give `app` the domain `hostname`; returns it and whether it is new (adding it again changes nothing).

    A host name another app has is a Conflict that names that app only when the caller can see it.
    """
    host = normalize_hostname(hostname)
    check_outside_apps_domain(host, settings.apps_domain)
    taken = session.scalar(select(Domain).where(Domain.hostname == host))
    if taken is not None:
        if taken.app_id == app.id:
            return taken, False
        raise _taken(session, principal, host, taken.app_id)
    domain = Domain(hostname=host)
    try:
        with session.begin_nested():
            app.domains.append(domain)
    except IntegrityError:
        raise Conflict(
            f"{host} was added by another request meanwhile; add it again to see which app has it"
        ) from None
    return domain, True


def remove_domain(app: App, hostname: str) -> None:
    """Take `hostname` (in any form `normalize_hostname` takes) away from `app`; NotFound when it has none."""
    try:
        host = normalize_hostname(hostname)
    except ConfigError:
        host = hostname
    for domain in app.domains:
        if domain.hostname == host:
            app.domains.remove(domain)
            return
    raise NotFound(
        f"app {app.name!r} has no domain {hostname!r}; `GET /api/v1/apps/{app.name}/domains` lists them"
    )


def apply_domains(session: Session, settings: Settings, app: App) -> None:
    """Make the live app's route match its hosts now; call after the change is committed.

    An app that serves nothing (never deployed, or stopped) has no route: its next one carries the domains.
    """
    if app.stopped or live_deployment(session, app) is None:
        return
    try:
        with proxy.CaddyAdmin(settings.caddy_admin) as admin:
            routing.set_hosts(admin, settings, app.name, [domain.hostname for domain in app.domains])
    except TemporaryError as error:
        raise TemporaryError(
            f"the change is saved, but the proxy did not take it ({error.detail}); the next reconcile "
            "pass applies it once Caddy answers"
        ) from error


def add_and_apply(
    session: Session, *, settings: Settings, principal: Principal, app: App, hostname: str
) -> tuple[Domain, bool]:
    """`add_domain`, committed and applied to the live route at once."""
    domain, created = add_domain(session, settings=settings, principal=principal, app=app, hostname=hostname)
    session.commit()
    apply_domains(session, settings, app)
    return domain, created


def remove_and_apply(session: Session, *, settings: Settings, app: App, hostname: str) -> None:
    """`remove_domain`, committed and applied to the live route at once."""
    remove_domain(app, hostname)
    session.commit()
    apply_domains(session, settings, app)


def _taken(session: Session, principal: Principal, host: str, owner_id: int) -> Conflict:
    owner = session.scalar(visible_apps(principal).where(App.id == owner_id))
    if owner is None:
        return Conflict(
            f"{host} is already a domain of another app on this Dockyard; its owner must remove it first"
        )
    return Conflict(
        f"{host} is already a domain of app {owner.name!r}; remove it there first "
        f"(`DELETE /api/v1/apps/{owner.name}/domains/{host}`)"
    )
