"""The self-healing loop: load desired state, list what runs, apply the difference, fix the proxy routes.

Run by Celery beat every DOCKYARD_RECONCILE_INTERVAL seconds and on Docker events. One pass at a time
(a Redis lock), and never on an app that is being deployed (its deploy lock is held).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import redis
from redis.exceptions import LockError
from redis.lock import Lock
from sqlalchemy import select

from api.services import routing
from api.services.apps import list_apps, live_deployment
from api.services.releases import plan_value, release_of
from core.db import session_scope
from core.errors import DockyardError
from core.models import App
from core.settings import Settings
from scheduler import proxy
from scheduler.desired import Release, desired_containers
from scheduler.reconcile import Start, diff
from scheduler.runtime.docker import DockerRuntime

# A pass renews its lock while it runs; a worker that dies mid-pass blocks healing only this long.
PASS_LOCK_SECONDS = 15


def deploy_lock_name(settings: Settings, app_id: int) -> str:
    """The Redis key of an app's deploy lock: held while a deployment of the app runs."""
    return f"dockyard:{settings.instance}:deploy-lock:{app_id}"


@dataclass
class ReconcileReport:
    """What one pass did, for logs and tests."""

    skipped: bool = False
    actions: list[str] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class _Live:
    release: Release
    request_timeout: int | None
    domains: tuple[str, ...]


def reconcile(
    settings: Settings, *, redis_client: redis.Redis, runtime: DockerRuntime, admin: proxy.CaddyAdmin
) -> ReconcileReport:
    """One pass; skipped when another pass holds the lock."""
    started = time.monotonic()
    # thread_local=False: the renewing thread must see the token this thread acquired.
    lock = redis_client.lock(
        f"dockyard:{settings.instance}:reconcile", timeout=PASS_LOCK_SECONDS, thread_local=False
    )
    if not lock.acquire(blocking=False):
        return ReconcileReport(skipped=True)
    report = ReconcileReport()
    try:
        with _renewed(lock):
            live, busy = _desired(settings, redis_client)
            desired = [spec for item in live.values() for spec in desired_containers(item.release)]
            for action in diff(desired, runtime.observe(), skip_apps=busy):
                name = action.spec.name if isinstance(action, Start) else action.container.name
                verb = "started" if isinstance(action, Start) else "removed"
                try:
                    runtime.apply(action)
                    report.actions.append(f"{verb} {name} ({action.why})")
                except DockyardError as error:
                    report.errors.append(
                        f"{'starting' if isinstance(action, Start) else 'removing'} {name}: {error}"
                    )
            try:
                _sync_routes(settings, runtime, admin, live, busy, report)
            except DockyardError as error:
                report.errors.append(f"routes: {error.detail}")
    finally:
        # It may have expired during a very long pass; the next pass takes it again.
        with contextlib.suppress(LockError):
            lock.release()
    report.seconds = time.monotonic() - started
    return report


@contextlib.contextmanager
def _renewed(lock: Lock) -> Iterator[None]:
    """Keep `lock` from expiring while the block runs (a pass may stop containers for long)."""
    done = threading.Event()

    def renew() -> None:
        while not done.wait(PASS_LOCK_SECONDS / 3):
            with contextlib.suppress(LockError, redis.RedisError):
                lock.reacquire()

    renewer = threading.Thread(target=renew, name="reconcile-lock", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        done.set()
        renewer.join()


def _desired(settings: Settings, redis_client: redis.Redis) -> tuple[dict[str, _Live], set[str]]:
    """The live release of each running app, and the apps being deployed (their containers are left alone)."""
    live: dict[str, _Live] = {}
    busy: set[str] = set()
    with session_scope() as session:
        domains = routing.domains_by_app(session)
        for app in list_apps(session, select(App)):
            if redis_client.exists(deploy_lock_name(settings, app.id)):
                busy.add(app.name)
            deployment = live_deployment(session, app)
            if app.stopped or deployment is None or deployment.image is None:
                continue
            live[app.name] = _Live(
                release_of(settings, app, deployment),
                plan_value(deployment.plan, "request_timeout", None),
                domains.get(app.id, ()),
            )
    return live, busy


def _sync_routes(
    settings: Settings,
    runtime: DockerRuntime,
    admin: proxy.CaddyAdmin,
    live: dict[str, _Live],
    busy: set[str],
    report: ReconcileReport,
) -> None:
    """Point each live app's route at its running web replicas; drop routes of apps that run nothing.

    An app being deployed keeps the route its rollout set; when it has none (a restarted proxy lost it), it
    gets one to its live release, which serves until the rollout switches: waiting for the deploy to end
    would leave the app unreachable for the whole build.
    """
    routing.ensure_server(admin, settings)
    current = {}
    for route in admin.routes(settings.instance):
        app = routing.app_of_route(settings, route)
        if app is not None:
            current[app] = route
    for app, item in live.items():
        if app in busy and app in current:
            continue  # its rollout moves the route; only a lost one (the proxy restarted) is put back
        upstreams = runtime.web_upstreams(app, item.release.release, item.release.port)
        if not upstreams:
            continue  # its web is (re)starting: the next pass, or its start event, routes it
        wanted = routing.app_route(
            settings, app, upstreams, request_timeout=item.request_timeout, domains=item.domains
        )
        if current.get(app) != wanted:
            admin.set_route(settings.instance, wanted)
            report.routes.append(f"{app} → {', '.join(upstreams)}")
    for app, route in current.items():
        if app not in live and app not in busy:
            admin.remove_route(str(route["@id"]))
            report.routes.append(f"{app} removed")
