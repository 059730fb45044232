"""Detection: read an app's source tree and decide how to build and run it.

Precedence, highest first: the app's explicit settings (stored by the API), the repository's
`dockyard.toml`, the app's own `Dockerfile`, its `Procfile`, then detection. Every decision adds a human
reason line, which the build log shows first.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from packaging.utils import canonicalize_name

from builder import config as appconfig
from builder.frameworks import detect_web, looked_for
from builder.managers import plan_install
from builder.plans import BuildPlan, Detection, FileTree, HealthCheck, Requirements, Resources
from builder.processes import detect_workers, parse_procfile
from builder.python_version import resolve_python_version
from builder.system_packages import system_packages_for
from core.errors import BuildError

CONFIG_FILE = "dockyard.toml"
PROCFILE = "Procfile"
DOCKERFILE = "Dockerfile"
RELEASE = "release"
WEB = "web"
DEFAULT_PORT = 8000
# A Procfile or dockyard.toml command that starts one of these needs it installed; the app may not declare it.
SERVERS = {"gunicorn": "gunicorn", "uvicorn": "uvicorn", "hypercorn": "hypercorn", "daphne": "daphne"}


@dataclass(frozen=True)
class BuildInputs:
    """What the platform knows besides the source: explicit settings and the choices it offers."""

    explicit: appconfig.AppConfig = field(default_factory=appconfig.AppConfig)
    python_env: str | None = None  # the app's PYTHON_VERSION env var
    supported_pythons: Sequence[str] = ("3.10", "3.11", "3.12", "3.13", "3.14")
    default_python: str = "3.13"


def plan_build(tree: FileTree, inputs: BuildInputs = BuildInputs()) -> BuildPlan:
    """Decide how to build and run the repository in `tree`; BuildError or ConfigError says what to fix."""
    reasons: list[str] = []
    file_config = _file_config(tree, inputs.explicit, reasons)
    config = appconfig.merge(inputs.explicit, file_config)
    root = _normalized_root(config.root)
    app_tree = _subtree(tree, root)
    if root:
        reasons.append(f"app root is {root}/ (build.root)")
    procfile = _procfile(app_tree, reasons)
    dockerfile = config.dockerfile or (DOCKERFILE if DOCKERFILE in app_tree else None)
    if dockerfile is not None:
        return _own_dockerfile_plan(app_tree, root, dockerfile, config, procfile, reasons)

    python_version, python_reason = resolve_python_version(
        app_tree,
        override=_python_override(inputs, file_config),
        supported=inputs.supported_pythons,
        default=inputs.default_python,
    )
    reasons.append(python_reason)
    install = plan_install(app_tree)
    reasons.extend(install.reasons)
    requirements = install.requirements

    named = dict(procfile or {})
    named.update({name: p.command for name, p in config.processes.items() if p.command})
    detection = _detection(app_tree, requirements, web_named=WEB in named, reasons=reasons)
    processes: dict[str, str | None] = {}
    if detection is not None:
        processes[WEB] = detection.command
    if procfile is None:  # a Procfile lists the background processes itself
        workers, worker_reasons = detect_workers(app_tree, requirements)
        processes.update(workers)
        reasons.extend(worker_reasons)
    release = named.pop(RELEASE, None) or (detection.release if detection else None)
    processes.update(named)
    for name, process in sorted(config.processes.items()):
        if process.command:
            reasons.append(f"{_source(name, inputs.explicit)} sets processes.{name} → {process.command}")
    if config.release is not None:
        release = config.release or None
        reasons.append(f"release command from settings: {release or 'none'}")
    if not processes:
        raise BuildError(
            f"found no process to run: Dockyard looks for {looked_for()}; or name your processes in a "
            f"{PROCFILE} (`web: gunicorn myapp.wsgi`) or in {CONFIG_FILE} [processes]"
        )

    extra_packages = _servers_to_add(processes, detection, requirements)
    reasons.extend(
        f"{package} is not among the app's dependencies → installing it" for package in extra_packages
    )
    system_packages, system_reasons = system_packages_for(requirements, extra=config.system_packages)
    reasons.extend(system_reasons)
    build_commands = (*(detection.build_commands if detection else ()), *config.build_commands)
    reasons.append(_process_summary(processes, release))
    return BuildPlan(
        root=root,
        framework=detection.framework if detection is not None else "procfile",
        processes=processes,
        reasons=tuple(reasons),
        python_version=python_version,
        install=install,
        extra_packages=extra_packages,
        system_packages=system_packages,
        build_commands=build_commands,
        build_env=dict(detection.build_env) if detection is not None and detection.build_commands else {},
        release=release,
        port=config.port or DEFAULT_PORT,
        healthcheck=config.healthcheck or HealthCheck(),
        volumes=dict(config.volumes),
        resources=_resources(config),
        **_run_settings(config),
    )


def _file_config(tree: FileTree, explicit: appconfig.AppConfig, reasons: list[str]) -> appconfig.AppConfig:
    """`dockyard.toml` at the repository root, else in the app root the explicit settings name."""
    candidates = [CONFIG_FILE]
    if explicit.root:
        candidates.insert(0, posixpath.join(_normalized_root(explicit.root), CONFIG_FILE))
    for path in candidates:
        if path in tree:
            reasons.append(f"found {path} → using its settings")
            return appconfig.parse_config(tree[path], source=path)
    return appconfig.AppConfig()


def _normalized_root(root: str | None) -> str:
    return posixpath.normpath(root).strip("/") if root and posixpath.normpath(root) != "." else ""


def _subtree(tree: FileTree, root: str) -> FileTree:
    if not root:
        return tree
    prefix = root + "/"
    sub = {path.removeprefix(prefix): text for path, text in tree.items() if path.startswith(prefix)}
    if not sub:
        raise BuildError(
            f"build.root is {root!r} but the repository has no files there: set it to the directory "
            "that holds the app (relative to the repository root)"
        )
    return sub


def _procfile(tree: FileTree, reasons: list[str]) -> dict[str, str] | None:
    if PROCFILE not in tree:
        return None
    processes = parse_procfile(tree[PROCFILE])
    reasons.append(f"found {PROCFILE} → {', '.join(processes)}")
    return processes


def _python_override(inputs: BuildInputs, file_config: appconfig.AppConfig) -> tuple[str, str] | None:
    if inputs.explicit.python:
        return inputs.explicit.python, "the app's settings (build.python)"
    if inputs.python_env:
        return inputs.python_env, "the PYTHON_VERSION env var"
    if file_config.python:
        return file_config.python, f"{CONFIG_FILE} build.python"
    return None


def _detection(
    tree: FileTree, requirements: Requirements, *, web_named: bool, reasons: list[str]
) -> Detection | None:
    """The framework detector's claim; when the Procfile or settings name web, it only adds build steps."""
    try:
        detection = detect_web(tree, requirements)
    except BuildError as error:
        if not web_named:
            raise
        reasons.append(f"framework detection skipped ({error.detail}); the web command is given")
        return None
    if detection is not None:
        reasons.extend(detection.reasons)
    return detection


