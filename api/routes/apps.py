"""/api/v1/apps: create apps and change what they run with."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, status
from sqlalchemy.orm import Session

from api.deps import CurrentPrincipal, SessionDep, SettingsDep
from api.openapi import errors
from api.schemas import (
    AppCreate,
    AppCreated,
    AppPublic,
    EnvKeys,
    EnvVarPublic,
    LiveRelease,
    ServicePublic,
    VolumeCreate,
    VolumePublic,
)
from api.services import apps as app_service
from api.services import teams
from api.services.access import Permission, app_for, check_scope, visible_apps
from api.services.config_rollouts import roll_out
from api.services.processes import current_services
from core.models import App
from core.settings import Settings

router = APIRouter(prefix="/api/v1/apps", tags=["apps"])


def app_public(session: Session, settings: Settings, app: App) -> AppPublic:
    """The API's view of an app."""
    live = app_service.live_deployment(session, app)
    return AppPublic(
        name=app.name,
        team=app.team.name,
        repo_url=app.repo_url,
        repo_full_name=app.repo_full_name,
        branch=app.branch,
        url=settings.app_url(app.name),
        domains=[domain.hostname for domain in app.domains],
        webhook_url=f"{settings.public_url.rstrip('/')}/webhooks/github",
        live_deployment=LiveRelease(id=live.id, commit=live.commit) if live else None,
        config=app.config or {},
        stopped=app.stopped,
        created_at=app.created_at,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=AppCreated, responses=errors(404, 409))
def create_app(
    body: AppCreate, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> AppCreated:
    """Create an app in one of your teams; the response carries its webhook secret, shown only here."""
    team = teams.team_for_new_app(session, principal, body.team)
    app, secret = app_service.create_app(
        session,
        settings=settings,
        team=team,
        name=body.name,
        repo_url=body.repo_url,
        branch=body.branch,
        config=body.config,
    )
    return AppCreated(**app_public(session, settings, app).model_dump(), webhook_secret=secret)


@router.get("", response_model=list[AppPublic])
def list_apps(session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal) -> list[AppPublic]:
    """The apps of your teams, by name."""
    check_scope(principal, Permission.READ)
    return [
        app_public(session, settings, app) for app in app_service.list_apps(session, visible_apps(principal))
    ]


@router.get("/{name}", response_model=AppPublic)
def get_app(name: str, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal) -> AppPublic:
    """One app: its URL, live release and webhook URL."""
    return app_public(session, settings, app_for(session, principal, name, Permission.READ))


@router.put("/{name}/config", response_model=AppPublic)
def set_config(
    name: str, body: dict[str, Any], session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> AppPublic:
    """Replace the app's explicit settings (dockyard.toml's shape); the next deployment builds with them."""
    app = app_for(session, principal, name, Permission.WRITE)
    app_service.set_config(app, body)
    return app_public(session, settings, app)


@router.put("/{name}/env", response_model=EnvKeys)
def set_env(
    name: str,
    body: dict[str, str],
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    secret: bool = Query(
        True,
        description="false stores plain settings (LOG_LEVEL) whose values lists show; secrets never are.",
    ),
) -> EnvKeys:
    """Set variables (others are kept); a live app rolls out a new release without rebuilding."""
    app = app_for(session, principal, name, Permission.WRITE)
    keys = app_service.set_env(session, settings=settings, app=app, values=body, secret=secret)
    return EnvKeys(keys=keys, deployment=roll_out(session, app))


@router.get("/{name}/env", response_model=list[EnvVarPublic])
def list_env(
    name: str, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> list[EnvVarPublic]:
    """The app's variables by key; a secret's value is never returned (`"value": null, "is_secret": true`)."""
    app = app_for(session, principal, name, Permission.READ)
    return [
        EnvVarPublic(key=key, value=value, is_secret=is_secret)
        for key, value, is_secret in app_service.env_listing(settings, app)
    ]


@router.delete("/{name}/env/{key}", response_model=EnvKeys)
def unset_env(name: str, key: str, session: SessionDep, principal: CurrentPrincipal) -> EnvKeys:
    """Remove one variable; a live app rolls out a new release without it, without rebuilding."""
    app = app_for(session, principal, name, Permission.WRITE)
    keys = app_service.unset_env(session, app=app, key=key)
    return EnvKeys(keys=keys, deployment=roll_out(session, app))


@router.post("/{name}/volumes", status_code=status.HTTP_201_CREATED, response_model=VolumePublic)
def add_volume(
    name: str, body: VolumeCreate, session: SessionDep, principal: CurrentPrincipal
) -> VolumePublic:
    """Attach a named volume that survives deploys; a live app rolls out a new release."""
    app = app_for(session, principal, name, Permission.WRITE)
    volume = app_service.add_volume(
        session, app=app, name=body.name, mount_path=body.mount_path, process=body.process
    )
    return VolumePublic(
        name=volume.name,
        mount_path=volume.mount_path,
        process=volume.process,
        deployment=roll_out(session, app),
    )


@router.get("/{name}/volumes", response_model=list[VolumePublic])
def list_volumes(name: str, session: SessionDep, principal: CurrentPrincipal) -> list[VolumePublic]:
    """The app's volumes: name, where they are mounted and in which process (null: every process)."""
    app = app_for(session, principal, name, Permission.READ)
    return [
        VolumePublic(name=volume.name, mount_path=volume.mount_path, process=volume.process)
        for volume in sorted(app.volumes, key=lambda volume: volume.name)
    ]


@router.delete("/{name}/volumes/{volume}", response_model=VolumePublic, responses=errors(404))
def detach_volume(name: str, volume: str, session: SessionDep, principal: CurrentPrincipal) -> VolumePublic:
    """Stop mounting a volume; a live app rolls out a new release without it. The data stays on the
    engine until the app is deleted with `?volumes=true`, so attaching it again brings it back."""
    app = app_for(session, principal, name, Permission.WRITE)
    found = app_service.detach_volume(session, app=app, name=volume)
    return VolumePublic(
        name=found.name,
        mount_path=found.mount_path,
        process=found.process,
        deployment=roll_out(session, app),
    )


@router.get("/{name}/services", response_model=list[ServicePublic])
def list_services(
    name: str, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> list[ServicePublic]:
    """Each process type with its replicas and containers, as the engine reports them."""
    app = app_for(session, principal, name, Permission.READ)
    return [ServicePublic.model_validate(row) for row in current_services(settings, app)]
