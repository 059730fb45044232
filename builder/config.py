"""Config-as-code: `dockyard.toml` in the app's repository, and the same schema as an app's explicit settings.

    [build]
    root = "backend"                       # the app's directory in the repository
    python = "3.12"                        # quoted: X.Y or X.Y.Z
    dockerfile = "Dockerfile.prod"         # relative to root; built as-is instead of a generated one
    system_packages = ["libpq5"]           # Debian packages, installed in the build stage and the image
    commands = ["python manage.py compilemessages"]

    [processes]
    web = "gunicorn app:app"               # shorthand for [processes.web] command = "…"
    [processes.worker]
    command = "celery -A proj worker"
    replicas = 2                           # beat: 0 or 1
    memory = "512m"                        # Docker's notation: 512m, 1g, 256M
    cpus = 0.5

    [deploy]
    release = "python manage.py migrate"   # release = "" runs none, not even the detected migrate
    port = 8000
    drain = 30                             # seconds old web containers keep open connections after a deploy
    stop_timeout = 30                      # seconds between SIGTERM and SIGKILL
    request_timeout = 300                  # cap on the wait for a response; unset: no cap

    [healthcheck]
    path = "/healthz"
    timeout = 90                           # seconds
    in_image = false                       # also write a Dockerfile HEALTHCHECK

    [volumes]
    uploads = "/app/media"                 # volume name → absolute mount path

Every key is optional and an unset one leaves what detection found. The API keeps an app's explicit settings
as the JSON form of the same schema (`to_mapping`; a JSON null counts as unset), and `merge` lets them win
over the file key by key. All problems are reported at once, in one `ConfigError` joined by "; ":
`dockyard.toml: healthcheck.path: must start with /; processes.beat.replicas: must be 0 or 1`.
"""

from __future__ import annotations

import math
import posixpath
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from builder.plans import HealthCheck, Resources
from core.errors import ConfigError

_T = TypeVar("_T")

_SECTIONS = ("build", "processes", "deploy", "healthcheck", "volumes")
_BUILD_KEYS = ("root", "python", "dockerfile", "system_packages", "commands")
_PROCESS_KEYS = ("command", "replicas", "memory", "cpus")
_DEPLOY_KEYS = ("release", "port", "drain", "stop_timeout", "request_timeout")
_HEALTHCHECK_KEYS = ("path", "timeout", "in_image")

_PYTHON = re.compile(r"\d+\.\d+(\.\d+)?")
_DEBIAN_PACKAGE = re.compile(r"[a-z0-9][a-z0-9+.-]*")
_PROCESS_NAME = re.compile(r"[a-z][a-z0-9_-]*")
_VOLUME_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")
_MEMORY = re.compile(r"[1-9][0-9]*[bkmg]", re.IGNORECASE)
_TOML_POSITION = re.compile(r"(?P<message>.*) \(at (?P<position>line \d+, column \d+|end of document)\)")


@dataclass(frozen=True)
class ProcessConfig:
    """Settings for one process type; None leaves the detected command or the default replica count."""

    command: str | None = None
    replicas: int | None = None
    resources: Resources = field(default_factory=Resources)


@dataclass(frozen=True)
class AppConfig:
    """An app's settings from `dockyard.toml` or the API; None and empty mean not set."""

    root: str | None = None  # normalized, relative to the repository; "" is the repository itself
    python: str | None = None
    dockerfile: str | None = None  # normalized, relative to root
    system_packages: tuple[str, ...] = ()
    build_commands: tuple[str, ...] = ()
    processes: Mapping[str, ProcessConfig] = field(default_factory=dict)
    release: str | None = None  # "" means no release command at all, not even the detected one
    healthcheck: HealthCheck | None = None
    volumes: Mapping[str, str] = field(default_factory=dict)  # volume name → absolute mount path
    port: int | None = None
    drain: int | None = None  # seconds
    stop_timeout: int | None = None  # seconds
    request_timeout: int | None = None  # seconds; None: no cap


