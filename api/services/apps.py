"""Apps: create, look up, and change what they run with (env, volumes)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from builder.config import config_from_mapping, to_mapping
from core import crypto
from core.errors import ConfigError, Conflict, NotFound
from core.models import App, Deployment, DeploymentStatus, EnvVar, Service, Team, Volume
from core.settings import Settings

APP_NAME = re.compile(r"^[a-z]([a-z0-9-]{0,28}[a-z0-9])?$")
ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PROCESS_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
VOLUME_NAME = re.compile(r"^[a-z0-9]([a-z0-9_-]{0,38}[a-z0-9])?$")
RESERVED_NAMES = {
    "new": "is taken by the dashboard's page for creating apps (/apps/new); choose another name"
}
RESERVED_ENV = {"PORT": "Dockyard sets PORT to the port your web process must listen on"}
RESERVED_MOUNTS = ("/", "/app", "/opt/venv", "/proc", "/sys", "/dev", "/etc", "/usr", "/bin", "/lib")


def repo_full_name(repo_url: str) -> str:
    """`owner/repo` as GitHub names it, derived from a clone URL (https, ssh, file)."""
    url = repo_url.strip()
    if url.startswith("git@") and ":" in url:
        path = url.split(":", 1)[1]
    else:
        parsed = urlparse(url)
        if parsed.scheme not in ("https", "http", "file", "ssh", "git"):
            raise ConfigError(
                "must be an https://, ssh or file:// git URL, e.g. https://github.com/owner/repo.git",
                where="repo_url",
            )
        path = parsed.path
    parts = [part for part in path.removesuffix("/").removesuffix(".git").split("/") if part]
    if len(parts) < 2:
        raise ConfigError("must name a repository as …/owner/repo", where="repo_url")
    return f"{parts[-2]}/{parts[-1]}"


def create_app(
    session: Session,
    *,
    settings: Settings,
    team: Team,
    name: str,
    repo_url: str,
    branch: str,
    config: Mapping[str, Any] | None = None,
) -> tuple[App, str]:
    """Create an app owned by `team` with a web service; returns it and its webhook secret (shown once)."""
    if not APP_NAME.match(name):
        raise ConfigError(
            "must be a DNS label: 1-30 lowercase letters, digits and dashes, starting with a letter",
            where="name",
        )
    if name in RESERVED_NAMES:
        raise ConfigError(RESERVED_NAMES[name], where="name")
    if not branch.strip() or branch.startswith("refs/"):
        raise ConfigError("must be a branch name such as main", where="branch")
    full_name = repo_full_name(repo_url)
    checked = validated_config(config or {})
    if session.scalar(select(App.id).where(App.name == name)) is not None:
        raise Conflict(f"an app named {name!r} already exists; choose another name")
    secret = crypto.new_token("whsec")
    app = App(
        name=name,
        team=team,
        repo_url=repo_url.strip(),
        repo_full_name=full_name,
        branch=branch.strip(),
        webhook_secret=crypto.encrypt(settings.secret(), secret),
        config=checked,
        services=[Service(name="web", replicas=1)],
    )
    session.add(app)
    session.flush()
    return app, secret


def validated_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """`config` checked against dockyard.toml's schema (ConfigError names each bad key), normalized."""
    return to_mapping(config_from_mapping(config, source="config"))


def set_config(app: App, config: Mapping[str, Any]) -> None:
    """Replace the app's explicit build and run settings."""
    app.config = validated_config(config)


def rotate_webhook_secret(session: Session, *, settings: Settings, app: App) -> str:
    """Give the app a new webhook secret (the old one stops verifying at once); returns it, shown once."""
    secret = crypto.new_token("whsec")
    app.webhook_secret = crypto.encrypt(settings.secret(), secret)
    session.flush()
    return secret


def list_apps(session: Session, visible: Select[App]) -> list[App]:
    """The apps of a query (the caller's visible apps), by name."""
    return list(session.scalars(visible.order_by(App.name)))


def live_deployment(session: Session, app: App) -> Deployment | None:
    """The release serving traffic now, if any."""
    return session.scalar(
        select(Deployment)
        .where(Deployment.app_id == app.id, Deployment.status == DeploymentStatus.LIVE.value)
        .order_by(Deployment.id.desc())
    )


