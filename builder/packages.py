"""Package managers: how an app's declared dependencies get into the venv, as a plain `Install` plan.

Managers are an ordered registry (`MANAGERS`): lockfiles first, then requirements.txt, then a bare
pyproject.toml or setup.py. The first that claims the tree plans the install and says why.
"""

from __future__ import annotations

import ast
import configparser
import hashlib
import itertools
import json
import posixpath
import re
import tomllib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from typing import Any

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from builder.plans import VENV, FileTree, Install, Requirements
from builder.python_version import poetry_constraint
from core.errors import BuildError

REQUIREMENTS = "requirements.txt"
LOCKFILES = ("uv.lock", "poetry.lock", "Pipfile.lock", "pdm.lock")
GENERATED = ".dockyard/requirements.txt"

UV = "/opt/uv/bin/uv"
# uv lives outside the venv because `uv sync` makes the venv exactly the lock and would uninstall it.
INSTALL_UV = "python -m venv /opt/uv && /opt/uv/bin/pip install uv"
UV_SYNC = (
    f"UV_PROJECT_ENVIRONMENT={VENV} UV_PYTHON_DOWNLOADS=never UV_LINK_MODE=copy {UV} sync --locked --no-dev"
)
PIP_INSTALL_PROJECT = "pip install --no-deps ."

PYPI_SIMPLE = ("https://pypi.org/simple", "https://pypi.org/simple/", "https://pypi.python.org/simple")


@dataclass(frozen=True)
class Manager:
    """One entry of the registry; `looks_for` tells users what would make it claim their tree."""

    looks_for: str
    plan: Callable[[FileTree], Install | None]


def plan_install(tree: FileTree) -> Install:
    """How to install the dependencies of the app in `tree`; BuildError saying what to fix when it cannot."""
    locks = [path for path in LOCKFILES if path in tree]
    if len(locks) > 1:
        raise BuildError(
            f"found {' and '.join(locks)}: Dockyard installs from one lockfile; "
            "delete the stale one(s) and commit"
        )
    for manager in MANAGERS:
        install = manager.plan(tree)
        if install is None:
            continue
        if locks and REQUIREMENTS in tree:
            ignored = f"{REQUIREMENTS} is ignored: {locks[0]} pins the dependencies"
            install = replace(install, reasons=(*install.reasons, ignored))
        return install
    looked_for = ", ".join(manager.looks_for for manager in MANAGERS)
    raise BuildError(f"found no dependencies to install: Dockyard looks for {looked_for} at the app root")


# pip ----------------------------------------------------------------------------------------------------


def parse_requirements(text: str) -> Requirements:
    """The names (and extras) a requirements file declares; options, URLs and local paths are skipped."""
    declared: dict[str, set[str]] = {}
    for line in _logical_lines(text):
        # Like pip: per-requirement options (`--hash=…`) start at the first token beginning with a dash,
        # and a line that starts with one (`-r`, `-e`, `--index-url`) names no requirement of its own.
        words: list[str] = []
        for word in line.split():
            if word.startswith("-"):
                break
            words.append(word)
        try:
            requirement = Requirement(" ".join(words))
        except InvalidRequirement:
            continue
        _declare(declared, requirement.name, requirement.extras)
    return _frozen(declared)


def _plan_pip(tree: FileTree) -> Install | None:
    if REQUIREMENTS not in tree:
        return None
    included = _included_files(tree, REQUIREMENTS)
    declared: dict[str, set[str]] = {}
    for path, is_constraint in included.items():
        if not is_constraint:
            for name, extras in parse_requirements(tree[path]).items():
                _declare(declared, name, extras)
    command = f"pip install -r {REQUIREMENTS}"
    reasons = [f"found {REQUIREMENTS} → installing with {command}"]
    if len(included) > 1:
        reasons.append(f"{REQUIREMENTS} pulls in {', '.join(list(included)[1:])}")
    local = [
        path for path, is_constraint in included.items() if not is_constraint and _has_local_path(tree[path])
    ]
    if local:
        reasons.append(
            f"{local[0]} installs a local path (like -e .) → installing after the source is copied"
        )
    return Install(
        manager="pip",
        manifests=tuple(included),
        commands=() if local else (command,),
        project_commands=(command,) if local else (),
        requirements=_frozen(declared),
        reasons=tuple(reasons),
    )


