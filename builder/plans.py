"""What the builder decided about an app's source, as plain data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

FileTree = Mapping[str, str]
"""An app's source for detection: relative posix path → text content."""

Requirements = Mapping[str, frozenset[str]]
"""Distribution names the app depends on (canonicalized) → the extras asked for."""

VENV = "/opt/venv"
"""Where every package manager installs the app's dependencies."""


@dataclass(frozen=True)
class Install:
    """How a package manager puts the app's dependencies into the venv at `VENV`.

    The build stage copies `manifests` (paths relative to the app root) and writes `generated` (paths under
    `.dockyard/`, relative to the app root, → content) into `/build`, then runs `commands` there with the
    venv on PATH. Only then does it copy the source and run `project_commands`, which install the app itself
    when it is a package; so a change to the source alone reuses the dependency layer.
    """

    manager: str  # "pip", "uv", "poetry", "pipenv", "pdm" or "pyproject"
    manifests: tuple[str, ...]
    commands: tuple[str, ...]
    requirements: Requirements
    reasons: tuple[str, ...]
    generated: Mapping[str, str] = field(default_factory=dict)
    project_commands: tuple[str, ...] = ()
    add_command: str = "pip install"  # installs packages the app did not declare (a server), by name


@dataclass(frozen=True)
class Detection:
    """What a framework detector found: how to serve the app, and why."""

    framework: str
    command: str
    reasons: tuple[str, ...]
    extra_packages: tuple[str, ...] = ()  # servers the command needs that the app does not declare
    build_commands: tuple[
        str, ...
    ] = ()  # run at build time in the final image with the source (collectstatic)
    build_env: Mapping[str, str] = field(default_factory=dict)  # env for build_commands only
    release: str | None = None  # run once per deploy before traffic moves (Django's migrate)


@dataclass(frozen=True)
class SystemPackages:
    """Debian packages: `build` ones in the build stage (headers, compilers), `runtime` ones in the image."""

    build: tuple[str, ...] = ()
    runtime: tuple[str, ...] = ()


@dataclass(frozen=True)
class Resources:
    """Limits for one process type; None means no limit."""

    memory: str | None = None  # Docker's notation: "512m", "2g"
    cpus: float | None = None


@dataclass(frozen=True)
class HealthCheck:
    """How a new web release proves it is ready before traffic moves to it."""

    path: str = "/"
    timeout: int | None = None  # seconds; None uses DOCKYARD_STARTUP_TIMEOUT
    in_image: bool = False  # also write a Dockerfile HEALTHCHECK


@dataclass(frozen=True)
class BuildPlan:
    """How to build and run an app: the output of detection, the input of the Dockerfile renderer."""

    root: str  # the app's directory inside the repository, "" for the repository root
    framework: str
    # Process type (web, worker, beat, …) → command; None runs the image's own CMD (an app's Dockerfile).
    processes: Mapping[str, str | None]
    reasons: tuple[str, ...]
    python_version: str | None = None  # None when the app's own Dockerfile builds it
    install: Install | None = None
    dockerfile: str | None = None  # the app's own Dockerfile, relative to root, built as-is
    extra_packages: tuple[str, ...] = ()
    system_packages: SystemPackages = SystemPackages()
    build_commands: tuple[str, ...] = ()
    build_env: Mapping[str, str] = field(default_factory=dict)
    release: str | None = None
    port: int = 8000
    healthcheck: HealthCheck = HealthCheck()
    volumes: Mapping[str, str] = field(default_factory=dict)  # volume name → mount path
    resources: Mapping[str, Resources] = field(default_factory=dict)  # process type → limits
    replicas: Mapping[str, int] = field(default_factory=dict)  # process type → replicas asked for
    drain: int | None = None  # seconds; None: DOCKYARD_DRAIN_SECONDS
    stop_timeout: int | None = None  # seconds; None: DOCKYARD_STOP_TIMEOUT
    request_timeout: int | None = None  # seconds; None: no cap


def plan_summary(plan: BuildPlan) -> dict[str, object]:
    """The parts of a plan that outlive the build (what runs, and why), as JSON-able data."""
    return {
        "root": plan.root,
        "framework": plan.framework,
        "python_version": plan.python_version,
        "package_manager": plan.install.manager if plan.install else None,
        "dockerfile": plan.dockerfile,
        "processes": dict(plan.processes),
        "release": plan.release,
        "port": plan.port,
        "healthcheck": {"path": plan.healthcheck.path, "timeout": plan.healthcheck.timeout},
        "volumes": dict(plan.volumes),
        "resources": {
            name: {"memory": limits.memory, "cpus": limits.cpus} for name, limits in plan.resources.items()
        },
        "replicas": dict(plan.replicas),
        "drain": plan.drain,
        "stop_timeout": plan.stop_timeout,
        "request_timeout": plan.request_timeout,
        "reasons": list(plan.reasons),
    }
