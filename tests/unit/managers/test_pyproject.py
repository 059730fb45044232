# ruff: noqa: E501 -- lockfile fixtures keep the long lines real lockfiles have
"""Without a lockfile: pyproject.toml or setup.py trees in, whole Install plans out."""

from __future__ import annotations

from builder.managers import plan_install
from builder.plans import Install
from tests.unit.managers import GENERATED
from tests.unit.managers.test_poetry import POETRY_PYPROJECT

PROJECT = """\
[project]
name = "shop"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = [
    "fastapi[standard]>=0.115",
    "SQLAlchemy>=2.0 ; python_version >= '3.11'",
]
"""


def test_pyproject_dependencies_of_a_package() -> None:
    pyproject = PROJECT + '\n[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'

    assert plan_install({"pyproject.toml": pyproject}) == Install(
        manager="pyproject",
        manifests=(),
        commands=("pip install -r .dockyard/requirements.txt",),
        generated={GENERATED: "fastapi[standard]>=0.115\nSQLAlchemy>=2.0 ; python_version >= '3.11'\n"},
        project_commands=("pip install --no-deps .",),
        requirements={"fastapi": frozenset({"standard"}), "sqlalchemy": frozenset()},
        reasons=(
            "found [project] dependencies in pyproject.toml and no lockfile → installing them with "
            "pip install -r .dockyard/requirements.txt",
            "the project declares how to build it → installing it with pip install --no-deps .",
        ),
    )


def test_pyproject_dependencies_of_an_app_that_is_no_package() -> None:
    install = plan_install({"pyproject.toml": PROJECT, "main.py": ""})

    assert (install.commands, install.project_commands, install.reasons[-1]) == (
        ("pip install -r .dockyard/requirements.txt",),
        (),
        "no [build-system] in pyproject.toml → the project itself is not installed",
    )


def test_pyproject_with_setup_py_is_built_by_it() -> None:
    install = plan_install({"pyproject.toml": PROJECT, "setup.py": "from setuptools import setup\nsetup()\n"})

    assert install.project_commands == ("pip install --no-deps .",)


def test_pyproject_with_dynamic_dependencies() -> None:
    pyproject = '[project]\nname = "shop"\ndynamic = ["version", "dependencies"]\n'

    assert plan_install({"pyproject.toml": pyproject, "setup.py": ""}) == Install(
        manager="pyproject",
        manifests=(),
        commands=(),
        project_commands=("pip install .",),
        requirements={},
        reasons=(
            "pyproject.toml declares its dependencies dynamic → pip install . resolves them as it builds",
        ),
    )


def test_poetry_project_without_a_lock() -> None:
    assert plan_install({"pyproject.toml": POETRY_PYPROJECT}) == Install(
        manager="pyproject",
        manifests=(),
        commands=(),
        project_commands=("pip install .",),
        requirements={"flask": frozenset()},
        reasons=(
            "found [tool.poetry.dependencies] in pyproject.toml but no poetry.lock → pip install . builds the "
            "project with poetry-core and resolves its dependencies",
        ),
    )


def test_setup_py_alone() -> None:
    setup_py = (
        "from setuptools import setup\n\nsetup(name='shop', install_requires=['Flask>=3', 'gunicorn'])\n"
    )

    assert plan_install({"setup.py": setup_py}) == Install(
        manager="pip",
        manifests=(),
        commands=(),
        project_commands=("pip install .",),
        requirements={"flask": frozenset(), "gunicorn": frozenset()},
        reasons=("found setup.py → installing the project and its dependencies with pip install .",),
    )
