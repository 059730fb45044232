"""How an app is released and run — health check, release command, timeouts, limits — as a form edits them.

Health check, release command and timeouts live in the app's explicit config (dockyard.toml's shape), where
they win over the repository's `dockyard.toml` and detection. A build resolves them into the deployment's
plan, so a change applies at the next build, and the live release shows what is in force now. Memory and
CPU limits are set per process through `operations.set_limits` (as the API does), which rolls them out.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from api.services.apps import set_config
from api.services.releases import plan_value
from core.errors import ConfigError
from core.models import App
from core.settings import Settings

EXPLICIT_SOURCE = "config"  # validated_config's source: its errors read `config: deploy.drain`


@dataclass(frozen=True)
class RunSetting:
    """One editable setting: its key in the config (`section.key`, also the form field), how to show it."""

    key: str
    label: str
    hint: str
    seconds: bool = False

    @property
    def section(self) -> str:
        return self.key.split(".")[0]

    @property
    def name(self) -> str:
        return self.key.split(".")[1]


SETTINGS = (
    RunSetting("healthcheck.path", "Health check path", "A new release gets traffic once this path answers."),
    RunSetting(
        "healthcheck.timeout", "Health check timeout", "How long a new release may take to answer.", True
    ),
    RunSetting(
        "deploy.release", "Release command", "Runs once per deploy before traffic moves (migrations)."
    ),
    RunSetting(
        "deploy.request_timeout",
        "Request timeout",
        "The longest the proxy waits for a response; empty: no cap.",
        True,
    ),
    RunSetting("deploy.drain", "Drain time", "How long old web containers finish open requests.", True),
    RunSetting("deploy.stop_timeout", "Stop timeout", "Time between SIGTERM and SIGKILL.", True),
)


@dataclass(frozen=True)
class SettingState:
    """A setting as the page shows it: the explicit value (None: not set), and what the live release uses."""

    setting: RunSetting
    explicit: str | None
    effective: str
    source: str


def setting_states(settings: Settings, app: App, plan: Mapping[str, Any] | None) -> list[SettingState]:
    """Each setting's explicit value and the value in force, with where that comes from; `plan` is the live
    release's (None when nothing is live)."""
    config = app.config or {}
    defaults = _defaults(settings)
    states = []
    for setting in SETTINGS:
        explicit = (config.get(setting.section) or {}).get(setting.name)
        planned = _planned(plan, setting) if plan is not None else None
        if planned is not None:
            effective, source = (
                _shown(setting, planned),
                "live release (dockyard.toml, Procfile or detection)",
            )
        else:
            effective, source = defaults[setting.key], "Dockyard's default"
        if explicit is not None:
            wanted = _shown(setting, explicit)
            if plan is not None and wanted != effective:
                source = f"set here; applies at the next build (the live release uses {effective})"
            else:
                source = "set here"
            effective = wanted
        states.append(
            SettingState(
                setting=setting,
                explicit=None if explicit is None else str(explicit),
                effective=effective,
                source=source,
            )
        )
    return states


@dataclass(frozen=True)
class ProcessLimitsState:
    """A process type's limits: set through Dockyard (None: not set) and the live release's plan's."""

    process: str
    memory: str | None
    cpus: float | None
    planned_memory: str | None
    planned_cpus: float | None


def limit_states(app: App, processes: list[str], plan: Mapping[str, Any] | None) -> list[ProcessLimitsState]:
    """The limits of each of `processes`, as set on the app and as the live release's `plan` asks."""
    services = {service.name: service for service in app.services}
    planned = plan_value(plan, "resources", {})
    states = []
    for process in processes:
        service = services.get(process)
        asked = planned.get(process) or {}
        states.append(
            ProcessLimitsState(
                process=process,
                memory=service.memory if service else None,
                cpus=service.cpus if service else None,
                planned_memory=asked.get("memory"),
                planned_cpus=asked.get("cpus"),
            )
        )
    return states


def limits_from_form(memory: str, cpus: str) -> tuple[str | None, float | None]:
    """A limits form's text as `operations.set_limits` takes it: empty means not set."""
    try:
        cpu_count = float(cpus) if cpus.strip() else None
    except ValueError:
        raise ConfigError("must be a number of CPUs such as 0.5 or 2", where="cpus") from None
    return memory.strip() or None, cpu_count


def update_run_settings(app: App, values: Mapping[str, str], *, no_release: bool = False) -> None:
    """Set each setting of `values` (form text; empty removes the explicit setting, falling back to
    detection); `no_release` asks for no release command at all. A ConfigError's `where` is the key."""
    config: dict[str, Any] = copy.deepcopy(dict(app.config or {}))
    for setting in SETTINGS:
        text = values.get(setting.key, "").strip()
        value: object = _parsed(setting, text) if text else None
        if setting.key == "deploy.release" and no_release:
            value = ""
        section = dict(config.get(setting.section) or {})
        if value is None:
            section.pop(setting.name, None)
        else:
            section[setting.name] = value
        config[setting.section] = section
    healthcheck = config["healthcheck"]
    if "timeout" in healthcheck and "path" not in healthcheck:
        raise ConfigError(
            "set the path too: a health check is taken as a whole, so its timeout needs its path",
            where="healthcheck.path",
        )
    if "path" not in healthcheck:
        config["healthcheck"] = {}  # no path: in_image means nothing either
    for name in ("healthcheck", "deploy"):
        if not config[name]:
            del config[name]
    try:
        set_config(app, config)
    except ConfigError as error:
        where = (error.where or "").removeprefix(f"{EXPLICIT_SOURCE}: ")
        if where == EXPLICIT_SOURCE:  # several problems at once: the message names each
            raise
        raise ConfigError(error.detail.removeprefix(f"{error.where}: "), where=where) from None


def _parsed(setting: RunSetting, text: str) -> object:
    if not setting.seconds:
        return text
    try:
        return int(text)
    except ValueError:
        raise ConfigError("must be a whole number of seconds, e.g. 30", where=setting.key) from None


def _planned(plan: Mapping[str, Any], setting: RunSetting) -> object:
    if setting.section == "healthcheck":
        return (plan.get("healthcheck") or {}).get(setting.name)
    return plan.get(setting.name)


def _shown(setting: RunSetting, value: object) -> str:
    if setting.key == "deploy.release" and not value:
        return "none"
    return f"{value} s" if setting.seconds else str(value)


def _defaults(settings: Settings) -> dict[str, str]:
    return {
        "healthcheck.path": "/",
        "healthcheck.timeout": f"{settings.startup_timeout} s",
        "deploy.release": "none",
        "deploy.request_timeout": "no cap",
        "deploy.drain": f"{settings.drain_seconds} s",
        "deploy.stop_timeout": f"{settings.stop_timeout} s",
    }