_INCLUDE = re.compile(r"(-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?<=-r|-c))(\S+)")


def _included_files(tree: FileTree, path: str, is_constraint: bool = False) -> dict[str, bool]:
    """`path` and each file it pulls in with -r/-c, recursively, in order → whether it only constrains."""
    found = {path: is_constraint}
    for line in _logical_lines(tree[path]):
        match = _INCLUDE.match(line)
        if match is None or "://" in match[2]:
            continue
        target = posixpath.normpath(posixpath.join(posixpath.dirname(path), match[2]))
        if target not in tree:
            raise BuildError(
                f"{path} includes {match[2]} ({match[1]}) but {target} is not in the repository: "
                "commit it or remove the line"
            )
        if target not in found:
            found |= {
                included: constraint
                for included, constraint in _included_files(
                    tree, target, match[1] in ("-c", "--constraint")
                ).items()
                if included not in found
            }
    return found


def _has_local_path(text: str) -> bool:
    """Whether a requirements file installs something from the source tree (`.`, `-e ./pkg`, `file:…`)."""
    for line in _logical_lines(text):
        target = re.sub(r"^(?:-e|--editable)(?:\s*=\s*|\s*)", "", line)
        if target.startswith((".", "/", "file:")) or re.search(r"@\s*file:", target):
            return True
    return False


def _logical_lines(text: str) -> Iterator[str]:
    # pip joins backslash continuations, then drops comments that start a line or follow whitespace
    # (a `#` inside a URL, as in `#egg=`, is not a comment).
    joined = re.sub(r"\\\r?\n", "", text)
    for line in joined.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if line:
            yield line


# uv -----------------------------------------------------------------------------------------------------


def _plan_uv(tree: FileTree) -> Install | None:
    if "uv.lock" not in tree:
        return None
    pyproject = _toml(tree, _required(tree, "pyproject.toml", lockfile="uv.lock"))
    lock = _toml(tree, "uv.lock")
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
        return _pep508_requirements(pyproject.get("project", {}).get("dependencies", []), "pyproject.toml")
    declared: dict[str, set[str]] = {}
    queue = deque(dependency for root in roots for dependency in root.get("dependencies", []))
    while queue:
        dependency = queue.popleft()
        name = canonicalize_name(dependency["name"])
        first_visit = name not in declared
        new_extras = set(dependency.get("extra", [])) - declared.get(name, set())
        _declare(declared, name, new_extras)
        for package in by_name.get(name, []):
            if first_visit:
                queue.extend(package.get("dependencies", []))
            for extra in new_extras:
                queue.extend(package.get("optional-dependencies", {}).get(extra, []))
    for root in roots:
        declared.pop(canonicalize_name(root["name"]), None)
    return _frozen(declared)


# Poetry -------------------------------------------------------------------------------------------------


