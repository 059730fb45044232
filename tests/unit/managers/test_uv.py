# ruff: noqa: E501 -- lockfile fixtures keep the long lines real lockfiles have
"""uv: source trees in, whole Install plans (or the BuildError a user reads) out."""

from __future__ import annotations

import pytest

from builder.managers import plan_install
from builder.plans import Install
from core.errors import BuildError

UV_SYNC = (
    "UV_PROJECT_ENVIRONMENT=/opt/venv UV_PYTHON_DOWNLOADS=never UV_LINK_MODE=copy /opt/uv/bin/uv sync "
    "--locked --no-dev"
)


UV_PYPROJECT = """\
[project]
name = "python-fastapi"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = [
    "fastapi>=0.115.5",
    "uvicorn[standard]>=0.32.1",
]

[dependency-groups]
dev = ["pytest>=8"]
"""

UV_LOCK = """\
version = 1
revision = 3
requires-python = ">=3.11"

[[package]]
name = "click"
version = "8.3.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "colorama", marker = "sys_platform == 'win32'" },
]
sdist = { url = "https://files.pythonhosted.org/packages/46/61/click-8.3.0.tar.gz", hash = "sha256:e7b8232224eba16f4ebe410c25ced9f7875cb5f3263ffc93cc3e8da705e229c4", size = 276943 }

[[package]]
name = "colorama"
version = "0.4.6"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "fastapi"
version = "0.121.2"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "starlette" },
]

[[package]]
name = "h11"
version = "0.16.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "httptools"
version = "0.7.1"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "iniconfig"
version = "2.1.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "pytest"
version = "8.4.2"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "iniconfig" },
]

[[package]]
name = "python-fastapi"
version = "0.1.0"
source = { virtual = "." }
dependencies = [
    { name = "fastapi" },
    { name = "uvicorn", extra = ["standard"] },
]

[package.dev-dependencies]
dev = [
    { name = "pytest" },
]

[package.metadata]
requires-dist = [
    { name = "fastapi", specifier = ">=0.115.5" },
    { name = "uvicorn", extras = ["standard"], specifier = ">=0.32.1" },
]

[[package]]
name = "starlette"
version = "0.49.3"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "uvicorn"
version = "0.38.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [
    { name = "click" },
    { name = "h11" },
]

[package.optional-dependencies]
standard = [
    { name = "colorama", marker = "sys_platform == 'win32'" },
    { name = "httptools" },
    { name = "uvloop", marker = "platform_python_implementation != 'PyPy' and sys_platform != 'cygwin' and sys_platform != 'win32'" },
]

[[package]]
name = "uvloop"
version = "0.22.1"
source = { registry = "https://pypi.org/simple" }
"""

UV_REQUIREMENTS = {
    "fastapi": frozenset(),
    "uvicorn": frozenset({"standard"}),
    "starlette": frozenset(),
    "click": frozenset(),
    "h11": frozenset(),
    "colorama": frozenset(),
    "httptools": frozenset(),
    "uvloop": frozenset(),
}


def test_uv_lock_of_a_virtual_project_next_to_requirements_txt() -> None:
    tree = {
        "pyproject.toml": UV_PYPROJECT,
        "uv.lock": UV_LOCK,
        "requirements.txt": "fastapi\n",
        "main.py": "",
    }

    assert plan_install(tree) == Install(
        manager="uv",
        manifests=("pyproject.toml", "uv.lock"),
        commands=(
            "python -m venv /opt/uv && /opt/uv/bin/pip install uv",
            f"{UV_SYNC} --no-install-project",
        ),
        requirements=UV_REQUIREMENTS,
        reasons=(
            "found uv.lock → installing with uv sync --locked --no-dev",
            "no [build-system] in pyproject.toml → uv treats the project as virtual and does not install it",
            "requirements.txt is ignored: uv.lock pins the dependencies",
        ),
        add_command="/opt/uv/bin/uv pip install --python /opt/venv/bin/python",
    )


def test_uv_lock_of_a_package() -> None:
    pyproject = (
        UV_PYPROJECT + '\n[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
    )
    lock = UV_LOCK.replace('source = { virtual = "." }', 'source = { editable = "." }')

    assert plan_install({"pyproject.toml": pyproject, "uv.lock": lock}) == Install(
        manager="uv",
        manifests=("pyproject.toml", "uv.lock"),
        commands=(
            "python -m venv /opt/uv && /opt/uv/bin/pip install uv",
            f"{UV_SYNC} --no-install-project",
        ),
        project_commands=(f"{UV_SYNC} --no-editable --inexact",),
        requirements=UV_REQUIREMENTS,
        reasons=(
            "found uv.lock → installing with uv sync --locked --no-dev",
            "pyproject.toml declares [build-system] → installing the project itself with uv sync",
        ),
        add_command="/opt/uv/bin/uv pip install --python /opt/venv/bin/python",
    )


def test_uv_workspace() -> None:
    pyproject = UV_PYPROJECT + '\n[tool.uv.workspace]\nmembers = ["packages/*"]\nexclude = ["packages/old"]\n'
    tree = {
        "pyproject.toml": pyproject,
        "uv.lock": UV_LOCK,
        "packages/billing/pyproject.toml": '[project]\nname = "billing"\n',
        "packages/old/pyproject.toml": '[project]\nname = "old"\n',
    }

    install = plan_install(tree)

    assert (install.manifests, install.commands, install.project_commands) == (
        ("pyproject.toml", "packages/billing/pyproject.toml", "uv.lock"),
        ("python -m venv /opt/uv && /opt/uv/bin/pip install uv", f"{UV_SYNC} --no-install-workspace"),
        (f"{UV_SYNC} --no-editable --inexact",),
    )


def test_uv_lock_without_pyproject() -> None:
    with pytest.raises(BuildError) as raised:
        plan_install({"uv.lock": UV_LOCK})

    assert str(raised.value) == "found uv.lock but no pyproject.toml: commit pyproject.toml next to it"
