"""Package managers: how an app's declared dependencies get into the venv, as a plain `Install` plan.

Managers are an ordered registry (`MANAGERS`): lockfiles first, then requirements.txt, then a bare
pyproject.toml or setup.py. The first that claims the tree plans the install and says why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from builder.managers.pdm import plan_pdm
from builder.managers.pip import REQUIREMENTS, parse_requirements, plan_pip
from builder.managers.pipenv import pipfile_hashes, plan_pipenv
from builder.managers.poetry import plan_poetry
from builder.managers.pyproject import plan_pyproject, plan_setup_py
from builder.managers.uv import plan_uv
from builder.plans import FileTree, Install
from core.errors import BuildError

__all__ = ["parse_requirements", "pipfile_hashes", "plan_install"]

LOCKFILES = ("uv.lock", "poetry.lock", "Pipfile.lock", "pdm.lock")


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


MANAGERS: tuple[Manager, ...] = (
    Manager("uv.lock", plan_uv),
    Manager("poetry.lock", plan_poetry),
    Manager("Pipfile.lock", plan_pipenv),
    Manager("pdm.lock", plan_pdm),
    Manager(REQUIREMENTS, plan_pip),
    Manager("pyproject.toml", plan_pyproject),
    Manager("setup.py", plan_setup_py),
)