def parse_config(text: str, *, source: str = "dockyard.toml") -> AppConfig:
    """Read and validate a `dockyard.toml`; raise one ConfigError naming every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        position = _TOML_POSITION.fullmatch(str(error))
        if position is None:
            raise ConfigError(str(error), where=source) from None
        raise ConfigError(position["message"], where=f"{source}: {position['position']}") from None
    return config_from_mapping(data, source=source)


def config_from_mapping(data: Mapping[str, object], *, source: str) -> AppConfig:
    """Validate settings in the `dockyard.toml` schema given as a mapping (the API's JSON)."""
    problems = _Problems(source)
    sections = _table(problems, "", data, _SECTIONS)
    build = _table(problems, "build", sections.get("build"), _BUILD_KEYS)
    deploy = _table(problems, "deploy", sections.get("deploy"), _DEPLOY_KEYS)
    config = AppConfig(
        root=_relative_path(problems, "build.root", build.get("root"), allow_root=True),
        python=_python(problems, build.get("python")),
        dockerfile=_relative_path(problems, "build.dockerfile", build.get("dockerfile"), allow_root=False),
        system_packages=_strings(problems, "build.system_packages", build.get("system_packages"), _package),
        build_commands=_strings(problems, "build.commands", build.get("commands"), _command),
        processes=_processes(problems, sections.get("processes")),
        release=_release(problems, deploy.get("release")),
        healthcheck=_healthcheck(problems, sections.get("healthcheck")),
        volumes=_volumes(problems, sections.get("volumes")),
        port=_port(problems, deploy.get("port")),
        drain=_seconds(problems, "deploy.drain", deploy.get("drain"), minimum=0),
        stop_timeout=_seconds(problems, "deploy.stop_timeout", deploy.get("stop_timeout"), minimum=1),
        request_timeout=_seconds(
            problems, "deploy.request_timeout", deploy.get("request_timeout"), minimum=1
        ),
    )
    problems.raise_any()
    return config


def to_mapping(config: AppConfig) -> dict[str, object]:
    """The JSON-able form of `config` with only the keys it sets; `config_from_mapping` reads it back."""
    build: dict[str, object] = _set(root=config.root, python=config.python, dockerfile=config.dockerfile)
    if config.system_packages:
        build["system_packages"] = list(config.system_packages)
    if config.build_commands:
        build["commands"] = list(config.build_commands)
    processes = {
        name: _set(
            command=process.command,
            replicas=process.replicas,
            memory=process.resources.memory,
            cpus=process.resources.cpus,
        )
        for name, process in config.processes.items()
    }
    healthcheck = None
    if config.healthcheck is not None:
        check = config.healthcheck
        healthcheck = {"path": check.path, **_set(timeout=check.timeout), "in_image": check.in_image}
    return _set(
        build=build or None,
        processes=processes or None,
        deploy=_set(
            release=config.release,
            port=config.port,
            drain=config.drain,
            stop_timeout=config.stop_timeout,
            request_timeout=config.request_timeout,
        )
        or None,
        healthcheck=healthcheck,
        volumes=dict(config.volumes) or None,
    )


def merge(explicit: AppConfig, file: AppConfig) -> AppConfig:
    """`explicit` settings over the file's: per field, per process and its fields, per volume.

    A healthcheck is taken whole, since its unset fields cannot be told from their defaults.
    """
    names = {**file.processes, **explicit.processes}
    return AppConfig(
        root=_first(explicit.root, file.root),
        python=_first(explicit.python, file.python),
        dockerfile=_first(explicit.dockerfile, file.dockerfile),
        system_packages=explicit.system_packages or file.system_packages,
        build_commands=explicit.build_commands or file.build_commands,
        processes={
            name: _merge_process(explicit.processes.get(name), file.processes.get(name)) for name in names
        },
        release=_first(explicit.release, file.release),
        healthcheck=_first(explicit.healthcheck, file.healthcheck),
        volumes={**file.volumes, **explicit.volumes},
        port=_first(explicit.port, file.port),
        drain=_first(explicit.drain, file.drain),
        stop_timeout=_first(explicit.stop_timeout, file.stop_timeout),
        request_timeout=_first(explicit.request_timeout, file.request_timeout),
    )


def _merge_process(explicit: ProcessConfig | None, file: ProcessConfig | None) -> ProcessConfig:
    explicit, file = explicit or ProcessConfig(), file or ProcessConfig()
    return ProcessConfig(
        command=_first(explicit.command, file.command),
        replicas=_first(explicit.replicas, file.replicas),
        resources=Resources(
            memory=_first(explicit.resources.memory, file.resources.memory),
            cpus=_first(explicit.resources.cpus, file.resources.cpus),
        ),
    )


def _first(value: _T | None, fallback: _T | None) -> _T | None:
    return value if value is not None else fallback


def _set(**values: object) -> dict[str, object]:
    return {key: value for key, value in values.items() if value is not None}


@dataclass
class _Problems:
    """Every problem found, as (key path, detail), so one error can report them all."""

    source: str
    found: list[tuple[str, str]] = field(default_factory=list)

    def add(self, key: str, detail: str) -> None:
        self.found.append((key, detail))

    def raise_any(self) -> None:
        if len(self.found) == 1:
            key, detail = self.found[0]
            raise ConfigError(detail, where=f"{self.source}: {key}" if key else self.source)
        if self.found:
            raise ConfigError(
                "; ".join(_join(key, detail, ": ") for key, detail in self.found), where=self.source
            )


def _table(problems: _Problems, key: str, value: object, known: tuple[str, ...]) -> Mapping[str, object]:
    """The known keys of a table (reporting unknown ones); empty when it is absent or not a table."""
    table = _mapping(problems, key, value)
    for name in table:
        if name not in known:
            problems.add(_join(key, name), f"unknown key (expected one of: {', '.join(known)})")
    return {name: item for name, item in table.items() if name in known}


def _mapping(problems: _Problems, key: str, value: object) -> Mapping[str, object]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.add(key, "must be a table")
        return {}
    return {str(name): item for name, item in value.items()}


def _join(key: str, name: str, separator: str = ".") -> str:
    return f"{key}{separator}{name}" if key else name


def _string(problems: _Problems, key: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        problems.add(key, "must be a string")
        return None
    return value


def _integer(problems: _Problems, key: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        problems.add(key, "must be an integer")
        return None
    return value


def _relative_path(problems: _Problems, key: str, value: object, *, allow_root: bool) -> str | None:
    path = _string(problems, key, value)
    if path is None:
        return None
    normalized = posixpath.normpath(path) if path else "."
    if path.startswith("/") or ".." in path.split("/"):
        problems.add(key, f"must be a relative path inside the repository, without .. (got {path!r})")
    elif normalized == "." and not allow_root:
        problems.add(key, "must name a file")
    else:
        return "" if normalized == "." else normalized
    return None


def _python(problems: _Problems, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        problems.add("build.python", 'must be a string such as "3.12"')
    elif not _PYTHON.fullmatch(value):
        problems.add("build.python", f"must look like 3.12 or 3.12.4 (got {value!r})")
    else:
        return value
    return None


def _package(name: str) -> str | None:
    if _DEBIAN_PACKAGE.fullmatch(name):
        return None
    return f"must be a Debian package name: lowercase letters, digits, +, - and . (got {name!r})"


def _command(command: str) -> str | None:
    return None if command.strip() else "must not be empty"


def _strings(
    problems: _Problems, key: str, value: object, check: Callable[[str], str | None]
) -> tuple[str, ...]:
    """A list of strings, each passing `check` (which returns a problem or None)."""
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        problems.add(key, "must be a list of strings")
        return ()
    valid = []
    for index, item in enumerate(value):
        if not isinstance(item, str):
            problems.add(f"{key}[{index}]", "must be a string")
        elif (problem := check(item)) is not None:
            problems.add(f"{key}[{index}]", problem)
        else:
            valid.append(item)
    return tuple(valid)


def _processes(problems: _Problems, value: object) -> dict[str, ProcessConfig]:
    processes = {}
    for name, spec in _mapping(problems, "processes", value).items():
        key = f"processes.{name}"
        if name == "release":
            problems.add(key, "release is not a process; set deploy.release instead")
        elif not _PROCESS_NAME.fullmatch(name):
            problems.add(key, "must be named with a lowercase letter, then lowercase letters, digits, - or _")
        elif isinstance(spec, str):
            if (problem := _command(spec)) is not None:
                problems.add(key, problem)
            else:
                processes[name] = ProcessConfig(command=spec)
        elif isinstance(spec, Mapping):
            processes[name] = _process(problems, name, _table(problems, key, spec, _PROCESS_KEYS))
        else:
            problems.add(key, "must be a command string or a table")
    return processes


def _process(problems: _Problems, name: str, table: Mapping[str, object]) -> ProcessConfig:
    key = f"processes.{name}"
    command = _string(problems, f"{key}.command", table.get("command"))
    if command is not None and (problem := _command(command)) is not None:
        problems.add(f"{key}.command", problem)
        command = None
    replicas = _integer(problems, f"{key}.replicas", table.get("replicas"))
    if replicas is not None and replicas < 0:
        problems.add(f"{key}.replicas", "must be 0 or more")
        replicas = None
    elif name == "beat" and replicas is not None and replicas > 1:
        problems.add(f"{key}.replicas", "must be 0 or 1: a second beat would schedule every task twice")
        replicas = None
    memory = _string(problems, f"{key}.memory", table.get("memory"))
    if memory is not None and not _MEMORY.fullmatch(memory):
        problems.add(f"{key}.memory", f"must be a size such as 512m or 1g (got {memory!r})")
        memory = None
    return ProcessConfig(
        command=command,
        replicas=replicas,
        resources=Resources(memory=memory, cpus=_cpus(problems, f"{key}.cpus", table.get("cpus"))),
    )


def _cpus(problems: _Problems, key: str, value: object) -> float | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        problems.add(key, "must be a positive number such as 0.5 or 2")
        return None
    return float(value)


def _release(problems: _Problems, value: object) -> str | None:
    release = _string(problems, "deploy.release", value)
    return "" if release is not None and not release.strip() else release


def _port(problems: _Problems, value: object) -> int | None:
    port = _integer(problems, "deploy.port", value)
    if port is not None and not 1 <= port <= 65535:
        problems.add("deploy.port", f"must be between 1 and 65535 (got {port})")
        return None
    return port


def _seconds(problems: _Problems, key: str, value: object, *, minimum: int) -> int | None:
    seconds = _integer(problems, key, value)
    if seconds is not None and seconds < minimum:
        problems.add(key, f"must be at least {minimum} seconds (got {seconds})")
        return None
    return seconds


def _healthcheck(problems: _Problems, value: object) -> HealthCheck | None:
    if value is None:
        return None
    table = _table(problems, "healthcheck", value, _HEALTHCHECK_KEYS)
    path = _string(problems, "healthcheck.path", table.get("path"))
    if path is not None and not path.startswith("/"):
        problems.add("healthcheck.path", "must start with /")
        path = None
    timeout = _integer(problems, "healthcheck.timeout", table.get("timeout"))
    if timeout is not None and timeout <= 0:
        problems.add("healthcheck.timeout", "must be a positive number of seconds")
        timeout = None
    in_image = table.get("in_image", False)
    if not isinstance(in_image, bool):
        problems.add("healthcheck.in_image", "must be true or false")
        in_image = False
    return HealthCheck(path=path or "/", timeout=timeout, in_image=in_image)


def _volumes(problems: _Problems, value: object) -> dict[str, str]:
    volumes: dict[str, str] = {}
    for name, target in _mapping(problems, "volumes", value).items():
        key = f"volumes.{name}"
        if not _VOLUME_NAME.fullmatch(name):
            problems.add(
                key, "must be named with lowercase letters, digits, - or _, starting with a letter or digit"
            )
        elif not isinstance(target, str):
            problems.add(key, "must be a string")
        elif not target.startswith("/") or ".." in target.split("/") or posixpath.normpath(target) == "/":
            problems.add(key, f"must be an absolute path below /, without .. (got {target!r})")
        elif (other := _mounted_at(volumes, posixpath.normpath(target))) is not None:
            problems.add(key, f"mounts at {volumes[other]} like volumes.{other}")
        else:
            volumes[name] = posixpath.normpath(target)
    return volumes


def _mounted_at(volumes: Mapping[str, str], path: str) -> str | None:
    return next((name for name, mounted in volumes.items() if mounted == path), None)
