"""`dockyard server`, `migrate` and `token create`: run the platform and administer it on its own host."""

from __future__ import annotations

import signal
import subprocess
import sys
from typing import Annotated

import typer

from core.errors import DockyardError

token_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)


def _fail(error: DockyardError) -> typer.Exit:
    typer.secho(f"error: {error.detail}", err=True, fg=typer.colors.RED)
    return typer.Exit(1)


def migrate() -> None:
    """Create or upgrade the database schema."""
    from core.migrate import upgrade

    upgrade()
    typer.echo("database is up to date")


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option("--name", help="What the token is for.")],
    scopes: Annotated[
        list[str] | None,
        typer.Option("--scope", help="read, deploy, write, manage or admin; repeat it; default: all."),
    ] = None,
    expires_in_days: Annotated[int | None, typer.Option("--expires-in-days", help="Default: never.")] = None,
) -> None:
    """Create a site administrator's API token on this host and print it (it is shown only once)."""
    from api.services.accounts import ensure_site_admin
    from api.services.tokens import create_token
    from core.db import session_scope

    try:
        with session_scope() as session:
            _row, token = create_token(
                session,
                user=ensure_site_admin(session),
                name=name,
                scopes=scopes or None,
                expires_in_days=expires_in_days,
            )
    except DockyardError as error:
        raise _fail(error) from error
    typer.echo(token)


def server(
    host: Annotated[str, typer.Option(help="Address the API listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port the API listens on.")] = 8000,
    concurrency: Annotated[int, typer.Option(help="Builds that may run at once.")] = 2,
) -> None:
    """Run the API, a build worker and beat; start Caddy when none answers. Ctrl-C stops them all."""
    import threading

    import docker
    import redis
    import uvicorn

    from api.services.events import DEBOUNCE_SECONDS, debounced, watch_engine_events
    from api.services.preflight import check_dependencies
    from api.services.reconciler import reconcile
    from api.tasks import reconcile as reconcile_task
    from core.celery_app import events_queue, reconcile_queue
    from core.migrate import upgrade
    from core.settings import get_settings
    from scheduler.caddy import start_caddy
    from scheduler.proxy import CaddyAdmin
    from scheduler.runtime.docker import DockerRuntime

    settings = get_settings()
    children: list[subprocess.Popen[bytes]] = []
    stop_watching = threading.Event()
    try:
        check_dependencies(settings)
        settings.secret()  # generate and keep the key before any process needs it
        upgrade()
        caddy = start_caddy(admin=settings.caddy_admin, data_dir=settings.data_dir)
        if caddy is not None:
            typer.echo(f"-----> Started Caddy (admin {settings.caddy_admin}, apps on :{settings.http_port})")
            children.append(caddy)
        redis_client = redis.Redis.from_url(settings.redis_url)
        client = docker.from_env()
        try:
            with CaddyAdmin(settings.caddy_admin) as admin:
                report = reconcile(
                    settings,
                    redis_client=redis_client,
                    runtime=DockerRuntime(client, settings.instance, network_pool=settings.network_pool),
                    admin=admin,
                )
        finally:
            client.close()
        typer.echo(
            f"-----> Reconciled: {len(report.actions)} container change(s), {len(report.routes)} route(s) set"
            + "".join(f"\n       {error}" for error in report.errors)
        )
        celery = [sys.executable, "-m", "celery", "-A", "core.celery_app:celery_app"]
        # Workers of other installations may share the Redis: do not sync state with them.
        alone = ["--without-mingle", "--without-gossip", "--loglevel=INFO"]
        children.append(
            subprocess.Popen(
                [
                    *celery,
                    "worker",
                    *alone,
                    f"--concurrency={concurrency}",
                    f"--hostname=dockyard-{settings.instance}@%h",
                ]
            )
        )
        children.append(
            subprocess.Popen(
                [
                    *celery,
                    "worker",
                    *alone,
                    # One slot for healing, one for reports, so a slow notification never delays a pass.
                    "--concurrency=2",
                    f"--queues={reconcile_queue(settings)},{events_queue(settings)}",
                    f"--hostname=dockyard-{settings.instance}-reconcile@%h",
                ]
            )
        )
        children.append(subprocess.Popen([*celery, "beat", "--loglevel=INFO"]))
        trigger = debounced(
            settings, redis_client, lambda: reconcile_task.apply_async(countdown=DEBOUNCE_SECONDS)
        )
        threading.Thread(
            target=watch_engine_events,
            args=(settings, trigger, stop_watching),
            name="engine-events",
            daemon=True,
        ).start()
        typer.echo(f"-----> API on http://{host}:{port}/ (docs at /docs)")
        # uvicorn re-raises the signal that stopped it once it has shut down; turn SIGTERM into an
        # exception so the children below are stopped too, as they are on Ctrl-C.
        signal.signal(signal.SIGTERM, _exit_on_signal)
        uvicorn.run("api.main:app", host=host, port=port, log_level="info")
    except DockyardError as error:
        raise _fail(error) from error
    finally:
        stop_watching.set()
        _stop(children)


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _stop(children: list[subprocess.Popen[bytes]]) -> None:
    """Stop what `server` started, newest first; a worker gets time to finish its build step."""
    for child in reversed(children):
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    for child in reversed(children):
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