def _plan_poetry(tree: FileTree) -> Install | None:
    if "poetry.lock" not in tree:
        return None
    pyproject = _toml(tree, _required(tree, "pyproject.toml", lockfile="poetry.lock"))
    lock = _toml(tree, "poetry.lock")
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
            (package, reached.get(_key(package), _Reach()).marker)
            for package in packages
            if package.get("category") == "main"
        ]
    else:  # lock 2.0 says nothing about groups: main is what the main dependencies reach
        main = [(package, reached[_key(package)].marker) for package in packages if _key(package) in reached]
    metadata_files = lock.get("metadata", {}).get("files", {})
    exported = _Export()
    for package, marker in main:
        files = package.get("files") or metadata_files.get(package["name"]) or []
        exported.add_poetry(package, marker, [file["hash"] for file in files if "hash" in file])
    declared: dict[str, set[str]] = {}
    for package, _ in main:
        _declare(declared, package["name"], reached.get(_key(package), _Reach()).extras)
    project = _poetry_project_commands(tree, pyproject, poetry)
    return exported.install(
        manager="poetry",
        manifests=("pyproject.toml", "poetry.lock"),
        requirements=_frozen(declared),
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
        return _or(sorted(self.markers))


def _key(package: Mapping[str, Any]) -> tuple[str, str]:
    return canonicalize_name(package["name"]), str(package.get("version", ""))


def _poetry_roots(pyproject: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """(name, dependency table) for each main dependency in [tool.poetry.dependencies] and [project]."""
    roots: list[tuple[str, Mapping[str, Any]]] = []
    dependencies = pyproject.get("tool", {}).get("poetry", {}).get("dependencies", {})
    for name, spec in dependencies.items():
        if name != "python":
            roots += [(name, entry) for entry in _poetry_entries(spec) if not entry.get("optional")]
    for line in pyproject.get("project", {}).get("dependencies", []):
        requirement = _requirement(line, "pyproject.toml")
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
        marker = _and(parent_marker, _poetry_entry_marker(entry))
        for package in _matching(by_name.get(canonicalize_name(name), []), entry.get("version")):
            reach = reached.setdefault(_key(package), _Reach())
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
                for child in _poetry_entries(spec):
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


def _poetry_entries(spec: object) -> list[Mapping[str, Any]]:
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
    return _and(str(entry.get("markers") or ""), python_marker)


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
    return _or(alternatives)


def _poetry_group_marker(markers: object) -> str:
    if isinstance(markers, dict):
        return str(markers.get("main", ""))
    return str(markers or "")


# Pipenv -------------------------------------------------------------------------------------------------

PIPFILE_SECTIONS = ("source", "packages", "dev-packages", "requires", "scripts", "pipfile", "pipenv")
DEFAULT_SOURCE = {"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True}


def _plan_pipenv(tree: FileTree) -> Install | None:
    if "Pipfile.lock" not in tree:
        if "Pipfile" in tree:
            raise BuildError("found Pipfile but no Pipfile.lock: run `pipenv lock` and commit Pipfile.lock")
        return None
    pipfile = _required(tree, "Pipfile", lockfile="Pipfile.lock")
    try:
        lock = json.loads(tree["Pipfile.lock"])
        locked_hash = lock["_meta"]["hash"]["sha256"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise BuildError(
            "Pipfile.lock is not a lockfile pipenv wrote: run `pipenv lock` and commit it"
        ) from None
    if locked_hash not in pipfile_hashes(tree[pipfile], lock_sources=lock["_meta"].get("sources")):
        raise BuildError("Pipfile.lock is out of date with Pipfile: run `pipenv lock` and commit it")
    exported = _Export()
    for index, source in enumerate(lock["_meta"].get("sources", [])):
        exported.add_index(source.get("url", ""), first=index == 0)
    declared: dict[str, set[str]] = {}
    for name, entry in lock.get("default", {}).items():
        exported.add_pipenv(name, entry)
        _declare(declared, name, entry.get("extras", []))
    return exported.install(
        manager="pipenv",
        manifests=("Pipfile", "Pipfile.lock"),
        requirements=_frozen(declared),
        reasons=(
            f"found Pipfile.lock, up to date with Pipfile → exporting its default packages to {GENERATED}",
        ),
        project=((), ""),
    )


def pipfile_hashes(pipfile: str, *, lock_sources: object = None) -> set[str]:
    """The `_meta.hash.sha256` values pipenv may have written for this Pipfile (`pipenv install --deploy`).

    plette's `Pipfile.get_hash()`: sha256 of the sorted, compact JSON of sources, requires and the package
    sections. pipenv 2026 canonicalizes package names first; a lock from either is accepted. pipenv also
    hashes indexes from the locking machine's pip.conf, which it records in the lock's `_meta.sources`.
    """
    try:
        data = tomllib.loads(pipfile)
    except tomllib.TOMLDecodeError as error:
        raise BuildError(f"Pipfile is not valid TOML ({error}): fix it and run `pipenv lock`") from None
    categories = {
        key: value for key, value in data.items() if key not in (*PIPFILE_SECTIONS, "default", "develop")
    }
    hashes = set()
    sources = [data.get("source", [DEFAULT_SOURCE]), *([lock_sources] if lock_sources else [])]
    for normalize, source in itertools.product((_same, _canonical_keys), sources):
        content = {
            "_meta": {"sources": source, "requires": data.get("requires", {})},
            "default": normalize(data.get("packages", {})),
            "develop": normalize(data.get("dev-packages", {})),
            **{key: normalize(value) for key, value in categories.items()},
        }
        text = json.dumps(content, sort_keys=True, separators=(",", ":"))
        hashes.add(hashlib.sha256(text.encode()).hexdigest())
    return hashes


def _same(section: Mapping[str, Any]) -> Mapping[str, Any]:
    return section


def _canonical_keys(section: Mapping[str, Any]) -> dict[str, Any]:
    return {canonicalize_name(key): value for key, value in section.items()}


# PDM ----------------------------------------------------------------------------------------------------


def _plan_pdm(tree: FileTree) -> Install | None:
    if "pdm.lock" not in tree:
        return None
    pyproject = _toml(tree, _required(tree, "pyproject.toml", lockfile="pdm.lock"))
    lock = _toml(tree, "pdm.lock")
    packages = lock.get("package", [])
    if any("groups" in package for package in packages):
        main = [package for package in packages if "default" in package.get("groups", [])]
    else:  # older locks (format 4.2) name the groups only in [metadata]: follow the dependencies instead
        main = _pdm_walk(packages, pyproject.get("project", {}).get("dependencies", []))
    metadata_files = lock.get("metadata", {}).get("files", {})
    exported = _Export()
    declared = dict(_pdm_root_extras(pyproject))
    seen: set[tuple[str, str]] = set()
    # An extra (`uvicorn[standard]`) is its own entry with the same pin: export the plain entry once.
    for package in sorted(main, key=lambda package: bool(package.get("extras"))):
        _declare(declared, package["name"], package.get("extras", []))
        if _key(package) in seen:
            continue
        seen.add(_key(package))
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
        requirements=_frozen(declared),
        reasons=(f"found pdm.lock → exporting its default group to {GENERATED}",),
        project=project,
    )


def _pdm_root_extras(pyproject: Mapping[str, Any]) -> dict[str, set[str]]:
    declared: dict[str, set[str]] = {}
    for line in pyproject.get("project", {}).get("dependencies", []):
        requirement = _requirement(line, "pyproject.toml")
        _declare(declared, requirement.name, requirement.extras)
    return declared


def _pdm_walk(packages: list[Mapping[str, Any]], roots: list[str]) -> list[Mapping[str, Any]]:
    by_name: dict[str, list[Mapping[str, Any]]] = {}
    for package in packages:
        by_name.setdefault(canonicalize_name(package["name"]), []).append(package)
    reached: dict[tuple[str, str], Mapping[str, Any]] = {}
    queue = deque(roots)
    while queue:
        requirement = _requirement(queue.popleft(), "pdm.lock")
        for package in by_name.get(canonicalize_name(requirement.name), []):
            if _key(package) not in reached:
                reached[_key(package)] = package
                queue.extend(package.get("dependencies", []))
    return list(reached.values())


# Without a lockfile -------------------------------------------------------------------------------------


def _plan_pyproject(tree: FileTree) -> Install | None:
    if "pyproject.toml" not in tree:
        return None
    pyproject = _toml(tree, "pyproject.toml")
    project = pyproject.get("project")
    poetry_dependencies = pyproject.get("tool", {}).get("poetry", {}).get("dependencies")
    buildable = "build-system" in pyproject or "setup.py" in tree or "setup.cfg" in tree
    if isinstance(project, dict) and "dependencies" in project.get("dynamic", []):
        return Install(
            manager="pyproject",
            manifests=(),
            commands=(),
            project_commands=("pip install .",),
            requirements={},
            reasons=(
                "pyproject.toml declares its dependencies dynamic → pip install . resolves them as it builds",
            ),
        )
    if isinstance(project, dict):
        dependencies = [str(line) for line in project.get("dependencies", [])]
        requirements = _pep508_requirements(dependencies, "pyproject.toml")
        command = f"pip install -r {GENERATED}"
        reasons = [
            f"found [project] dependencies in pyproject.toml and no lockfile → installing them with {command}"
        ]
        if buildable:
            reasons.append(f"the project declares how to build it → installing it with {PIP_INSTALL_PROJECT}")
        else:
            reasons.append("no [build-system] in pyproject.toml → the project itself is not installed")
        return Install(
            manager="pyproject",
            manifests=(),
            commands=(command,) if dependencies else (),
            generated={GENERATED: "".join(f"{line}\n" for line in dependencies)} if dependencies else {},
            project_commands=(PIP_INSTALL_PROJECT,) if buildable else (),
            requirements=requirements,
            reasons=tuple(reasons),
        )
    if isinstance(poetry_dependencies, dict):
        declared: dict[str, set[str]] = {}
        for name, spec in poetry_dependencies.items():
            if name != "python":
                for entry in _poetry_entries(spec):
                    if not entry.get("optional"):
                        _declare(declared, name, entry.get("extras", []))
        return Install(
            manager="pyproject",
            manifests=(),
            commands=(),
            project_commands=("pip install .",),
            requirements=_frozen(declared),
            reasons=(
                "found [tool.poetry.dependencies] in pyproject.toml but no poetry.lock → "
                "pip install . builds the project with poetry-core and resolves its dependencies",
            ),
        )
    return None


def _plan_setup_py(tree: FileTree) -> Install | None:
    found = [path for path in ("setup.py", "setup.cfg") if path in tree]
    if not found:
        return None
    return Install(
        manager="pip",
        manifests=(),
        commands=(),
        project_commands=("pip install .",),
        requirements=_setup_requirements(tree),
        reasons=(f"found {found[0]} → installing the project and its dependencies with pip install .",),
    )


def _setup_requirements(tree: FileTree) -> Requirements:
    """install_requires when written as a literal in setup.py or in setup.cfg; {} when computed."""
    lines: list[str] = []
    if "setup.cfg" in tree:
        parser = configparser.ConfigParser()
        try:
            parser.read_string(tree["setup.cfg"])
            lines += parser.get("options", "install_requires", fallback="").splitlines()
        except configparser.Error:
            pass
    if "setup.py" in tree:
        try:
            module = ast.parse(tree["setup.py"])
        except (SyntaxError, ValueError):
            module = ast.Module(body=[], type_ignores=[])
        for node in ast.walk(module):
            if (
                isinstance(node, ast.keyword)
                and node.arg == "install_requires"
                and isinstance(node.value, ast.List)
            ):
                lines += [
                    item.value
                    for item in node.value.elts
                    if isinstance(item, ast.Constant) and isinstance(item.value, str)
                ]
    return parse_requirements("\n".join(lines))


MANAGERS: tuple[Manager, ...] = (
    Manager("uv.lock", _plan_uv),
    Manager("poetry.lock", _plan_poetry),
    Manager("Pipfile.lock", _plan_pipenv),
    Manager("pdm.lock", _plan_pdm),
    Manager(REQUIREMENTS, _plan_pip),
    Manager("pyproject.toml", _plan_pyproject),
    Manager("setup.py", _plan_setup_py),
)


# Exporting a lock to a hashed requirements file ---------------------------------------------------------


@dataclass
class _Export:
    """Lines of the generated requirements file, and what keeps it from being installed hash-checked."""

    indexes: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    unhashed: list[str] = field(default_factory=list)  # from git or a URL: nothing to check a hash against
    local: list[str] = field(default_factory=list)  # from a path in the repository: needs the source

    def add_index(self, url: str, *, first: bool = False) -> None:
        if url and url not in PYPI_SIMPLE:
            option = "--index-url" if first else "--extra-index-url"
            if option == "--extra-index-url" or not self.indexes:
                self.indexes.append(f"{option} {url}")

    def add(self, requirement: str, marker: str, hashes: Iterable[str], *, source: str = "registry") -> None:
        marker = _without_extras(marker)
        line = f"{requirement} ; {marker}" if marker else requirement
        if source == "local":
            self.local.append(requirement)
        elif source == "url":
            self.unhashed.append(requirement.split()[0])
        hashes = sorted(set(hashes))
        if source == "registry" and not hashes:
            self.unhashed.append(requirement)
        self.lines.append(" \\\n    ".join([line, *(f"--hash={value}" for value in hashes)]))

    def add_poetry(self, package: Mapping[str, Any], marker: str, hashes: list[str]) -> None:
        name, version = package["name"], package["version"]
        source = package.get("source", {})
        kind, url = source.get("type"), source.get("url", "")
        subdirectory = f"#subdirectory={source['subdirectory']}" if source.get("subdirectory") else ""
        if kind == "git":
            reference = source.get("resolved_reference") or source.get("reference", "")
            self.add(f"{name} @ git+{url}@{reference}{subdirectory}", marker, (), source="url")
        elif kind == "url":
            self.add(f"{name} @ {url}{subdirectory}", marker, (), source="url")
        elif kind in ("directory", "file"):
            editable = "-e " if package.get("develop") else ""
            self.add(f"{editable}{_relative(url)}", marker, (), source="local")
        else:
            if kind == "legacy":
                self.add_index(url)
            self.add(f"{name}=={version}", marker, hashes)

    def add_pipenv(self, name: str, entry: Mapping[str, Any]) -> None:
        extras = f"[{','.join(entry['extras'])}]" if entry.get("extras") else ""
        marker = str(entry.get("markers") or "")
        for vcs in ("git", "hg", "svn", "bzr"):
            if vcs in entry:
                url = entry[vcs] if entry[vcs].startswith(f"{vcs}+") else f"{vcs}+{entry[vcs]}"
                reference = f"@{entry['ref']}" if entry.get("ref") else ""
                subdirectory = f"#subdirectory={entry['subdirectory']}" if entry.get("subdirectory") else ""
                self.add(f"{name}{extras} @ {url}{reference}{subdirectory}", marker, (), source="url")
                return
        if "path" in entry or ("file" in entry and "://" not in entry["file"]):
            editable = "-e " if entry.get("editable") else ""
            self.add(f"{editable}{_relative(entry.get('path') or entry['file'])}", marker, (), source="local")
        elif "file" in entry:
            self.add(f"{name}{extras} @ {entry['file']}", marker, entry.get("hashes", []), source="url")
        else:
            self.add(f"{name}{extras}{entry.get('version', '')}", marker, entry.get("hashes", []))

    def add_pdm(self, package: Mapping[str, Any], hashes: list[str]) -> None:
        name, marker = package["name"], str(package.get("marker") or "")
        if "git" in package:
            revision = package.get("revision") or package.get("ref", "")
            subdirectory = f"#subdirectory={package['subdirectory']}" if package.get("subdirectory") else ""
            self.add(f"{name} @ git+{package['git']}@{revision}{subdirectory}", marker, (), source="url")
        elif "path" in package:
            editable = "-e " if package.get("editable") else ""
            self.add(f"{editable}{_relative(package['path'])}", marker, (), source="local")
        elif "url" in package:
            self.add(f"{name} @ {package['url']}", marker, (), source="url")
        else:
            self.add(f"{name}=={package['version']}", marker, hashes)

    def install(
        self,
        *,
        manager: str,
        manifests: tuple[str, ...],
        requirements: Requirements,
        reasons: tuple[str, ...],
        project: tuple[tuple[str, ...], str],
    ) -> Install:
        hashed = not self.unhashed and not self.local
        command = f"pip install --no-deps{' --require-hashes' if hashed else ''} -r {GENERATED}"
        all_reasons = [*reasons]
        if self.unhashed:
            all_reasons.append(
                f"{', '.join(self.unhashed)}: no hashes to check → installing without --require-hashes"
            )
        if self.local:
            all_reasons.append(
                f"{', '.join(self.local)}: a path in the repository → installing after the source is copied"
            )
        project_commands, project_reason = project
        if project_reason:
            all_reasons.append(project_reason)
        return Install(
            manager=manager,
            manifests=manifests,
            commands=() if self.local else (command,),
            generated={GENERATED: "".join(f"{line}\n" for line in (*self.indexes, *self.lines))},
            project_commands=((command,) if self.local else ()) + project_commands,
            requirements=requirements,
            reasons=tuple(all_reasons),
        )


def _relative(path: str) -> str:
    """A path from a lockfile as pip reads it in /build: `./libs/x`, or `.` for the project itself."""
    path = posixpath.normpath(path)
    return path if path == "." or path.startswith(("/", "../")) else f"./{path}"


# Helpers ------------------------------------------------------------------------------------------------


def _without_extras(marker: str) -> str:
    """`marker` minus its `extra == "…"` terms: pip evaluates a requirements file with no extra set."""
    if "extra" not in marker:
        return marker
    try:
        parsed = Marker(marker)._markers
    except InvalidMarker:
        return marker
    return _format_marker(_drop_extras(parsed))


def _drop_extras(terms: list[Any]) -> list[Any]:
    kept: list[Any] = []
    for term in terms:
        if isinstance(term, list):
            term = _drop_extras(term)
            if not term:
                continue
        elif isinstance(term, tuple) and "extra" in (term[0].value, term[2].value):
            continue
        if isinstance(term, str) and (not kept or isinstance(kept[-1], str)):
            continue  # an `and`/`or` whose left side was dropped
        kept.append(term)
    return kept[:-1] if kept and isinstance(kept[-1], str) else kept


def _format_marker(terms: list[Any]) -> str:
    words = []
    for term in terms:
        if isinstance(term, list):
            words.append(f"({_format_marker(term)})" if len(term) > 1 else _format_marker(term))
        elif isinstance(term, tuple):
            words.append(" ".join(part.serialize() for part in term))
        else:
            words.append(term)
    return " ".join(words)


def _and(*markers: str) -> str:
    present = [marker for marker in markers if marker]
    if len(present) < 2:
        return "".join(present)
    return " and ".join(f"({marker})" if " or " in marker else marker for marker in present)


def _or(markers: list[str]) -> str:
    if len(markers) == 1:
        return markers[0]
    return " or ".join(
        f"({marker})" if " and " in marker or " or " in marker else marker for marker in markers
    )


def _declare(declared: dict[str, set[str]], name: str, extras: Iterable[str]) -> None:
    declared.setdefault(canonicalize_name(name), set()).update(extra.lower() for extra in extras)


def _frozen(declared: Mapping[str, Iterable[str]]) -> dict[str, frozenset[str]]:
    return {name: frozenset(extras) for name, extras in declared.items()}


def _requirement(line: str, path: str) -> Requirement:
    try:
        return Requirement(line)
    except InvalidRequirement:
        raise BuildError(f"{path} declares {line!r}, which is not a valid requirement (PEP 508)") from None


def _pep508_requirements(lines: Iterable[str], path: str) -> Requirements:
    declared: dict[str, set[str]] = {}
    for line in lines:
        requirement = _requirement(line, path)
        _declare(declared, requirement.name, requirement.extras)
    return _frozen(declared)


def _required(tree: FileTree, path: str, *, lockfile: str) -> str:
    if path not in tree:
        raise BuildError(f"found {lockfile} but no {path}: commit {path} next to it")
    return path


def _toml(tree: FileTree, path: str) -> dict[str, Any]:
    try:
        return tomllib.loads(tree[path])
    except tomllib.TOMLDecodeError as error:
        raise BuildError(f"{path} is not valid TOML ({error}): fix it and commit it") from None
