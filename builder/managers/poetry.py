"""Poetry: poetry.lock's main group, exported to a hashed requirements file the way `poetry export` does."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from packaging.specifiers import InvalidSpecifier
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from builder.managers.export import GENERATED, Export
from builder.managers.manifests import declare, frozen, load_toml, package_key, parse_requirement, required
from builder.managers.markers import and_markers, or_markers
from builder.managers.pip import PIP_INSTALL_PROJECT
from builder.plans import FileTree, Install
from builder.python_version import poetry_constraint


def plan_poetry(tree: FileTree) -> Install | None:
    if "poetry.lock" not in tree:
        return None
    pyproject = load_toml(tree, required(tree, "pyproject.toml", lockfile="poetry.lock"))
    lock = load_toml(tree, "poetry.lock")
    lock_version = str(lock.get("metadata", {}).get("lock-version", "1.0"))
    packages = lock.get("package", [])
    poetry = pyproject.get("tool", {}).get("poetry", {})
    reached = _poetry_walk(packages, _poetry_roots(pyproject))
    if any("groups" in package for package in packages):  # lock 2.1, Poetry 2
        main = [
            (package, _poetry_group_marker(package.get("markers")))
            for package in packages
            if "main" in package.get("groups", [])
        ]
    elif lock_version.startswith("1."):
        main = [
            (package, reached.get(package_key(package), _Reach()).marker)
            for package in packages
            if package.get("category") == "main"
        ]
    else:  # lock 2.0 says nothing about groups: main is what the main dependencies reach
        main = [
            (package, reached[package_key(package)].marker)
            for package in packages
            if package_key(package) in reached
        ]
    metadata_files = lock.get("metadata", {}).get("files", {})
    exported = Export()
    for package, marker in main:
        files = package.get("files") or metadata_files.get(package["name"]) or []
        exported.add_poetry(package, marker, [file["hash"] for file in files if "hash" in file])
    declared: dict[str, set[str]] = {}
    for package, _ in main:
        declare(declared, package["name"], reached.get(package_key(package), _Reach()).extras)
    project = _poetry_project_commands(tree, pyproject, poetry)
    return exported.install(
        manager="poetry",
        manifests=("pyproject.toml", "poetry.lock"),
        requirements=frozen(declared),
        reasons=(
            f"found poetry.lock (lock format {lock_version}) → exporting its main group to {GENERATED}",
        ),
        project=project,
    )


def _poetry_project_commands(
    tree: FileTree, pyproject: Mapping[str, Any], poetry: Mapping[str, Any]
) -> tuple[tuple[str, ...], str]:
    if poetry.get("package-mode") is False:
        return (), "[tool.poetry] package-mode = false → the project itself is not installed"
    name = str(pyproject.get("project", {}).get("name") or poetry.get("name") or "")
    module = name.replace("-", "_").replace(".", "_").lower()
    has_package = bool(poetry.get("packages")) or any(
        path in tree for path in (f"{module}/__init__.py", f"src/{module}/__init__.py", f"{module}.py")
    )
    if "build-system" not in pyproject or not has_package:
        return (), f"no package {module or '(unnamed)'} to build → the project itself is not installed"
    return (
        PIP_INSTALL_PROJECT,
    ), f"pyproject.toml builds package {module} → installing it with {PIP_INSTALL_PROJECT}"


@dataclass
class _Reach:
    markers: set[str] = field(default_factory=set)  # "" means unconditionally
    extras: set[str] = field(default_factory=set)

    @property
    def marker(self) -> str:
        if not self.markers or "" in self.markers:
            return ""
        return or_markers(sorted(self.markers))


def _poetry_roots(pyproject: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """(name, dependency table) for each main dependency in [tool.poetry.dependencies] and [project]."""
    roots: list[tuple[str, Mapping[str, Any]]] = []
    dependencies = pyproject.get("tool", {}).get("poetry", {}).get("dependencies", {})
    for name, spec in dependencies.items():
        if name != "python":
            roots += [(name, entry) for entry in poetry_entries(spec) if not entry.get("optional")]
    for line in pyproject.get("project", {}).get("dependencies", []):
        requirement = parse_requirement(line, "pyproject.toml")
        entry = {"version": str(requirement.specifier), "extras": sorted(requirement.extras)}
        roots.append(
            (requirement.name, entry | ({"markers": str(requirement.marker)} if requirement.marker else {}))
        )
    return roots


def _poetry_walk(
    packages: list[Mapping[str, Any]], roots: list[tuple[str, Mapping[str, Any]]]
) -> dict[tuple[str, str], _Reach]:
    """The locked packages the roots reach, and the markers under which they are reached (Poetry's export)."""
    by_name: dict[str, list[Mapping[str, Any]]] = {}
    for package in packages:
        by_name.setdefault(canonicalize_name(package["name"]), []).append(package)
    reached: dict[tuple[str, str], _Reach] = {}
    queue = deque((name, entry, "") for name, entry in roots)
    while queue:
        name, entry, parent_marker = queue.popleft()
        marker = and_markers(parent_marker, _poetry_entry_marker(entry))
        for package in _matching(by_name.get(canonicalize_name(name), []), entry.get("version")):
            reach = reached.setdefault(package_key(package), _Reach())
            new_marker = "" not in reach.markers and marker not in reach.markers
            if new_marker:
                # Past a few distinct paths, stop narrowing: installing it everywhere is the safe side.
                reach.markers = {""} if marker == "" or len(reach.markers) >= 8 else reach.markers | {marker}
            new_extras = set(entry.get("extras", [])) - reach.extras
            reach.extras |= new_extras
            if not (new_marker or new_extras):
                continue
            wanted = {
                canonicalize_name(re.split(r"[\s(\[;<>=!~]", item, maxsplit=1)[0])
                for extra in reach.extras
                for item in package.get("extras", {}).get(extra, [])
            }
            for dependency, spec in package.get("dependencies", {}).items():
                for child in poetry_entries(spec):
                    if not child.get("optional") or canonicalize_name(dependency) in wanted:
                        queue.extend((dependency, child, own) for own in reach.markers)
    return reached


def _matching(candidates: list[Mapping[str, Any]], constraint: object) -> list[Mapping[str, Any]]:
    """The locked versions a dependency's constraint allows; all of them when it cannot be read."""
    if len(candidates) < 2 or not isinstance(constraint, str):
        return candidates
    try:
        ranges = poetry_constraint(constraint)
        matching = [
            c
            for c in candidates
            if any(r.contains(Version(str(c["version"])), prereleases=True) for r in ranges)
        ]
    except (InvalidSpecifier, InvalidVersion):
        return candidates
    return matching or candidates


def poetry_entries(spec: object) -> list[Mapping[str, Any]]:
    """A Poetry dependency spec (`"^1.0"`, a table, or a list of tables) as a list of tables."""
    if isinstance(spec, str):
        return [{"version": spec}]
    if isinstance(spec, dict):
        return [spec]
    if isinstance(spec, list):
        return [entry for entry in spec if isinstance(entry, dict)]
    return []


def _poetry_entry_marker(entry: Mapping[str, Any]) -> str:
    python = entry.get("python")
    python_marker = _python_marker(python) if isinstance(python, str) else ""
    return and_markers(str(entry.get("markers") or ""), python_marker)


def _python_marker(constraint: str) -> str:
    """`^3.8` → `python_version >= "3.8" and python_version < "4"`."""
    try:
        ranges = poetry_constraint(constraint)
    except InvalidSpecifier:
        return ""
    alternatives = []
    for specifiers in ranges:
        words = []
        for specifier in sorted(specifiers, key=str):
            variable = "python_full_version" if specifier.version.count(".") >= 2 else "python_version"
            words.append(f'{variable} {specifier.operator} "{specifier.version}"')
        if not words:
            return ""
        alternatives.append(" and ".join(words))
    return or_markers(alternatives)


def _poetry_group_marker(markers: object) -> str:
    if isinstance(markers, dict):
        return str(markers.get("main", ""))
    return str(markers or "")
