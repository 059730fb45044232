"""Reading manifests and lockfiles: TOML, PEP 508 lines, and the names and extras they declare."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from builder.plans import FileTree, Requirements
from core.errors import BuildError


def declare(declared: dict[str, set[str]], name: str, extras: Iterable[str]) -> None:
    declared.setdefault(canonicalize_name(name), set()).update(extra.lower() for extra in extras)


def frozen(declared: Mapping[str, Iterable[str]]) -> dict[str, frozenset[str]]:
    return {name: frozenset(extras) for name, extras in declared.items()}


def parse_requirement(line: str, path: str) -> Requirement:
    try:
        return Requirement(line)
    except InvalidRequirement:
        raise BuildError(f"{path} declares {line!r}, which is not a valid requirement (PEP 508)") from None


def pep508_requirements(lines: Iterable[str], path: str) -> Requirements:
    declared: dict[str, set[str]] = {}
    for line in lines:
        requirement = parse_requirement(line, path)
        declare(declared, requirement.name, requirement.extras)
    return frozen(declared)


def required(tree: FileTree, path: str, *, lockfile: str) -> str:
    if path not in tree:
        raise BuildError(f"found {lockfile} but no {path}: commit {path} next to it")
    return path


def load_toml(tree: FileTree, path: str) -> dict[str, Any]:
    try:
        return tomllib.loads(tree[path])
    except tomllib.TOMLDecodeError as error:
        raise BuildError(f"{path} is not valid TOML ({error}): fix it and commit it") from None


def package_key(package: Mapping[str, Any]) -> tuple[str, str]:
    return canonicalize_name(package["name"]), str(package.get("version", ""))
