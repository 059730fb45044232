"""What the first build of a new app will do, shown before it runs: clone the branch into a temporary
directory as the pipeline does and run the builder's own detection on it, so the preview cannot differ
from the build.

`detect_branch` is the edge (git); everything else here is pure: `explain` sorts the plan's reason lines
under the facts they justify, `command_overrides` turns edited start commands into the app's settings.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from builder import detect, source
from builder.detect import BuildInputs
from builder.plans import BuildPlan, HealthCheck
from core.errors import BuildError, ConfigError
from core.settings import Settings

APP_NAME_LIMIT = 30
_NOT_A_LABEL = re.compile(r"[^a-z0-9]+")
_UNKNOWN_REF = ("couldn't find remote ref", "not our ref", "no such ref")
_WARNING_MARKS = ("skipping", "skipped", "not among the app's dependencies", "→ no ")


@dataclass(frozen=True)
class ProcessPreview:
    """One process type the app will run: its command (None: the image's own CMD) and why."""

    name: str
    command: str | None
    why: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanPreview:
    """The detected plan of a branch, as the new-app page shows it."""

    commit: str
    framework: str
    python_version: str | None
    python_why: str | None
    package_manager: str | None
    package_why: tuple[str, ...]
    processes: tuple[ProcessPreview, ...]
    release: str | None
    release_why: tuple[str, ...]
    port: int
    healthcheck: HealthCheck
    warnings: tuple[str, ...]
    reasons: tuple[str, ...]  # every line, in the order the build log will show them
    dockerfile: str | None = None
    other_why: tuple[str, ...] = field(default=())

    def to_json(self) -> str:
        """The preview as JSON, carried by the form from the detect step to the create step."""
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> PlanPreview:
        """A preview back from `to_json`; ConfigError when the form's copy is damaged."""
        try:
            data = json.loads(text)
            data["healthcheck"] = HealthCheck(**data["healthcheck"])
            data["processes"] = tuple(
                ProcessPreview(name=p["name"], command=p["command"], why=tuple(p["why"]))
                for p in data["processes"]
            )
            for key in ("package_why", "release_why", "warnings", "reasons", "other_why"):
                data[key] = tuple(data[key])
            return cls(**data)
        except (ValueError, KeyError, TypeError) as error:
            raise ConfigError("the detected plan did not come back intact: run Detect again") from error


def explain(plan: BuildPlan, *, commit: str, supported_pythons: Sequence[str]) -> PlanPreview:
    """`plan` with each reason line placed under what it explains (Python, packages, a process, the
    release command); lines that explain nothing in particular stay in `other_why`."""
    reasons = list(plan.reasons)
    summary = [line for line in reasons if line.startswith("processes → ")]
    python_why = next(
        (line for line in reasons if plan.python_version and f"Python {plan.python_version}" in line), None
    )
    package_why = tuple(plan.install.reasons) if plan.install else ()
    release_why = tuple(line for line in reasons if "release" in line and line not in summary)
    facts = {*summary, *package_why, *release_why, *([python_why] if python_why else [])}
    processes = [
        ProcessPreview(
            name, command, tuple(line for line in reasons if line not in facts and _explains(line, name))
        )
        for name, command in plan.processes.items()
    ]
    claimed = facts | {line for process in processes for line in process.why}
    web = next((process for process in processes if process.name == detect.WEB), None)
    if web is not None and not web.why:
        # A framework detector says "found … → Framework → server target": two arrows.
        framework_lines = tuple(line for line in reasons if line not in claimed and line.count("→") >= 2)
        processes[processes.index(web)] = ProcessPreview(web.name, web.command, framework_lines)
        claimed.update(framework_lines)
    warnings = [line for line in reasons if any(mark in line for mark in _WARNING_MARKS)]
    if plan.python_version and plan.python_version not in supported_pythons:
        warnings.append(
            f"Python {plan.python_version} is not among this Dockyard's versions "
            f"({', '.join(supported_pythons)}): the build needs a base image for it"
        )
    return PlanPreview(
        commit=commit,
        framework=plan.framework,
        python_version=plan.python_version,
        python_why=python_why,
        package_manager=plan.install.manager if plan.install else None,
        package_why=package_why,
        processes=tuple(processes),
        release=plan.release,
        release_why=release_why,
        port=plan.port,
        healthcheck=plan.healthcheck,
        warnings=tuple(warnings),
        reasons=tuple(reasons),
        dockerfile=plan.dockerfile,
        other_why=tuple(line for line in reasons if line not in claimed),
    )


def _explains(line: str, process: str) -> bool:
    """Whether a reason line is about `process`: it names it as `→ name:`, `processes.name` or in a
    Procfile's list."""
    if f"→ {process}:" in line or f"processes.{process} " in line:
        return True
    listed = line.partition("Procfile → ")[2]
    return bool(listed) and process in (name.strip() for name in listed.split(","))


def command_overrides(preview: PlanPreview, submitted: Mapping[str, str]) -> dict[str, Any]:
    """The app's settings for the start commands the user changed (dockyard.toml's shape):
    `{"processes": {"web": {"command": "…"}}}`; an unchanged or untouched command is not saved."""
    changed: dict[str, Any] = {}
    for process in preview.processes:
        typed = " ".join(submitted.get(process.name, process.command or "").split())
        detected = " ".join((process.command or "").split())
        if typed == detected:
            continue
        if not typed:
            raise ConfigError(
                "cannot be empty: type a command, or put back the detected one "
                f"({process.command or 'the image CMD'})",
                where=f"processes.{process.name}.command",
            )
        changed[process.name] = {"command": typed}
    return {"processes": changed} if changed else {}


def suggest_app_name(repository: str) -> str:
    """An app name (a DNS label of at most 30 characters) from a repository name or URL."""
    name = repository.rstrip("/").removesuffix(".git").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    label = _NOT_A_LABEL.sub("-", name.lower()).strip("-")
    if not label or not label[0].isalpha():
        label = f"app-{label}".rstrip("-")
    return label[:APP_NAME_LIMIT].rstrip("-")


def fetch_problem(error: BuildError, *, branch: str) -> ConfigError:
    """A failed clone as a form error on the field to fix: the branch when git knows no such ref, else
    the repository."""
    if any(mark in error.detail for mark in _UNKNOWN_REF):
        return ConfigError(
            f"the repository has no branch {branch!r}: check its spelling, or push it first", where="branch"
        )
    return ConfigError(
        f"{error.detail}. Check the URL, and that Dockyard may read the repository", where="repo_url"
    )


def detect_branch(settings: Settings, *, clone_url: str, branch: str) -> PlanPreview:
    """Clone `branch` of `clone_url` into a temporary directory and detect its plan exactly as the
    pipeline's fetch and detect phases do (with no app settings yet). ConfigError on the field to fix
    when git fails; BuildError or ConfigError from detection when there is no app Dockyard can run."""
    inputs = BuildInputs(
        supported_pythons=settings.supported_python_versions, default_python=settings.default_python_version
    )
    with tempfile.TemporaryDirectory(prefix="dockyard-preview-") as workdir:
        checkout = Path(workdir) / "src"
        try:
            commit = source.fetch(clone_url, branch, checkout)
        except BuildError as error:
            raise fetch_problem(error, branch=branch) from error
        tree = source.read_tree(checkout)
    plan = detect.plan_build(tree, inputs)
    return explain(plan, commit=commit, supported_pythons=settings.supported_python_versions)
