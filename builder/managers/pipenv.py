"""Pipenv: Pipfile.lock's default packages, exported once the lock is up to date with its Pipfile."""

from __future__ import annotations

import hashlib
import itertools
import json
import tomllib
from collections.abc import Mapping
from typing import Any

from packaging.utils import canonicalize_name

from builder.managers.export import GENERATED, Export
from builder.managers.manifests import declare, frozen, required
from builder.plans import FileTree, Install
from core.errors import BuildError

PIPFILE_SECTIONS = ("source", "packages", "dev-packages", "requires", "scripts", "pipfile", "pipenv")
DEFAULT_SOURCE = {"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True}


def plan_pipenv(tree: FileTree) -> Install | None:
    if "Pipfile.lock" not in tree:
        if "Pipfile" in tree:
            raise BuildError("found Pipfile but no Pipfile.lock: run `pipenv lock` and commit Pipfile.lock")
        return None
    pipfile = required(tree, "Pipfile", lockfile="Pipfile.lock")
    try:
        lock = json.loads(tree["Pipfile.lock"])
        locked_hash = lock["_meta"]["hash"]["sha256"]
    except (json.JSONDecodeError, KeyError, TypeError):
        raise BuildError(
            "Pipfile.lock is not a lockfile pipenv wrote: run `pipenv lock` and commit it"
        ) from None
    if locked_hash not in pipfile_hashes(tree[pipfile], lock_sources=lock["_meta"].get("sources")):
        raise BuildError("Pipfile.lock is out of date with Pipfile: run `pipenv lock` and commit it")
    exported = Export()
    for index, source in enumerate(lock["_meta"].get("sources", [])):
        exported.add_index(source.get("url", ""), first=index == 0)
    declared: dict[str, set[str]] = {}
    for name, entry in lock.get("default", {}).items():
        exported.add_pipenv(name, entry)
        declare(declared, name, entry.get("extras", []))
    return exported.install(
        manager="pipenv",
        manifests=("Pipfile", "Pipfile.lock"),
        requirements=frozen(declared),
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
