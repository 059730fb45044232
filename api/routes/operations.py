"""/api/v1/apps/{name}/…: operate a running app — scale, limits, restart, stop, start, rollback, run, logs,
and delete it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator

import anyio
import redis
from fastapi import APIRouter, Query, Response, status
from fastapi.responses import PlainTextResponse, StreamingResponse

from api.deps import CurrentPrincipal, SessionDep, SettingsDep
from api.openapi import errors
from api.routes.apps import app_public
from api.schemas import (
    AppPublic,
    DeploymentAccepted,
    ProcessLimits,
    RollbackRequest,
    RolloutAccepted,
    RunRequest,
    RunResult,
    ServicePublic,
)
from api.services import operations, runtime_logs
from api.services.access import Permission, app_for
from api.services.processes import service_status
from core.settings import Settings

router = APIRouter(prefix="/api/v1/apps/{name}", tags=["operations"])


@router.post("/scale", response_model=list[ServicePublic], responses=errors(503))
def scale(
    name: str, body: dict[str, int], session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> list[ServicePublic]:
    """Set replicas per process (`{"web": 2, "worker": 3}`); a reconcile pass starts or stops containers."""
    app = app_for(session, principal, name, Permission.DEPLOY)
    operations.scale(session, app=app, replicas=body)
    with operations.engine(settings) as runtime:
        rows = service_status(runtime, app)
    return [ServicePublic.model_validate(row) for row in rows]


@router.put(
    "/processes/{process}/limits",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RolloutAccepted,
    responses=errors(503),
)
def set_limits(
    name: str, process: str, body: ProcessLimits, session: SessionDep, principal: CurrentPrincipal
) -> RolloutAccepted:
    """Set a process's memory and CPU limits; a live app rolls out its image again to apply them."""
    app = app_for(session, principal, name, Permission.WRITE)
    deployment = operations.set_limits(session, app=app, process=process, memory=body.memory, cpus=body.cpus)
    return RolloutAccepted(deployment=deployment.id if deployment else None)


@router.post(
    "/restart",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeploymentAccepted,
    responses=errors(409, 503),
)
def restart(name: str, session: SessionDep, principal: CurrentPrincipal) -> DeploymentAccepted:
    """Restart every process without downtime: the live release is started afresh, then switched to."""
    deployment = operations.restart(session, app=app_for(session, principal, name, Permission.DEPLOY))
    return DeploymentAccepted(id=deployment.id, status=deployment.status)


@router.post("/stop", response_model=AppPublic, responses=errors(503))
def stop(name: str, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal) -> AppPublic:
    """Stop every process (releases, settings and volumes stay); the app's host answers 404 meanwhile."""
    app = app_for(session, principal, name, Permission.DEPLOY)
    operations.set_stopped(session, app=app, stopped=True)
    return app_public(session, settings, app)


@router.post("/start", response_model=AppPublic, responses=errors(503))
def start(name: str, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal) -> AppPublic:
    """Run a stopped app's live release again."""
    app = app_for(session, principal, name, Permission.DEPLOY)
    operations.set_stopped(session, app=app, stopped=False)
    return app_public(session, settings, app)


@router.post(
    "/rollback",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeploymentAccepted,
    responses=errors(409, 503),
)
def rollback(
    name: str,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    body: RollbackRequest | None = None,
) -> DeploymentAccepted:
    """Release an earlier deployment's image again, with the current env; no rebuild, no release command."""
    app = app_for(session, principal, name, Permission.DEPLOY)
    with operations.engine(settings) as runtime:
        target = operations.rollback_target(
            session, runtime, app=app, deployment_id=body.deployment if body else None
        )
    deployment = operations.rollback(session, app=app, target=target)
    return DeploymentAccepted(id=deployment.id, status=deployment.status)


@router.post("/run", response_model=RunResult, responses=errors(409, 503, 504))
def run(
    name: str, body: RunRequest, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> RunResult:
    """Run a command once in a throwaway container of the live release; its exit code and output."""
    app = app_for(session, principal, name, Permission.DEPLOY)
    with operations.engine(settings) as runtime:
        exit_code, output = operations.run_command(
            session, runtime, settings=settings, app=app, command=body.command, timeout=body.timeout
        )
    return RunResult(exit_code=exit_code, output=output)


@router.get("/logs", response_class=PlainTextResponse, response_model=None, responses=errors(503))
def logs(
    name: str,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    process: str | None = Query(None, description="One process type (web, worker…); default: all."),
    tail: int | None = Query(
        None,
        ge=0,
        le=10_000,
        description="Lines to show (per container when following); default 100, or all after `since`.",
    ),
    since: str | None = Query(
        None,
        description="The time of the last line you have (`2026-11-22T23:50:01.123456Z`): resume after it.",
    ),
    follow: bool = Query(False, description="Keep streaming new lines until the client disconnects."),
) -> PlainTextResponse | StreamingResponse:
    """What the app's containers write, `<time> <process>.<replica> | <line>`, oldest first."""
    app = app_for(session, principal, name, Permission.READ)
    if process is not None:
        operations.check_process(session, app, process)
    if since is not None:
        runtime_logs.resume_point(since)  # refuse a bad time now, not halfway through a stream
    session.close()  # a stream can last hours: do not hold a database connection meanwhile
    wanted = tail if tail is not None else runtime_logs.default_tail(since)
    if follow:
        return StreamingResponse(
            _until_disconnect(_follow(settings, name, process, wanted, since)),
            media_type="text/plain; charset=utf-8",
        )
    with operations.engine(settings) as runtime:
        text = runtime_logs.read_logs(runtime, name, process=process, tail=wanted, since=since)
    return PlainTextResponse(text)


def _follow(
    settings: Settings, name: str, process: str | None, tail: int | None, since: str | None
) -> Generator[str]:
    with operations.engine(settings) as runtime:
        yield from runtime_logs.follow_logs(runtime, name, process=process, tail=tail, since=since)


async def _until_disconnect(lines: Generator[str]) -> AsyncIterator[str]:
    """`lines`, each read in a worker thread; closed as soon as the client goes away.

    Starlette cancels the response when the client disconnects, which runs this `finally` at once; a plain
    generator would be closed only when the garbage collector finds it, its followers reading until then.
    """
    try:
        while (line := await anyio.to_thread.run_sync(next, lines, None)) is not None:
            yield line
    finally:
        lines.close()  # no read is in progress: cancelling waits for the worker thread to return


@router.delete(
    "", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, responses=errors(409, 503)
)
def delete_app(
    name: str,
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    volumes: bool = Query(False, description="Also delete the app's volumes and the data on them."),
) -> Response:
    """Delete the app: its containers, route, network and images, its volumes if asked, and its history."""
    app = app_for(session, principal, name, Permission.MANAGE)
    with operations.engine(settings) as runtime:
        operations.delete_app(
            session,
            runtime,
            settings=settings,
            redis_client=redis.Redis.from_url(settings.redis_url),
            app=app,
            volumes=volumes,
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
