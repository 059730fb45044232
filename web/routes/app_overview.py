"""The app page: what runs (URL, live release, each process's containers) and what the viewer may do to it:
deploy, restart, stop and start, scale, roll back, delete. Every form re-checks the permission it needs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import redis
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.deps import SessionDep, SettingsDep
from api.services import operations
from api.services.access import Permission
from api.services.apps import live_deployment
from api.services.deployments import Trigger, is_running, newest_deployment
from api.services.previews import preview_summaries
from api.services.processes import current_services, service_status
from core.errors import ConfigError, DockyardError, TemporaryError
from core.models import Deployment
from core.settings import Settings
from scheduler.desired import BEAT
from scheduler.runtime.docker import DockerRuntime
from web.pages import AppPage, app_page
from web.session import Viewer, ViewerDep, csrf_protect
from web.templating import form_error, redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

SCALE_FIELD = "replicas_"  # the scale form's inputs: replicas_web, replicas_worker, …


async def _form_fields(request: Request) -> dict[str, str]:
    """Every text field of the posted form (the scale form's inputs depend on the app's processes)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


FormFields = Annotated[dict[str, str], Depends(_form_fields)]


def status_context(
    session: Session, settings: Settings, page: AppPage, runtime: DockerRuntime | None = None
) -> dict[str, Any]:
    """What the live status panel shows: URL, live release, a deployment in progress, the processes
    (asked of `runtime` when the caller has one open, else of a new connection to the engine)."""
    app = page.app
    newest = newest_deployment(session, app)
    context: dict[str, Any] = {
        "page": page,
        "app": app,
        "url": settings.app_url(app.name),
        "live": live_deployment(session, app),
        "in_progress": newest if newest is not None and is_running(newest) else None,
        "services": [],
        "engine_error": None,
    }
    try:
        context["services"] = service_status(runtime, app) if runtime else current_services(settings, app)
    except TemporaryError as error:
        context["engine_error"] = error.detail
    return context


def _overview(
    request: Request,
    session: Session,
    settings: Settings,
    viewer: Viewer,
    page: AppPage,
    *,
    status_code: int = 200,
    scale_values: dict[str, str] | None = None,
    **extra: Any,
) -> Response:
    app = page.app
    candidates: list[Deployment] = []
    rollback_error = None
    status: dict[str, Any] | None = None
    try:
        with operations.engine(settings) as runtime:  # one connection for the panel and the rollback list
            status = status_context(session, settings, page, runtime)
            rollback_error = status["engine_error"]  # which images are kept is the engine's to say
            if page.can("deploy") and rollback_error is None:
                candidates = operations.rollback_candidates(session, runtime, app=app)
    except TemporaryError as error:
        rollback_error = error.detail
    if status is None:
        status = status_context(session, settings, page)
    replicas = {service.name: service.replicas for service in app.services}
    processes = [
        {
            "name": name,
            "value": (scale_values or {}).get(name, str(replicas.get(name, 1))),
            "max": 1 if name == BEAT else operations.MAX_REPLICAS,
        }
        for name in operations.process_names(session, app)
    ]
    return render(
        request,
        "app_overview.html",
        viewer,
        status_code=status_code,
        tab="overview",
        processes=processes,
        candidates=candidates,
        rollback_error=rollback_error,
        keep_releases=settings.keep_releases,
        previews=preview_summaries(session, settings, app),
        **status,
        **extra,
    )


def _refused(
    request: Request,
    session: Session,
    settings: Settings,
    viewer: Viewer,
    name: str,
    error: DockyardError,
    **extra: Any,
) -> Response:
    """The app page again, saying why the action was refused."""
    session.rollback()
    page = app_page(session, viewer, name)
    return _overview(
        request, session, settings, viewer, page, status_code=error.status, **form_error(error), **extra
    )


@router.get("/apps/{name}")
def overview(
    request: Request, name: str, session: SessionDep, settings: SettingsDep, viewer: ViewerDep
) -> Response:
    """The app at a glance, with the actions the viewer may take."""
    return _overview(request, session, settings, viewer, app_page(session, viewer, name))


@router.get("/apps/{name}/status")
def status_panel(
    request: Request, name: str, session: SessionDep, settings: SettingsDep, viewer: ViewerDep
) -> Response:
    """The status panel alone: the app page refreshes it every few seconds."""
    page = app_page(session, viewer, name)
    return render(request, "app_overview_status.html", viewer, **status_context(session, settings, page))


def _act(
    request: Request,
    session: Session,
    settings: Settings,
    viewer: Viewer,
    name: str,
    permission: Permission,
    action: Callable[[AppPage], Response],
) -> Response:
    """Run `action` when the viewer may do `permission` on the app; a refusal re-renders the app page."""
    page = app_page(session, viewer, name, permission)
    try:
        return action(page)
    except DockyardError as error:
        return _refused(request, session, settings, viewer, name, error)


