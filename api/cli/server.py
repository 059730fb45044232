"""`dockyard server`, `migrate` and `token create`: run the platform and administer it on its own host.

`server` runs every process of the platform in one process tree (host mode). `api`, `worker` and `beat` run
one part each, for the container install, where each is its own service (docker-compose.yml).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING, Annotated

import typer

from core.errors import DockyardError

if TYPE_CHECKING:
    import redis

    from core.settings import Settings

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
    import docker
    import redis
    import uvicorn

    from api.services.reconciler import reconcile
    from core.settings import get_settings
    from scheduler.caddy import start_caddy
    from scheduler.proxy import CaddyAdmin
    from scheduler.runtime.docker import DockerRuntime

    settings = get_settings()
    children: list[subprocess.Popen[bytes]] = []
    stop_watching = threading.Event()
    try:
        _prepare(settings)
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
        children.extend(subprocess.Popen(argv) for argv in _worker_commands(settings, concurrency))
        children.append(subprocess.Popen(_beat_command()))
        _watch_engine(settings, redis_client, stop_watching)
        typer.echo(f"-----> Dashboard on http://{host}:{port}/, API docs at /docs")
        # uvicorn re-raises the signal that stopped it once it has shut down; turn SIGTERM into an
        # exception so the children below are stopped too, as they are on Ctrl-C.
        signal.signal(signal.SIGTERM, _exit_on_signal)
        uvicorn.run("web.main:app", host=host, port=port, log_level="info")
    except DockyardError as error:
        raise _fail(error) from error
    finally:
        stop_watching.set()
        _stop(children)


def api(
    host: Annotated[str, typer.Option(help="Address the API listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port the API listens on.")] = 8000,
) -> None:
    """Check the host, migrate the database, then serve the API and the web UI (the container install's
    `api` service)."""
    import uvicorn

    from core.settings import get_settings

    try:
        _prepare(get_settings())
    except DockyardError as error:
        raise _fail(error) from error
    typer.echo(f"-----> Dashboard on http://{host}:{port}/, API docs at /docs")
    uvicorn.run("web.main:app", host=host, port=port, log_level="info")


def worker(
    concurrency: Annotated[int, typer.Option(help="Builds that may run at once.")] = 2,
) -> None:
    """Run the build worker and the reconcile worker (the container install's `worker` service).

    Stops both when either exits, so the container restarts whole.
    """
    from api.services.preflight import check_dependencies
    from core.settings import get_settings

    settings = get_settings()
    try:
        check_dependencies(settings)
    except DockyardError as error:
        raise _fail(error) from error
    _run_until_one_exits([subprocess.Popen(argv) for argv in _worker_commands(settings, concurrency)])


def beat() -> None:
    """Run Celery beat and the engine-event watcher that triggers reconcile passes (the `beat` service)."""
    import redis

    from api.services.preflight import check_dependencies
    from core.settings import get_settings

    settings = get_settings()
    try:
        check_dependencies(settings)
    except DockyardError as error:
        raise _fail(error) from error
    stop_watching = threading.Event()
    # The watcher's first trigger is the start-up pass: routes of live apps come back after a restart.
    _watch_engine(settings, redis.Redis.from_url(settings.redis_url), stop_watching)
    try:
        _run_until_one_exits([subprocess.Popen(_beat_command())])
    finally:
        stop_watching.set()


def _prepare(settings: Settings) -> None:
    """What must hold before anything serves: the host fits, the secret key exists, the schema is current."""
    from api.services.preflight import check_dependencies
    from core.migrate import upgrade

    check_dependencies(settings)
    settings.secret()  # generate and keep the key before any process needs it
    upgrade()


CELERY = [sys.executable, "-m", "celery", "-A", "core.celery_app:celery_app"]


def _worker_commands(settings: Settings, concurrency: int) -> list[list[str]]:
    """The build worker and the reconcile worker, as commands."""
    from core.celery_app import events_queue, reconcile_queue

    # Workers of other installations may share the Redis: do not sync state with them.
    alone = ["--without-mingle", "--without-gossip", "--loglevel=INFO"]
    return [
        [
            *CELERY,
            "worker",
            *alone,
            f"--concurrency={concurrency}",
            f"--hostname=dockyard-{settings.instance}@%h",
        ],
        [
            *CELERY,
            "worker",
            *alone,
            # One slot for healing, one for reports, so a slow notification never delays a pass.
            "--concurrency=2",
            f"--queues={reconcile_queue(settings)},{events_queue(settings)}",
            f"--hostname=dockyard-{settings.instance}-reconcile@%h",
        ],
    ]


def _beat_command() -> list[str]:
    return [*CELERY, "beat", "--loglevel=INFO"]


def _watch_engine(settings: Settings, redis_client: redis.Redis, stop: threading.Event) -> None:
    """Queue a reconcile pass (debounced) whenever one of this instance's containers changes, until `stop`."""
    from api.services.events import DEBOUNCE_SECONDS, debounced, watch_engine_events
    from api.tasks import reconcile as reconcile_task

    trigger = debounced(
        settings, redis_client, lambda: reconcile_task.apply_async(countdown=DEBOUNCE_SECONDS)
    )
    threading.Thread(
        target=watch_engine_events, args=(settings, trigger, stop), name="engine-events", daemon=True
    ).start()


def _run_until_one_exits(children: list[subprocess.Popen[bytes]]) -> None:
    """Wait until a child exits (or SIGTERM or Ctrl-C comes), stop the others, and exit non-zero."""
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        while (ended := next((c for c in children if c.poll() is not None), None)) is None:
            time.sleep(1)
        typer.echo(f"-----> process {ended.pid} exited with code {ended.returncode}", err=True)
    finally:
        _stop(children)
    raise typer.Exit(ended.returncode or 1)


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