def set_env(
    session: Session, *, settings: Settings, app: App, values: dict[str, str], secret: bool = True
) -> list[str]:
    """Set (add or replace) environment variables, secret or plain; returns every key the app now has."""
    for key in values:
        if not ENV_KEY.match(key):
            raise ConfigError("must be letters, digits and underscores, not starting with a digit", where=key)
        if key in RESERVED_ENV:
            raise ConfigError(RESERVED_ENV[key], where=key)
    existing = {var.key: var for var in app.env_vars}
    for key, value in values.items():
        encrypted = crypto.encrypt(settings.secret(), value)
        if key in existing:
            existing[key].value_encrypted = encrypted
            existing[key].is_secret = secret
        else:
            app.env_vars.append(EnvVar(key=key, value_encrypted=encrypted, is_secret=secret))
    session.flush()
    return env_keys(app=app)


def env_listing(settings: Settings, app: App) -> list[tuple[str, str | None, bool]]:
    """(key, value, is_secret) for each variable, sorted; a secret's value is None."""
    return [
        (
            var.key,
            None if var.is_secret else crypto.decrypt(settings.secret(), var.value_encrypted),
            var.is_secret,
        )
        for var in sorted(app.env_vars, key=lambda var: var.key)
    ]


def env_keys(*, app: App) -> list[str]:
    """Every key the app has, sorted; values stay encrypted."""
    return sorted(var.key for var in app.env_vars)


def unset_env(session: Session, *, app: App, key: str) -> list[str]:
    """Remove one variable (NotFound when the app has no such key); returns the keys left."""
    found = next((var for var in app.env_vars if var.key == key), None)
    if found is None:
        raise NotFound(
            f"app {app.name!r} has no variable {key!r}; `GET /api/v1/apps/{app.name}/env` lists them"
        )
    app.env_vars.remove(found)
    session.flush()
    return env_keys(app=app)


def env_values(settings: Settings, app: App) -> dict[str, str]:
    """The app's environment in clear, for its containers only."""
    return {var.key: crypto.decrypt(settings.secret(), var.value_encrypted) for var in app.env_vars}


def env_value(settings: Settings, app: App, key: str) -> str:
    """One variable's value in clear, for a team admin who asked to see it (NotFound when there is none)."""
    found = next((var for var in app.env_vars if var.key == key), None)
    if found is None:
        raise NotFound(f"app {app.name!r} has no variable {key!r}")
    return crypto.decrypt(settings.secret(), found.value_encrypted)


def add_volume(
    session: Session, *, app: App, name: str, mount_path: str, process: str | None = None
) -> Volume:
    """Attach a named volume that outlives deploys, to every process or to one process type."""
    if not VOLUME_NAME.match(name):
        raise ConfigError("must be lowercase letters, digits, dashes and underscores", where="name")
    path = "/" + mount_path.strip("/")
    if not mount_path.startswith("/") or path in RESERVED_MOUNTS:
        raise ConfigError(
            "must be an absolute path that does not hide the app or the system, e.g. /data",
            where="mount_path",
        )
    if any(volume.name == name for volume in app.volumes):
        raise Conflict(f"app {app.name!r} already has a volume named {name!r}")
    if process is not None and not PROCESS_NAME.match(process):
        raise ConfigError("must be a process type such as web or worker", where="process")
    # Two volumes at one path clash when some process would mount both.
    if any(
        volume.mount_path == path and (volume.process is None or process is None or volume.process == process)
        for volume in app.volumes
    ):
        raise Conflict(f"app {app.name!r} already mounts a volume at {path}")
    volume = Volume(name=name, mount_path=path, process=process)
    app.volumes.append(volume)
    session.flush()
    return volume


def detach_volume(session: Session, *, app: App, name: str) -> Volume:
    """Stop mounting a volume in the app's containers; its data stays on the engine (deleting the app
    with its volumes removes it), so detaching by mistake loses nothing."""
    found = next((volume for volume in app.volumes if volume.name == name), None)
    if found is None:
        raise NotFound(
            f"app {app.name!r} has no volume {name!r}; `GET /api/v1/apps/{app.name}/volumes` lists them"
        )
    app.volumes.remove(found)
    session.flush()
    return found