@router.post("/apps/{name}/deploy")
def deploy(
    request: Request,
    name: str,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    ref: str = Form(""),
) -> Response:
    """Build and release the app's branch (or `ref`, a commit to redeploy), then watch its log."""

    def run(page: AppPage) -> Response:
        deployment = operations.deploy(session, app=page.app, trigger=Trigger.WEB, ref=ref.strip() or None)
        return redirect(
            f"/apps/{name}/deployments/{deployment.id}", notice=f"Deployment {deployment.id} queued."
        )

    return _act(request, session, settings, viewer, name, Permission.DEPLOY, run)


@router.post("/apps/{name}/restart")
def restart(
    request: Request, name: str, session: SessionDep, settings: SettingsDep, viewer: ViewerDep
) -> Response:
    """Start the live release afresh and switch to it, without downtime."""

    def run(page: AppPage) -> Response:
        deployment = operations.restart(session, app=page.app)
        return redirect(
            f"/apps/{name}/deployments/{deployment.id}",
            notice=f"Restarting: deployment {deployment.id} starts the live release afresh.",
        )

    return _act(request, session, settings, viewer, name, Permission.DEPLOY, run)


@router.post("/apps/{name}/stop")
def stop(
    request: Request, name: str, session: SessionDep, settings: SettingsDep, viewer: ViewerDep
) -> Response:
    """Stop every process; releases, settings and volumes stay."""

    def run(page: AppPage) -> Response:
        operations.set_stopped(session, app=page.app, stopped=True)
        return redirect(f"/apps/{name}", notice=f"{name} is stopping: its containers are being removed.")

    return _act(request, session, settings, viewer, name, Permission.DEPLOY, run)


@router.post("/apps/{name}/start")
def start(
    request: Request, name: str, session: SessionDep, settings: SettingsDep, viewer: ViewerDep
) -> Response:
    """Run a stopped app's live release again."""

    def run(page: AppPage) -> Response:
        operations.set_stopped(session, app=page.app, stopped=False)
        return redirect(f"/apps/{name}", notice=f"{name} is starting.")

    return _act(request, session, settings, viewer, name, Permission.DEPLOY, run)


@router.post("/apps/{name}/scale")
def scale(
    request: Request,
    name: str,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    fields: FormFields,
) -> Response:
    """Set the replicas of each process; a reconcile pass starts or stops containers."""
    page = app_page(session, viewer, name, Permission.DEPLOY)
    typed = {
        key.removeprefix(SCALE_FIELD): value for key, value in fields.items() if key.startswith(SCALE_FIELD)
    }
    try:
        replicas = {}
        for process, value in typed.items():
            if not value.strip().isdigit():
                raise ConfigError("must be a whole number of replicas, 0 or more", where=process)
            replicas[process] = int(value)
        operations.scale(session, app=page.app, replicas=replicas)
    except DockyardError as error:
        return _refused(request, session, settings, viewer, name, error, scale_values=typed)
    counts = ", ".join(f"{process}: {count}" for process, count in replicas.items())
    return redirect(f"/apps/{name}", notice=f"Scaled to {counts}; containers start or stop in a moment.")


@router.post("/apps/{name}/rollback")
def rollback(
    request: Request,
    name: str,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    deployment: int | None = Form(None),
) -> Response:
    """Release an earlier deployment's image again (the newest kept one unless one is chosen)."""

    def run(page: AppPage) -> Response:
        with operations.engine(settings) as runtime:
            target = operations.rollback_target(session, runtime, app=page.app, deployment_id=deployment)
        queued = operations.rollback(session, app=page.app, target=target)
        return redirect(
            f"/apps/{name}/deployments/{queued.id}",
            notice=f"Rolling back to deployment {target.id} as deployment {queued.id}.",
        )

    return _act(request, session, settings, viewer, name, Permission.DEPLOY, run)


@router.post("/apps/{name}/delete")
def delete(
    request: Request,
    name: str,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    confirm: str = Form(""),
    volumes: bool = Form(False),
) -> Response:
    """Delete the app (and its volumes when asked) once its name is typed."""

    def run(page: AppPage) -> Response:
        if confirm.strip() != name:
            raise ConfigError(f"type the app's name, {name}, to confirm", where="confirm")
        kept = " Its volumes (and their data) were kept." if page.app.volumes and not volumes else ""
        with operations.engine(settings) as runtime, redis.Redis.from_url(settings.redis_url) as client:
            operations.delete_app(
                session, runtime, settings=settings, redis_client=client, app=page.app, volumes=volumes
            )
        return redirect("/", notice=f"App {name} was deleted.{kept}")

    return _act(request, session, settings, viewer, name, Permission.MANAGE, run)
