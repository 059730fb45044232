"""Operations on an app: deploy, scale, limits, restart, stop and start, rollback, one-off commands, delete.

Changes to what should run are written to the database first; the reconcile pass (or a rollout, when
containers must be recreated) then makes the engine match. Only Docker objects carrying this instance's
labels are ever touched.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace

import docker
import redis
from kombu.exceptions import OperationalError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api import tasks
from api.services.apps import live_deployment
from api.services.deployments import (
    Trigger,
    get_deployment,
    request_deployment,
    request_rollback,
    request_rollout,
)
from api.services.reconciler import deploy_lock_name
from api.services.releases import plan_processes, release_of
from builder.config import config_from_mapping
from core import labels
from core.errors import ConfigError, Conflict, TemporaryError
from core.models import App, Deployment, DeploymentStatus, Service
from core.settings import Settings
from scheduler import proxy
from scheduler.desired import BEAT, WEB, containers_of, desired_processes
from scheduler.runtime.docker import DockerRuntime

MAX_REPLICAS = 20
ONE_OFF_RUN = "run"
ROLLBACK_CHOICES = 10  # releases offered to roll back to; older images are garbage-collected anyway


@contextmanager
def engine(settings: Settings) -> Iterator[DockerRuntime]:
    """A runtime on the local Docker engine, closed afterwards; TemporaryError when the engine is down."""
    try:
        client = docker.from_env()
    except docker.errors.DockerException as error:
        raise TemporaryError(f"the Docker engine does not answer: {error}") from error
    try:
        yield DockerRuntime(client, settings.instance, network_pool=settings.network_pool)
    finally:
        client.close()


def deploy(session: Session, *, app: App, trigger: str, ref: str | None = None) -> Deployment:
    """Queue a build and release of `ref` (a branch, tag or commit; default: the app's branch)."""
    return _queue(session, request_deployment(session, app=app, trigger=trigger, ref=ref))


def process_names(session: Session, app: App) -> list[str]:
    """The process types the app runs: the live release's, else its services; web first."""
    live = live_deployment(session, app)
    names = plan_processes(live.plan) if live is not None else {s.name: None for s in app.services}
    return sorted(names, key=lambda name: (name != WEB, name))


def check_process(session: Session, app: App, process: str) -> None:
    """ConfigError (where = the process) unless the app runs `process`."""
    names = process_names(session, app)
    if process not in names:
        owner = "the live release" if live_deployment(session, app) is not None else f"app {app.name!r}"
        raise ConfigError(f"{owner} has no `{process}` process; it runs {', '.join(names)}", where=process)


def scale(session: Session, *, app: App, replicas: Mapping[str, int]) -> None:
    """Set how many replicas each named process runs, commit, and queue a reconcile pass to apply it."""
    if not replicas:
        raise ConfigError('name at least one process and its replicas, e.g. {"web": 2}', where="body")
    for process, count in replicas.items():
        check_process(session, app, process)
        if count < 0:
            raise ConfigError("must be 0 or more replicas", where=process)
        if count > MAX_REPLICAS:
            raise ConfigError(f"must be at most {MAX_REPLICAS} replicas", where=process)
        if process == BEAT and count > 1:
            raise ConfigError(
                "beat runs at most one replica: two would send every periodic task twice", where=process
            )
    for process, count in replicas.items():
        _service(app, process).replicas = count
    session.commit()
    queue_reconcile("the new scale")


def set_limits(
    session: Session, *, app: App, process: str, memory: str | None, cpus: float | None
) -> Deployment | None:
    """Set a process's memory and CPU limits (None: the plan's, else unlimited) and roll them out.

    Containers take limits when they are created, so a live app gets a rollout of its live image; the
    deployment, or None when nothing runs.
    """
    check_process(session, app, process)
    _check_resource(process, "memory", memory)
    _check_resource(process, "cpus", cpus)
    service = _service(app, process)
    service.memory, service.cpus = memory, cpus
    live = live_deployment(session, app)
    if live is None or app.stopped:
        session.commit()
        return None
    return _queue(session, request_rollout(session, app=app, live=live))


def restart(session: Session, *, app: App) -> Deployment:
    """Queue a zero-downtime restart: the live release started afresh, then switched to."""
    _require_started(app, "restart it")
    live = _require_live(session, app, "restart")
    return _queue(session, request_rollout(session, app=app, live=live, trigger=Trigger.RESTART))


def set_stopped(session: Session, *, app: App, stopped: bool) -> None:
    """Stop (or start) every process of the app; a reconcile pass removes (or starts) its containers."""
    app.stopped = stopped
    session.commit()
    queue_reconcile("stopping the app" if stopped else "starting the app")


def rollback_target(
    session: Session, runtime: DockerRuntime, *, app: App, deployment_id: int | None
) -> Deployment:
    """The release a rollback goes back to: `deployment_id`, or the newest earlier one that can be run.

    Earlier means older than the live release, once live (superseded with an image), with its image
    still on the engine and different from the live one (rolling back to the same image changes nothing).
    """
    live = live_deployment(session, app)
    if deployment_id is not None:
        target = get_deployment(session, app, deployment_id)
        _check_target(app, target, live, runtime)
        return target
    query = select(Deployment).where(
        Deployment.app_id == app.id,
        Deployment.status == DeploymentStatus.SUPERSEDED.value,
        Deployment.image.is_not(None),
    )
    if live is not None:
        query = query.where(Deployment.id < live.id, Deployment.image != live.image)
    for candidate in session.scalars(query.order_by(Deployment.id.desc())):
        if candidate.image is not None and runtime.has_image(candidate.image):
            return candidate
    raise Conflict(
        f"app {app.name!r} has no earlier release to roll back to (only releases that were live and whose "
        "image is still kept count); deploy a commit instead: POST "
        f'/api/v1/apps/{app.name}/deployments {{"ref": "<commit>"}}'
    )


def rollback_candidates(session: Session, runtime: DockerRuntime, *, app: App) -> list[Deployment]:
    """The releases a rollback can go back to, newest first: once live, with their image still kept and
    different from the live one; the newest release of each image only."""
    live = live_deployment(session, app)
    query = select(Deployment).where(
        Deployment.app_id == app.id,
        Deployment.status == DeploymentStatus.SUPERSEDED.value,
        Deployment.image.is_not(None),
    )
    if live is not None and live.image is not None:
        query = query.where(Deployment.image != live.image)
    seen: set[str] = set()
    found: list[Deployment] = []
    # An inspect per image (a few ms) beats listing the engine's images (tens of ms with hundreds of them);
    # image GC keeps the newest few releases, so older candidates are not worth asking about.
    for candidate in session.scalars(query.order_by(Deployment.id.desc()).limit(4 * ROLLBACK_CHOICES)):
        if candidate.image is None or candidate.image in seen:
            continue
        seen.add(candidate.image)
        if runtime.has_image(candidate.image):
            found.append(candidate)
        if len(found) == ROLLBACK_CHOICES or len(seen) >= ROLLBACK_CHOICES:
            break
    return found


def rollback(session: Session, *, app: App, target: Deployment) -> Deployment:
    """Queue a release of `target`'s image and plan with the app's current env (no release command)."""
    _require_started(app, "roll it back")
    return _queue(session, request_rollback(session, app=app, target=target))


def run_command(
    session: Session, runtime: DockerRuntime, *, settings: Settings, app: App, command: str, timeout: int
) -> tuple[int, str]:
    """Run `command` to completion in a one-off container of the live release; (exit code, output).

    Same image, env, volumes and network as the app's processes; the `dockyard.one_off` label keeps the
    reconciler away from it, and the container is removed afterwards.
    """
    if not command.strip():
        raise ConfigError("must be a shell command, e.g. python manage.py migrate", where="command")
    live = _require_live(session, app, "run a command in")
    release = release_of(settings, app, live)
    session.close()  # a command can run for minutes: do not hold a database connection meanwhile
    process = desired_processes(replace(release, processes={ONE_OFF_RUN: command}, scale={ONE_OFF_RUN: 1}))[0]
    spec = containers_of(
        replace(
            process,
            labels={
                **labels.owned(release.instance, release.app, release=str(release.release)),
                labels.ONE_OFF: ONE_OFF_RUN,
            },
        )
    )[0]
    # Unique, so two commands run side by side and never replace each other's container.
    spec = replace(spec, name=f"{release.instance}-{release.app}-{ONE_OFF_RUN}-{secrets.token_hex(4)}")
    return runtime.run_once(spec, timeout=timeout)


def delete_app(
    session: Session,
    runtime: DockerRuntime,
    *,
    settings: Settings,
    redis_client: redis.Redis,
    app: App,
    volumes: bool,
) -> None:
    """Remove the app and its pull request previews: routes, containers, networks, images, volumes when
    asked (a preview's always), then their rows.

    Holds their deploy locks throughout, so no deployment starts and the reconciler leaves them alone
    (it would otherwise start containers again) until the rows are gone.
    """
    doomed = [*app.previews, app]
    for each in doomed:
        _refuse_while_deploying(session, each)
    locks = []
    try:
        for each in doomed:
            lock = redis_client.lock(deploy_lock_name(settings, each.id), timeout=300)
            if not lock.acquire(blocking=False):
                raise Conflict(
                    f"a deployment of {each.name!r} is running; wait for it to finish, then delete"
                )
            locks.append(lock)
        for each in doomed:
            _refuse_while_deploying(session, each)  # queued between the first look and taking the lock
        with proxy.CaddyAdmin(settings.caddy_admin) as admin:
            for each in doomed:
                admin.remove_route(proxy.route_id(settings.instance, each.name))
                runtime.remove_app(each.name)
                runtime.remove_images(each.name)
                if volumes or each.preview_of_id is not None:
                    runtime.remove_volumes(each.name)
        # Rollouts point at the release they reuse; unlink them so the rows can go in any order.
        session.execute(
            update(Deployment)
            .where(Deployment.app_id.in_([each.id for each in doomed]))
            .values(source_deployment_id=None)
        )
        session.delete(app)
        session.commit()
    except redis.RedisError as error:
        raise TemporaryError(
            f"Redis did not answer ({error}); delete the app again once it is back"
        ) from error
    finally:
        for lock in locks:
            with contextlib.suppress(redis.RedisError):  # it expires on its own
                lock.release()


def queue_reconcile(what: str) -> None:
    """Ask for a reconcile pass now; the periodic one would apply the change anyway, only later."""
    try:
        tasks.reconcile.delay()
    except OperationalError as error:
        raise TemporaryError(
            f"{what} is saved, but Redis did not take the reconcile pass that applies it ({error}); the "
            "next periodic pass applies it once Redis is back"
        ) from error


def _service(app: App, process: str) -> Service:
    for service in app.services:
        if service.name == process:
            return service
    service = Service(name=process, replicas=1)  # the live release runs it, but its row went missing
    app.services.append(service)
    return service


def _check_resource(process: str, key: str, value: object) -> None:
    """Validate one limit with the rules of dockyard.toml's `processes.<name>.<key>`."""
    try:
        config_from_mapping({"processes": {process: {key: value}}}, source="limits")
    except ConfigError as error:
        raise ConfigError(error.detail.removeprefix(f"{error.where}: "), where=key) from None


def _check_target(app: App, target: Deployment, live: Deployment | None, runtime: DockerRuntime) -> None:
    if live is not None and target.id == live.id:
        raise Conflict(f"deployment {target.id} is the live release already; name an earlier one")
    redeploy = f'POST /api/v1/apps/{app.name}/deployments {{"ref": "{target.commit or target.ref}"}}'
    if target.status != DeploymentStatus.SUPERSEDED.value or target.image is None:
        raise Conflict(
            f"deployment {target.id} never went live (it is {target.status}), so there is no release to "
            f"return to; deploy its commit instead: {redeploy}"
        )
    if not runtime.has_image(target.image):
        raise Conflict(
            f"the image of deployment {target.id} was garbage-collected (only the last releases are kept); "
            f"deploy its commit instead: {redeploy}"
        )


def _require_live(session: Session, app: App, action: str) -> Deployment:
    live = live_deployment(session, app)
    if live is None or live.image is None:
        raise Conflict(
            f"app {app.name!r} has no live release to {action}; deploy it first: "
            f"POST /api/v1/apps/{app.name}/deployments"
        )
    return live


def _require_started(app: App, then: str) -> None:
    # A rollout would start containers that the reconciler removes again, since the app stays stopped.
    if app.stopped:
        raise Conflict(
            f"app {app.name!r} is stopped; start it (POST /api/v1/apps/{app.name}/start), then {then}"
        )


def _refuse_while_deploying(session: Session, app: App) -> None:
    active = session.scalar(
        select(Deployment)
        .where(
            Deployment.app_id == app.id,
            Deployment.status.in_([status.value for status in DeploymentStatus if status.is_active]),
        )
        .order_by(Deployment.id)
    )
    if active is not None:
        raise Conflict(
            f"deployment {active.id} of {app.name!r} is {active.status}; wait for deployment {active.id} to "
            "finish, then delete the app"
        )


def _queue(session: Session, deployment: Deployment) -> Deployment:
    session.commit()
    tasks.enqueue_deployments([deployment.id])
    return deployment
