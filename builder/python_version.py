"""Which Python an app asks for: read from the files its tools write, newest rule first."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Sequence
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from builder.plans import FileTree
from core.errors import BuildError

# `3.12`, `3.12.4`, `cpython-3.12.4-linux-x86_64-gnu` (uv), `3.13.0rc1`; `pypy3.10` or `system` fail it.
_CPYTHON = re.compile(r"(?:cpython-)?(\d+\.\d+)(?:\.\d+)?(?:(?:a|b|rc)\d+)?(?:-[\w-]+)?")
_RUNTIME_TXT = re.compile(r"(?:python-)?(\d+\.\d+)(?:\.\d+)?")


def resolve_python_version(
    tree: FileTree, *, override: tuple[str, str] | None, supported: Sequence[str], default: str
) -> tuple[str, str]:
    """("X.Y", reason) for the app in `tree`.

    `override` is (value, where it was set). A version outside `supported` is returned as declared: the caller
    decides whether an image exists for it; `supported` only picks a version for a range.
    """
    if override is not None:
        value, where = override
        match = _RUNTIME_TXT.fullmatch(value.strip())
        if match is None:
            raise BuildError(f"{where} is {value!r}: Dockyard needs a CPython version like {default}")
        return match[1], f"{where} = {value.strip()} → Python {match[1]}"
    for rule in (_python_version_file, _runtime_txt, _pyproject, _pipenv):
        found = rule(tree, supported, default)
        if found is not None:
            return found
    return default, f"no version declared → default Python {default}"


def _python_version_file(tree: FileTree, supported: Sequence[str], default: str) -> tuple[str, str] | None:
    path = ".python-version"
    if path not in tree:
        return None
    declared = _first_line(tree[path])
    match = _CPYTHON.fullmatch(declared)
    if match is None:
        raise BuildError(
            f"{path} says {declared!r}: Dockyard needs a CPython version like {default} (or {default}.1)"
        )
    return match[1], f"found {path} → Python {match[1]}"


def _runtime_txt(tree: FileTree, supported: Sequence[str], default: str) -> tuple[str, str] | None:
    path = "runtime.txt"
    if path not in tree:
        return None
    declared = _first_line(tree[path])
    match = _RUNTIME_TXT.fullmatch(declared)
    if match is None:
        raise BuildError(
            f"{path} says {declared!r}: Dockyard needs a CPython version like python-{default} "
            f"(or python-{default}.1)"
        )
    return match[1], f"found {path} → Python {match[1]}"


def _pyproject(tree: FileTree, supported: Sequence[str], default: str) -> tuple[str, str] | None:
    if "pyproject.toml" not in tree:
        return None
    pyproject = _toml(tree, "pyproject.toml")
    requires_python = pyproject.get("project", {}).get("requires-python")
    if isinstance(requires_python, str):
        where = f'requires-python "{requires_python}" in pyproject.toml'
        try:
            ranges = [SpecifierSet(requires_python)]
        except InvalidSpecifier:
            raise BuildError(f"{where} is not a valid version specifier (PEP 440), like >=3.11") from None
        return _newest(ranges, where, supported)
    poetry_python = pyproject.get("tool", {}).get("poetry", {}).get("dependencies", {}).get("python")
    if isinstance(poetry_python, str):
        where = f'python = "{poetry_python}" in pyproject.toml [tool.poetry.dependencies]'
        try:
            ranges = poetry_constraint(poetry_python)
        except InvalidSpecifier:
            raise BuildError(f"{where} is not a version constraint Poetry accepts, like ^3.11") from None
        return _newest(ranges, where, supported)
    return None


def _pipenv(tree: FileTree, supported: Sequence[str], default: str) -> tuple[str, str] | None:
    requires: dict[str, Any] = {}
    if "Pipfile.lock" in tree:
        path = "Pipfile.lock"
        try:
            requires = json.loads(tree[path]).get("_meta", {}).get("requires", {})
        except (json.JSONDecodeError, AttributeError):
            raise BuildError(f"{path} is not valid JSON: run `pipenv lock` and commit it") from None
    if not requires and "Pipfile" in tree:
        path = "Pipfile"
        requires = _toml(tree, path).get("requires", {})
    for key in ("python_version", "python_full_version"):
        value = requires.get(key)
        if isinstance(value, str):
            match = _RUNTIME_TXT.fullmatch(value.strip())
            if match is None:
                raise BuildError(f'{path} asks for {key} "{value}": write a CPython version like {default}')
            return match[1], f'found {key} "{value}" in {path} → Python {match[1]}'
    return None


def _newest(ranges: list[SpecifierSet], where: str, supported: Sequence[str]) -> tuple[str, str]:
    """The highest supported X.Y with a patch release in one of `ranges` (so `<3.13` rules out 3.13)."""
    for version in sorted(supported, key=lambda v: tuple(int(part) for part in v.split(".")), reverse=True):
        if any(spec.contains(f"{version}.{patch}") for spec in ranges for patch in range(50)):
            return version, f"{where} → Python {version}, the newest supported that satisfies it"
    raise BuildError(
        f"{where} allows none of the Python versions Dockyard supports ({', '.join(supported)}): "
        "widen it or set PYTHON_VERSION"
    )


def poetry_constraint(constraint: str) -> list[SpecifierSet]:
    """Poetry's version constraint (`^3.11`, `~3.11`, `3.11.*`, `>=3.10,<4`, `a || b`) as PEP 440 ranges,
    any of which may hold; raises InvalidSpecifier for something else."""
    return [_poetry_range(part) for part in constraint.split("||")]


def _poetry_range(constraint: str) -> SpecifierSet:
    specifiers: list[str] = []
    tight = re.sub(r"([<>=!~^]+)\s+", r"\1", constraint.strip())  # `>= 3.8` → `>=3.8`
    for word in re.split(r"\s*,\s*|\s+", tight):
        if word in ("", "*"):
            continue
        operator, version = re.fullmatch(r"(\^|~=|~|==|!=|>=|<=|>|<|=)?\s*(.+)", word).groups()  # type: ignore[union-attr]
        numbers = [int(part) for part in version.split(".") if part.isdigit()]
        if operator == "^" and numbers:
            # Caret: up to the next change of the leftmost non-zero part.
            upper = next((i for i, n in enumerate(numbers) if n), len(numbers) - 1)
            specifiers += [f">={version}", f"<{_bump(numbers, upper)}"]
        elif operator == "~" and numbers:
            specifiers += [f">={version}", f"<{_bump(numbers, min(1, len(numbers) - 1))}"]
        elif operator in (None, "=") and not version.endswith("*"):
            specifiers.append(f"=={version}")
        else:
            specifiers.append(f"{operator or '=='}{version}")
    return SpecifierSet(",".join(specifiers))


def _bump(numbers: list[int], index: int) -> str:
    return ".".join(str(n) for n in [*numbers[:index], numbers[index] + 1])


def _first_line(text: str) -> str:
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            return line
    return ""


def _toml(tree: FileTree, path: str) -> dict[str, Any]:
    try:
        return tomllib.loads(tree[path])
    except tomllib.TOMLDecodeError as error:
        raise BuildError(f"{path} is not valid TOML ({error}): fix it and commit it") from None
