# ruff: noqa: E501 -- lockfile fixtures keep the long lines real lockfiles have
"""The registry: one lockfile at most, and a BuildError saying what Dockyard looks for."""

from __future__ import annotations

import pytest

from builder.managers import plan_install
from core.errors import BuildError
from tests.unit.managers.test_poetry import POETRY_LOCK_1_1, POETRY_PYPROJECT
from tests.unit.managers.test_uv import UV_LOCK


def test_several_lockfiles() -> None:
    tree = {"pyproject.toml": POETRY_PYPROJECT, "uv.lock": UV_LOCK, "poetry.lock": POETRY_LOCK_1_1}

    with pytest.raises(BuildError) as raised:
        plan_install(tree)

    assert str(raised.value) == (
        "found uv.lock and poetry.lock: Dockyard installs from one lockfile; delete the stale one(s) and commit"
    )


def test_nothing_to_install() -> None:
    with pytest.raises(BuildError) as raised:
        plan_install({"main.py": "print('hi')\n", "pyproject.toml": "[tool.ruff]\nline-length = 100\n"})

    assert str(raised.value) == (
        "found no dependencies to install: Dockyard looks for uv.lock, poetry.lock, Pipfile.lock, pdm.lock, "
        "requirements.txt, pyproject.toml, setup.py at the app root"
    )