def _servers_to_add(
    processes: dict[str, str | None], detection: Detection | None, requirements: Requirements
) -> tuple[str, ...]:
    """The servers the commands start that the app does not install itself.

    For the detected web command, detection knows (a server may come with another package's extra); for
    commands from a Procfile or the settings, a known server that is not a dependency is added.
    """
    detected = detection.command if detection else None
    wanted = list(detection.extra_packages) if detection and processes.get(WEB) == detected else []
    for command in processes.values():
        first = command.split(maxsplit=1)[0] if command and command != detected else ""
        server = SERVERS.get(first)
        if server and canonicalize_name(server) not in requirements and server not in wanted:
            wanted.append(server)
    return tuple(wanted)


def _resources(config: appconfig.AppConfig) -> dict[str, Resources]:
    return {
        name: process.resources
        for name, process in config.processes.items()
        if process.resources != Resources()
    }


def _run_settings(config: appconfig.AppConfig) -> dict[str, Any]:
    """What the scheduler reads from the settings as they are: replicas, drain and timeouts."""
    return {
        "replicas": {name: p.replicas for name, p in config.processes.items() if p.replicas is not None},
        "drain": config.drain,
        "stop_timeout": config.stop_timeout,
        "request_timeout": config.request_timeout,
    }


def _source(name: str, explicit: appconfig.AppConfig) -> str:
    process = explicit.processes.get(name)
    return "the app's settings" if process is not None and process.command else CONFIG_FILE


def _process_summary(processes: dict[str, str | None], release: str | None) -> str:
    listed = "; ".join(f"{name}: {command or 'the image CMD'}" for name, command in processes.items())
    return f"processes → {listed}" + (f"; release: {release}" if release else "")


def _own_dockerfile_plan(
    tree: FileTree,
    root: str,
    dockerfile: str,
    config: appconfig.AppConfig,
    procfile: dict[str, str] | None,
    reasons: list[str],
) -> BuildPlan:
    if dockerfile not in tree:
        raise BuildError(
            f"build.dockerfile is {dockerfile!r} but there is no such file in the app: fix the path "
            "(relative to the app root) or remove the setting"
        )
    reasons.append(f"found {dockerfile} → building it as it is (Dockyard's own detection is skipped)")
    processes: dict[str, str | None] = {WEB: None}
    processes.update(procfile or {})
    processes.update({name: p.command for name, p in config.processes.items() if p.command})
    release = processes.pop(RELEASE, None)
    if config.release is not None:
        release = config.release or None
    port = config.port or _exposed_port(tree[dockerfile]) or DEFAULT_PORT
    reasons.append(f"the app listens on port {port} (PORT={port} is set for it)")
    reasons.append(_process_summary(processes, release))
    return BuildPlan(
        root=root,
        framework="dockerfile",
        processes=processes,
        reasons=tuple(reasons),
        dockerfile=dockerfile,
        release=release,
        port=port,
        healthcheck=config.healthcheck or HealthCheck(),
        volumes=dict(config.volumes),
        resources=_resources(config),
        **_run_settings(config),
    )


def _exposed_port(dockerfile: str) -> int | None:
    """The first port the last stage EXPOSEs, if any."""
    stages = re.split(r"^\s*FROM\s", dockerfile, flags=re.MULTILINE | re.IGNORECASE)
    match = re.search(r"^\s*EXPOSE\s+(\d+)", stages[-1], re.MULTILINE | re.IGNORECASE)
    return int(match.group(1)) if match else None
