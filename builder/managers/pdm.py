"""PDM: pdm.lock's default group, exported to a hashed requirements file."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from packaging.utils import canonicalize_name

from builder.managers.export import GENERATED, Export
from builder.managers.manifests import declare, frozen, load_toml, package_key, parse_requirement, required
from builder.managers.pip import PIP_INSTALL_PROJECT
from builder.plans import FileTree, Install


def plan_pdm(tree: FileTree) -> Install | None:
    if "pdm.lock" not in tree:
        return None
    pyproject = load_toml(tree, required(tree, "pyproject.toml", lockfile="pdm.lock"))
    lock = load_toml(tree, "pdm.lock")
    packages = lock.get("package", [])
    if any("groups" in package for package in packages):
        main = [package for package in packages if "default" in package.get("groups", [])]
    else:  # older locks (format 4.2) name the groups only in [metadata]: follow the dependencies instead
        main = _pdm_walk(packages, pyproject.get("project", {}).get("dependencies", []))
    metadata_files = lock.get("metadata", {}).get("files", {})
    exported = Export()
    declared = dict(_pdm_root_extras(pyproject))
    seen: set[tuple[str, str]] = set()
    # An extra (`uvicorn[standard]`) is its own entry with the same pin: export the plain entry once.
    for package in sorted(main, key=lambda package: bool(package.get("extras"))):
        declare(declared, package["name"], package.get("extras", []))
        if package_key(package) in seen:
            continue
        seen.add(package_key(package))
        files = (
            package.get("files") or metadata_files.get(f"{package['name']} {package.get('version')}") or []
        )
        exported.add_pdm(package, [file["hash"] for file in files if "hash" in file])
    exported.lines.sort(key=lambda line: line.lower())
    distribution = pyproject.get("tool", {}).get("pdm", {}).get("distribution")
    project: tuple[tuple[str, ...], str]
    if "build-system" in pyproject and distribution is not False:
        project = (PIP_INSTALL_PROJECT,), f"pyproject.toml declares [build-system] → {PIP_INSTALL_PROJECT}"
    else:
        project = (
            (),
            "no [build-system] in pyproject.toml, or distribution = false → the project is not installed",
        )
    return exported.install(
        manager="pdm",
        manifests=("pyproject.toml", "pdm.lock"),
        requirements=frozen(declared),
        reasons=(f"found pdm.lock → exporting its default group to {GENERATED}",),
        project=project,
    )


def _pdm_root_extras(pyproject: Mapping[str, Any]) -> dict[str, set[str]]:
    declared: dict[str, set[str]] = {}
    for line in pyproject.get("project", {}).get("dependencies", []):
        requirement = parse_requirement(line, "pyproject.toml")
        declare(declared, requirement.name, requirement.extras)
    return declared


def _pdm_walk(packages: list[Mapping[str, Any]], roots: list[str]) -> list[Mapping[str, Any]]:
    by_name: dict[str, list[Mapping[str, Any]]] = {}
    for package in packages:
        by_name.setdefault(canonicalize_name(package["name"]), []).append(package)
    reached: dict[tuple[str, str], Mapping[str, Any]] = {}
    queue = deque(roots)
    while queue:
        requirement = parse_requirement(queue.popleft(), "pdm.lock")
        for package in by_name.get(canonicalize_name(requirement.name), []):
            if package_key(package) not in reached:
                reached[package_key(package)] = package
                queue.extend(package.get("dependencies", []))
    return list(reached.values())
