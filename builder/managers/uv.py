"""uv: `uv sync` straight from uv.lock; workspace members are installed after the source is copied."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from fnmatch import fnmatchcase
from typing import Any

from packaging.utils import canonicalize_name

from builder.managers.manifests import declare, frozen, load_toml, pep508_requirements, required
from builder.plans import VENV, FileTree, Install, Requirements

UV = "/opt/uv/bin/uv"
# uv lives outside the venv because `uv sync` makes the venv exactly the lock and would uninstall it.
INSTALL_UV = "python -m venv /opt/uv && /opt/uv/bin/pip install uv"
UV_SYNC = (
    f"UV_PROJECT_ENVIRONMENT={VENV} UV_PYTHON_DOWNLOADS=never UV_LINK_MODE=copy {UV} sync --locked --no-dev"
)


def plan_uv(tree: FileTree) -> Install | None:
    if "uv.lock" not in tree:
        return None
    pyproject = load_toml(tree, required(tree, "pyproject.toml", lockfile="uv.lock"))
    lock = load_toml(tree, "uv.lock")
    members = _uv_workspace_members(tree, pyproject)
    reasons = ["found uv.lock → installing with uv sync --locked --no-dev"]
    if members:
        skip = "--no-install-workspace"
        reasons.append(f"uv workspace members {', '.join(members)} are installed after the source is copied")
    else:
        skip = "--no-install-project"
    if members or "build-system" in pyproject:
        # --inexact: keep what was added to the venv since the first sync (a server the app did not declare).
        project_commands: tuple[str, ...] = (f"{UV_SYNC} --no-editable --inexact",)
        if not members:
            reasons.append(
                "pyproject.toml declares [build-system] → installing the project itself with uv sync"
            )
    else:
        project_commands = ()
        reasons.append(
            "no [build-system] in pyproject.toml → uv treats the project as virtual and does not install it"
        )
    return Install(
        manager="uv",
        manifests=("pyproject.toml", *(f"{member}/pyproject.toml" for member in members), "uv.lock"),
        commands=(INSTALL_UV, f"{UV_SYNC} {skip}"),
        project_commands=project_commands,
        requirements=_uv_requirements(lock, pyproject),
        reasons=tuple(reasons),
        add_command=f"{UV} pip install --python {VENV}/bin/python",
    )


def _uv_workspace_members(tree: FileTree, pyproject: Mapping[str, Any]) -> list[str]:
    patterns = pyproject.get("tool", {}).get("uv", {}).get("workspace", {}).get("members", [])
    excluded = pyproject.get("tool", {}).get("uv", {}).get("workspace", {}).get("exclude", [])
    directories = sorted(
        path.removesuffix("/pyproject.toml") for path in tree if path.endswith("/pyproject.toml")
    )
    return [
        directory
        for directory in directories
        if any(_glob(directory, pattern) for pattern in patterns)
        and not any(_glob(directory, pattern) for pattern in excluded)
    ]


def _glob(path: str, pattern: str) -> bool:
    """Whether `path` matches a workspace glob, where `*` matches one path segment."""
    parts, wanted = path.split("/"), pattern.strip("/").split("/")
    return len(parts) == len(wanted) and all(
        fnmatchcase(part, want) for part, want in zip(parts, wanted, strict=True)
    )


def _uv_requirements(lock: Mapping[str, Any], pyproject: Mapping[str, Any]) -> Requirements:
    """Every package reachable from the root project's main dependencies, with the extras asked of it."""
    by_name: dict[str, list[Mapping[str, Any]]] = {}
    for package in lock.get("package", []):
        by_name.setdefault(canonicalize_name(package["name"]), []).append(package)
    roots = [
        package
        for package in lock.get("package", [])
        if package.get("source", {}).get("editable") == "." or package.get("source", {}).get("virtual") == "."
    ]
    if not roots:
        return pep508_requirements(pyproject.get("project", {}).get("dependencies", []), "pyproject.toml")
    declared: dict[str, set[str]] = {}
    queue = deque(dependency for root in roots for dependency in root.get("dependencies", []))
    while queue:
        dependency = queue.popleft()
        name = canonicalize_name(dependency["name"])
        first_visit = name not in declared
        new_extras = set(dependency.get("extra", [])) - declared.get(name, set())
        declare(declared, name, new_extras)
        for package in by_name.get(name, []):
            if first_visit:
                queue.extend(package.get("dependencies", []))
            for extra in new_extras:
                queue.extend(package.get("optional-dependencies", {}).get(extra, []))
    for root in roots:
        declared.pop(canonicalize_name(root["name"]), None)
    return frozen(declared)
