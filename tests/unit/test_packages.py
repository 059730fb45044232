# ruff: noqa: E501 -- lockfile fixtures keep the long lines real lockfiles have
"""Package managers: source trees in, whole Install plans (or the BuildError a user reads) out.

Lockfiles are trimmed from real ones: uv.lock from railpack's examples/python-fastapi, poetry.lock 1.1 from
nixpacks' examples/python-poetry, 2.1 from railpack's (Poetry 2.2.1), Pipfile and Pipfile.lock from
debjava/python-fastapi-pipenv (its `_meta.hash` is the one pipenv wrote), pdm.lock in PDM's 4.5 format.
"""

from __future__ import annotations

import json

import pytest

from builder.packages import parse_requirements, plan_install
from builder.plans import Install
from core.errors import BuildError

GENERATED = ".dockyard/requirements.txt"
HASHED = "pip install --no-deps --require-hashes -r .dockyard/requirements.txt"
UNHASHED = "pip install --no-deps -r .dockyard/requirements.txt"
UV_SYNC = (
    "UV_PROJECT_ENVIRONMENT=/opt/venv UV_PYTHON_DOWNLOADS=never UV_LINK_MODE=copy /opt/uv/bin/uv sync "
    "--locked --no-dev"
)

# pip ------------------------------------------------------------------------------------------------------


def test_requirements_txt() -> None:
    tree = {"requirements.txt": "fastapi[standard]==0.115.0\nUvicorn>=0.30  # the server\n", "main.py": ""}

    assert plan_install(tree) == Install(
        manager="pip",
        manifests=("requirements.txt",),
        commands=("pip install -r requirements.txt",),
        requirements={"fastapi": frozenset({"standard"}), "uvicorn": frozenset()},
        reasons=("found requirements.txt → installing with pip install -r requirements.txt",),
    )


def test_requirements_txt_with_includes_and_constraints() -> None:
    tree = {
        "requirements.txt": "-r requirements/base.txt\n--constraint constraints.txt\ngunicorn\n",
        "requirements/base.txt": "-rcommon.txt\ndjango>=5\n",
        "requirements/common.txt": "psycopg[binary]\n",
        "constraints.txt": "sqlparse==0.5.1\n",
    }

    assert plan_install(tree) == Install(
        manager="pip",
        manifests=("requirements.txt", "requirements/base.txt", "requirements/common.txt", "constraints.txt"),
        commands=("pip install -r requirements.txt",),
        requirements={"gunicorn": frozenset(), "django": frozenset(), "psycopg": frozenset({"binary"})},
        reasons=(
            "found requirements.txt → installing with pip install -r requirements.txt",
            "requirements.txt pulls in requirements/base.txt, requirements/common.txt, constraints.txt",
        ),
    )


def test_requirements_txt_including_a_missing_file() -> None:
    tree = {"requirements.txt": "-r requirements/prod.txt\n"}

    with pytest.raises(BuildError) as raised:
        plan_install(tree)

    assert str(raised.value) == (
        "requirements.txt includes requirements/prod.txt (-r) but requirements/prod.txt is not in the "
        "repository: commit it or remove the line"
    )


@pytest.mark.parametrize(
    "line", ["-e .", ".", "./packages/shop", "-e file:packages/shop", "shop @ file:shop"]
)
def test_requirements_txt_with_a_local_path_installs_after_the_source(line: str) -> None:
    tree = {"requirements.txt": f"flask\n{line}\n"}

    assert plan_install(tree) == Install(
        manager="pip",
        manifests=("requirements.txt",),
        commands=(),
        project_commands=("pip install -r requirements.txt",),
        requirements={"flask": frozenset(), **({"shop": frozenset()} if "@" in line else {})},
        reasons=(
            "found requirements.txt → installing with pip install -r requirements.txt",
            "requirements.txt installs a local path (like -e .) → installing after the source is copied",
        ),
    )


def test_parse_requirements_reads_names_like_pip() -> None:
    text = (
        "--index-url https://pypi.org/simple\n"
        "-r base.txt\n"
        "Flask_SQLAlchemy==3.1 ; python_version >= '3.8'   # trailing comment\n"
        "requests[socks,security] \\\n    >=2.31 --hash=sha256:abc\n"
        "-e git+https://github.com/org/lib.git#egg=lib\n"
        "./local\n"
    )

    assert parse_requirements(text) == {
        "flask-sqlalchemy": frozenset(),
        "requests": frozenset({"socks", "security"}),
    }


# uv -------------------------------------------------------------------------------------------------------

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


# Poetry ---------------------------------------------------------------------------------------------------

CLICK_HASHES = (
    "sha256:7682dc8afb30297001674575ea00d1814d808d6a36af415a82bd481d37ba7b8e",
    "sha256:bb4d8133cb15a609f44e8213d9b391b0809795062913b383c62be0ee95b1db48",
)
COLORAMA_HASHES = (
    "sha256:5941b2b48a20143d2267e95b1c2a7603ce057ee39fd88e7329b0c292aa16869b",
    "sha256:9f47eda37229f68eee03b24b9748937c7dc3868f906e8ba69fbcbdd3bc5dc3e2",
)
FLASK_HASHES = (
    "sha256:315ded2ddf8a6281567edb27393010fe3406188bafbfe65a3339d5787d89e477",
    "sha256:fad5b446feb0d6db6aec0c3184d16a8c1f6c3e464b511649c8918a9be100b4fe",
)
PYTEST_HASHES = (
    "sha256:5c0db86b698e8f170ba4582a492248919255fcd4c79b1ee64ace34301fb589a1",
    "sha256:7979331bfcba207414f5e1263b5a0f8f521d0f457318836a7355531ed1a4c7d8",
)


def files(name: str, hashes: tuple[str, ...]) -> str:
    return "".join(f'    {{file = "{name}-{i}.whl", hash = "{value}"}},\n' for i, value in enumerate(hashes))


POETRY_PYPROJECT = """\
[tool.poetry]
name = "python-poetry"
version = "0.1.0"
description = ""
authors = ["Railway <contact@railway.app>"]

[tool.poetry.dependencies]
python = "^3.10"
Flask = "^2.1.2"

[tool.poetry.dev-dependencies]
pytest = "^5.2"

[build-system]
requires = ["poetry-core>=1.0.0"]
build-backend = "poetry.core.masonry.api"
"""

POETRY_LOCK_1_1 = f"""\
[[package]]
name = "click"
version = "8.1.3"
description = "Composable command line interface toolkit"
category = "main"
optional = false
python-versions = ">=3.7"

[package.dependencies]
colorama = {{version = "*", markers = "platform_system == \\"Windows\\""}}

[[package]]
name = "colorama"
version = "0.4.4"
description = "Cross-platform colored terminal text."
category = "main"
optional = false
python-versions = ">=2.7, !=3.0.*, !=3.1.*, !=3.2.*, !=3.3.*, !=3.4.*"

[[package]]
name = "flask"
version = "2.1.2"
description = "A simple framework for building complex web applications."
category = "main"
optional = false
python-versions = ">=3.7"

[package.dependencies]
click = ">=8.0"

[package.extras]
async = ["asgiref (>=3.2)"]
dotenv = ["python-dotenv"]

[[package]]
name = "pytest"
version = "5.4.3"
description = "pytest: simple powerful testing with Python"
category = "dev"
optional = false
python-versions = ">=3.5"

[package.dependencies]
colorama = {{version = "*", markers = "sys_platform == \\"win32\\""}}

[metadata]
lock-version = "1.1"
python-versions = "^3.10"
content-hash = "7af4a2e7efe4e260c66af12870eb8dfb684e7b9c80386bbb1aeb0f3a3f98f848"

[metadata.files]
click = [
{files("click-8.1.3", CLICK_HASHES)}]
colorama = [
{files("colorama-0.4.4", COLORAMA_HASHES)}]
flask = [
{files("Flask-2.1.2", FLASK_HASHES)}]
pytest = [
{files("pytest-5.4.3", PYTEST_HASHES)}]
"""

POETRY_EXPORT = f"""\
click==8.1.3 \\
    --hash={CLICK_HASHES[0]} \\
    --hash={CLICK_HASHES[1]}
colorama==0.4.4 ; platform_system == "Windows" \\
    --hash={COLORAMA_HASHES[0]} \\
    --hash={COLORAMA_HASHES[1]}
flask==2.1.2 \\
    --hash={FLASK_HASHES[0]} \\
    --hash={FLASK_HASHES[1]}
"""

POETRY_REQUIREMENTS = {"click": frozenset(), "colorama": frozenset(), "flask": frozenset()}


def test_poetry_lock_1_1() -> None:
    tree = {"pyproject.toml": POETRY_PYPROJECT, "poetry.lock": POETRY_LOCK_1_1, "app.py": ""}

    assert plan_install(tree) == Install(
        manager="poetry",
        manifests=("pyproject.toml", "poetry.lock"),
        commands=(HASHED,),
        generated={GENERATED: POETRY_EXPORT},
        requirements=POETRY_REQUIREMENTS,
        reasons=(
            "found poetry.lock (lock format 1.1) → exporting its main group to .dockyard/requirements.txt",
            "no package python_poetry to build → the project itself is not installed",
        ),
    )


def poetry_lock_2_0(lock_1_1: str) -> str:
    """The same lock as Poetry 1.5 to 1.8 writes it: no category, each package's files inline."""
    lock = (
        lock_1_1.split("[metadata]")[0].replace('category = "main"\n', "").replace('category = "dev"\n', "")
    )
    for name, hashes in (
        ("click", CLICK_HASHES),
        ("colorama", COLORAMA_HASHES),
        ("flask", FLASK_HASHES),
        ("pytest", PYTEST_HASHES),
    ):
        version = lock.split(f'name = "{name}"\nversion = "')[1].split('"')[0]
        lock = lock.replace(
            f'name = "{name}"\nversion = "{version}"\n',
            f'name = "{name}"\nversion = "{version}"\nfiles = [\n{files(name, hashes)}]\n',
        )
    return lock + '[metadata]\nlock-version = "2.0"\npython-versions = "^3.10"\ncontent-hash = "7af4a2e7"\n'


def test_poetry_lock_2_0_walks_the_main_dependencies() -> None:
    tree = {"pyproject.toml": POETRY_PYPROJECT, "poetry.lock": poetry_lock_2_0(POETRY_LOCK_1_1)}

    install = plan_install(tree)

    assert (install.generated, install.requirements, install.reasons[0]) == (
        {GENERATED: POETRY_EXPORT},
        POETRY_REQUIREMENTS,
        "found poetry.lock (lock format 2.0) → exporting its main group to .dockyard/requirements.txt",
    )


def test_poetry_lock_2_0_follows_extras_and_python_constraints() -> None:
    pyproject = POETRY_PYPROJECT.replace(
        'Flask = "^2.1.2"\n',
        'uvicorn = {version = "^0.30.0", extras = ["standard"]}\n'
        'gunicorn = {version = "^22.0", optional = true}\n',
    )
    lock = """\
[[package]]
name = "h11"
version = "0.14.0"
optional = false
python-versions = ">=3.7"
files = [
    {file = "h11-0.14.0-py3-none-any.whl", hash = "sha256:e3fe4ac4b851c468cc8363d500db52c2ead036020723024a109d37346efaa761"},
]

[[package]]
name = "httptools"
version = "0.6.1"
optional = false
python-versions = ">=3.8.0"
files = [
    {file = "httptools-0.6.1.tar.gz", hash = "sha256:c6e26c30455600b95d94b1b836085138e82f177351454ee841c148f93a9bad5a"},
]

[[package]]
name = "typing-extensions"
version = "4.12.2"
optional = false
python-versions = ">=3.8"
files = [
    {file = "typing_extensions-4.12.2-py3-none-any.whl", hash = "sha256:04e5ca0351e0f3f85c6853954072df659d0d13fac324d0072316b67d7794700d"},
]

[[package]]
name = "uvicorn"
version = "0.30.1"
optional = false
python-versions = ">=3.8"
files = [
    {file = "uvicorn-0.30.1-py3-none-any.whl", hash = "sha256:cd17daa7f3b9d7a24de3617820e634d0933b69eed8e33a516071174427238c81"},
]

[package.dependencies]
h11 = ">=0.8"
httptools = {version = ">=0.5.0", optional = true, markers = "extra == \\"standard\\""}
typing-extensions = {version = ">=4.0", markers = "python_version < \\"3.11\\""}
uvloop = {version = ">=0.14.0,<0.15.0 || >0.15.0,<0.15.1 || >0.15.1", optional = true, markers = "(sys_platform != \\"win32\\" and sys_platform != \\"cygwin\\") and platform_python_implementation != \\"PyPy\\" and extra == \\"standard\\""}

[package.extras]
standard = ["httptools (>=0.5.0)", "uvloop (>=0.14.0,!=0.15.0,!=0.15.1) ; (sys_platform != \\"win32\\" and sys_platform != \\"cygwin\\") and platform_python_implementation != \\"PyPy\\""]

[[package]]
name = "uvloop"
version = "0.19.0"
optional = false
python-versions = ">=3.8.0"
files = [
    {file = "uvloop-0.19.0.tar.gz", hash = "sha256:0246f4fd1bf2bf702e06b0d45ee91677ee5c31242f39aab4ea6fe0c51aedd0fd"},
]

[metadata]
lock-version = "2.0"
python-versions = "^3.10"
content-hash = "3e1b2d"
"""

    assert plan_install({"pyproject.toml": pyproject, "poetry.lock": lock}).generated == {
        GENERATED: (
            "h11==0.14.0 \\\n"
            "    --hash=sha256:e3fe4ac4b851c468cc8363d500db52c2ead036020723024a109d37346efaa761\n"
            "httptools==0.6.1 \\\n"
            "    --hash=sha256:c6e26c30455600b95d94b1b836085138e82f177351454ee841c148f93a9bad5a\n"
            'typing-extensions==4.12.2 ; python_version < "3.11" \\\n'
            "    --hash=sha256:04e5ca0351e0f3f85c6853954072df659d0d13fac324d0072316b67d7794700d\n"
            "uvicorn==0.30.1 \\\n"
            "    --hash=sha256:cd17daa7f3b9d7a24de3617820e634d0933b69eed8e33a516071174427238c81\n"
            'uvloop==0.19.0 ; (sys_platform != "win32" and sys_platform != "cygwin") and '
            'platform_python_implementation != "PyPy" \\\n'
            "    --hash=sha256:0246f4fd1bf2bf702e06b0d45ee91677ee5c31242f39aab4ea6fe0c51aedd0fd\n"
        )
    }


POETRY_2_PYPROJECT = """\
[project]
name = "shop"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = ["flask (>=3.1.0,<4.0.0)"]

[tool.poetry]
packages = [{include = "shop", from = "src"}]

[tool.poetry.group.dev.dependencies]
pytest = "^8.3"

[build-system]
requires = ["poetry-core>=2.0.0,<3.0.0"]
build-backend = "poetry.core.masonry.api"
"""

POETRY_LOCK_2_1 = """\
# This file is automatically @generated by Poetry 2.2.1 and should not be changed by hand.

[[package]]
name = "click"
version = "8.1.8"
description = "Composable command line interface toolkit"
optional = false
python-versions = ">=3.7"
groups = ["main", "dev"]
files = [
    {file = "click-8.1.8-py3-none-any.whl", hash = "sha256:63c132bbbed01578a06712a2d1f497bb62d9c1c0d329b7903a866228027263b2"},
    {file = "click-8.1.8.tar.gz", hash = "sha256:ed53c9d8990d83c2a27deae68e4ee337473f6330c040a31d4225c9574d16096a"},
]

[package.dependencies]
colorama = {version = "*", markers = "platform_system == \\"Windows\\""}

[[package]]
name = "colorama"
version = "0.4.6"
description = "Cross-platform colored terminal text."
optional = false
python-versions = "!=3.0.*,!=3.1.*,!=3.2.*,!=3.3.*,!=3.4.*,!=3.5.*,!=3.6.*,>=2.7"
groups = ["main", "dev"]
markers = {main = "platform_system == \\"Windows\\"", dev = "sys_platform == \\"win32\\" or platform_system == \\"Windows\\""}
files = [
    {file = "colorama-0.4.6-py2.py3-none-any.whl", hash = "sha256:4f1d9991f5acc0ca119f9d443620b77f9d6b33703e51011c16baf57afb285fc6"},
    {file = "colorama-0.4.6.tar.gz", hash = "sha256:08695f5cb7ed6e0531a20572697297273c47b8cae5a63ffc6d6ed5c201be6e44"},
]

[[package]]
name = "exceptiongroup"
version = "1.2.2"
description = "Backport of PEP 654 (exception groups)"
optional = false
python-versions = ">=3.7"
groups = ["dev"]
markers = "python_version < \\"3.11\\""
files = [
    {file = "exceptiongroup-1.2.2-py3-none-any.whl", hash = "sha256:3111b9d131c238bec2f8f516e123e14ba243563fb135d3fe885990585aa7795b"},
]

[[package]]
name = "flask"
version = "3.1.0"
description = "A simple framework for building complex web applications."
optional = false
python-versions = ">=3.9"
groups = ["main"]
files = [
    {file = "flask-3.1.0-py3-none-any.whl", hash = "sha256:d667207822eb83f1c4b50949b1623c8fc8d51f2341d65f72e1a1815397551136"},
]

[package.dependencies]
click = ">=8.1.3"

[metadata]
lock-version = "2.1"
python-versions = ">=3.10"
content-hash = "7e4774f16bef882a5183c77ef9385bfd0258e395f5a3e74afd70bde7e6f83be5"
"""


def test_poetry_lock_2_1_of_a_package() -> None:
    tree = {"pyproject.toml": POETRY_2_PYPROJECT, "poetry.lock": POETRY_LOCK_2_1, "src/shop/__init__.py": ""}

    assert plan_install(tree) == Install(
        manager="poetry",
        manifests=("pyproject.toml", "poetry.lock"),
        commands=(HASHED,),
        generated={
            GENERATED: (
                "click==8.1.8 \\\n"
                "    --hash=sha256:63c132bbbed01578a06712a2d1f497bb62d9c1c0d329b7903a866228027263b2 \\\n"
                "    --hash=sha256:ed53c9d8990d83c2a27deae68e4ee337473f6330c040a31d4225c9574d16096a\n"
                'colorama==0.4.6 ; platform_system == "Windows" \\\n'
                "    --hash=sha256:08695f5cb7ed6e0531a20572697297273c47b8cae5a63ffc6d6ed5c201be6e44 \\\n"
                "    --hash=sha256:4f1d9991f5acc0ca119f9d443620b77f9d6b33703e51011c16baf57afb285fc6\n"
                "flask==3.1.0 \\\n"
                "    --hash=sha256:d667207822eb83f1c4b50949b1623c8fc8d51f2341d65f72e1a1815397551136\n"
            )
        },
        project_commands=("pip install --no-deps .",),
        requirements={"click": frozenset(), "colorama": frozenset(), "flask": frozenset()},
        reasons=(
            "found poetry.lock (lock format 2.1) → exporting its main group to .dockyard/requirements.txt",
            "pyproject.toml builds package shop → installing it with pip install --no-deps .",
        ),
    )


def test_poetry_package_mode_false_installs_no_project() -> None:
    pyproject = POETRY_2_PYPROJECT.replace("[tool.poetry]\n", "[tool.poetry]\npackage-mode = false\n")
    tree = {"pyproject.toml": pyproject, "poetry.lock": POETRY_LOCK_2_1, "src/shop/__init__.py": ""}

    install = plan_install(tree)

    assert (install.project_commands, install.reasons[-1]) == (
        (),
        "[tool.poetry] package-mode = false → the project itself is not installed",
    )


def test_poetry_git_dependency_drops_require_hashes() -> None:
    lock = POETRY_LOCK_2_1.replace(
        "[metadata]",
        """\
[[package]]
name = "shop-common"
version = "1.4.0"
description = ""
optional = false
python-versions = ">=3.10"
groups = ["main"]
files = []

[package.source]
type = "git"
url = "https://github.com/acme/shop-common.git"
reference = "v1.4.0"
resolved_reference = "3f1c2e9a8b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e"

[metadata]""",
    )
    tree = {"pyproject.toml": POETRY_2_PYPROJECT, "poetry.lock": lock}

    install = plan_install(tree)

    assert (install.commands, install.generated[GENERATED].splitlines()[-1], install.reasons[1]) == (
        (UNHASHED,),
        "shop-common @ git+https://github.com/acme/shop-common.git@3f1c2e9a8b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e",
        "shop-common: no hashes to check → installing without --require-hashes",
    )


# Pipenv ---------------------------------------------------------------------------------------------------

PIPFILE = """\
[[source]]
name = "pypi"
url = "https://pypi.org/simple"
verify_ssl = true

[dev-packages]

[packages]
fastapi = "==0.61.1"
pydantic = "==1.6.1"
python-multipart = "==0.0.5"
aiofiles = "==0.5.0"
uvicorn = "==0.12.1"
pylint = "==2.6.0"

[requires]
python_version = "3.8"
"""

PIPFILE_LOCK = {
    "_meta": {
        "hash": {"sha256": "398cb5b45844836f71e282b73a85914e953b7f9182a2c42de5c911b7f354d236"},
        "pipfile-spec": 6,
        "requires": {"python_version": "3.8"},
        "sources": [{"name": "pypi", "url": "https://pypi.org/simple", "verify_ssl": True}],
    },
    "default": {
        "colorama": {
            "hashes": [
                "sha256:7d73d2a99753107a36ac6b455ee49046802e59d9d076ef8e47b61499fa29afff",
                "sha256:e96da0d330793e2cb9485e9ddfd918d456036c7149416295932478192f4436a1",
            ],
            "markers": "sys_platform == 'win32'",
            "version": "==0.4.3",
        },
        "fastapi": {
            "hashes": [
                "sha256:61ed73b4304413a2ea618d1b95ea866ee386e0e62dd8659c4f5059286f4a39c2",
                "sha256:6cc31bb555dd8ca956d1d227477d661e4ac012337242a41d36214ffbda78bfe9",
            ],
            "index": "pypi",
            "version": "==0.61.1",
        },
        "uvicorn": {
            "hashes": [
                "sha256:a461e76406088f448f36323f5ac774d50e5a552b6ccb54e4fca8d83ef614a7c2",
                "sha256:d06a25caa8dc680ad92eb3ec67363f5281c092059613a1cc0100acba37fc0f45",
            ],
            "index": "pypi",
            "version": "==0.12.1",
        },
    },
    "develop": {},
}


def test_pipenv_lock_up_to_date_with_its_pipfile() -> None:
    tree = {"Pipfile": PIPFILE, "Pipfile.lock": json.dumps(PIPFILE_LOCK, indent=4), "main.py": ""}

    assert plan_install(tree) == Install(
        manager="pipenv",
        manifests=("Pipfile", "Pipfile.lock"),
        commands=(HASHED,),
        generated={
            GENERATED: (
                "colorama==0.4.3 ; sys_platform == 'win32' \\\n"
                "    --hash=sha256:7d73d2a99753107a36ac6b455ee49046802e59d9d076ef8e47b61499fa29afff \\\n"
                "    --hash=sha256:e96da0d330793e2cb9485e9ddfd918d456036c7149416295932478192f4436a1\n"
                "fastapi==0.61.1 \\\n"
                "    --hash=sha256:61ed73b4304413a2ea618d1b95ea866ee386e0e62dd8659c4f5059286f4a39c2 \\\n"
                "    --hash=sha256:6cc31bb555dd8ca956d1d227477d661e4ac012337242a41d36214ffbda78bfe9\n"
                "uvicorn==0.12.1 \\\n"
                "    --hash=sha256:a461e76406088f448f36323f5ac774d50e5a552b6ccb54e4fca8d83ef614a7c2 \\\n"
                "    --hash=sha256:d06a25caa8dc680ad92eb3ec67363f5281c092059613a1cc0100acba37fc0f45\n"
            )
        },
        requirements={"colorama": frozenset(), "fastapi": frozenset(), "uvicorn": frozenset()},
        reasons=(
            "found Pipfile.lock, up to date with Pipfile → exporting its default packages to "
            ".dockyard/requirements.txt",
        ),
    )


def test_pipenv_lock_with_extras_git_and_a_private_index() -> None:
    pipfile = (
        '[[source]]\nname = "acme"\nurl = "https://pypi.acme.example/simple"\nverify_ssl = true\n\n'
        '[packages]\nUvicorn = {version = "*", extras = ["standard"]}\n'
        'acme-auth = {git = "https://github.com/acme/auth.git", ref = "v2"}\n'
    )
    lock = {
        "_meta": {
            "hash": {"sha256": "to be replaced"},
            "pipfile-spec": 6,
            "requires": {},
            "sources": [{"name": "acme", "url": "https://pypi.acme.example/simple", "verify_ssl": True}],
        },
        "default": {
            "acme-auth": {
                "git": "https://github.com/acme/auth.git",
                "ref": "9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d",
            },
            "uvicorn": {
                "extras": ["standard"],
                "hashes": ["sha256:a461e76406088f448f36323f5ac774d50e5a552b6ccb54e4fca8d83ef614a7c2"],
                "version": "==0.12.1",
            },
        },
        "develop": {},
    }
    from builder.packages import pipfile_hashes

    # pipenv 2026 hashes canonical names (`uvicorn`), earlier ones the names as written (`Uvicorn`).
    for locked_hash in sorted(pipfile_hashes(pipfile)):
        lock["_meta"]["hash"] = {"sha256": locked_hash}
        install = plan_install({"Pipfile": pipfile, "Pipfile.lock": json.dumps(lock)})

        assert (install.commands, install.generated, install.requirements) == (
            (UNHASHED,),
            {
                GENERATED: (
                    "--index-url https://pypi.acme.example/simple\n"
                    "acme-auth @ git+https://github.com/acme/auth.git@9c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d\n"
                    "uvicorn[standard]==0.12.1 \\\n"
                    "    --hash=sha256:a461e76406088f448f36323f5ac774d50e5a552b6ccb54e4fca8d83ef614a7c2\n"
                )
            },
            {"acme-auth": frozenset(), "uvicorn": frozenset({"standard"})},
        )


def test_pipenv_lock_out_of_date() -> None:
    tree = {"Pipfile": PIPFILE.replace('pylint = "==2.6.0"\n', ""), "Pipfile.lock": json.dumps(PIPFILE_LOCK)}

    with pytest.raises(BuildError) as raised:
        plan_install(tree)

    assert str(raised.value) == "Pipfile.lock is out of date with Pipfile: run `pipenv lock` and commit it"


def test_pipfile_without_a_lock() -> None:
    with pytest.raises(BuildError) as raised:
        plan_install({"Pipfile": PIPFILE, "requirements.txt": "fastapi\n"})

    assert str(raised.value) == "found Pipfile but no Pipfile.lock: run `pipenv lock` and commit Pipfile.lock"


def test_pipfile_lock_without_a_pipfile() -> None:
    with pytest.raises(BuildError) as raised:
        plan_install({"Pipfile.lock": json.dumps(PIPFILE_LOCK)})

    assert str(raised.value) == "found Pipfile.lock but no Pipfile: commit Pipfile next to it"


# PDM ------------------------------------------------------------------------------------------------------

PDM_PYPROJECT = """\
[project]
name = "graphql-api"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["strawberry-graphql>=0.192.0", "uvicorn[standard]>=0.30"]

[dependency-groups]
dev = ["pytest>=8"]

[build-system]
requires = ["pdm-backend"]
build-backend = "pdm.backend"
"""

PDM_LOCK = """\
# This file is @generated by PDM.
# It is not intended for manual editing.

[metadata]
groups = ["default", "dev"]
strategy = ["inherit_metadata"]
lock_version = "4.5.0"
content_hash = "sha256:3953f6abcd0fee07bae867fb613689ffb2612fa7cce966f303c5c59fec7038b0"

[[metadata.targets]]
requires_python = ">=3.11"

[[package]]
name = "graphql-core"
version = "3.2.3"
requires_python = ">=3.6,<4"
summary = "GraphQL implementation for Python"
groups = ["default"]
files = [
    {file = "graphql-core-3.2.3.tar.gz", hash = "sha256:06d2aad0ac723e35b1cb47885d3e5c45e956a53bc1b209a9fc5369007fe46676"},
    {file = "graphql_core-3.2.3-py3-none-any.whl", hash = "sha256:5766780452bd5ec8ba133f8bf287dc92713e3868ddd83aee4faab9fc3e303dc3"},
]

[[package]]
name = "iniconfig"
version = "2.0.0"
requires_python = ">=3.7"
summary = "brain-dead simple config-ini parsing"
groups = ["dev"]
files = [
    {file = "iniconfig-2.0.0-py3-none-any.whl", hash = "sha256:b6a85871a79d2e3b22d2d1b94ac2824226a63c6b741c88f7ae975f18b6778374"},
]

[[package]]
name = "strawberry-graphql"
version = "0.192.0"
requires_python = ">=3.7,<4.0"
summary = "A library for creating GraphQL APIs"
groups = ["default"]
dependencies = [
    "graphql-core<3.3.0,>=3.2.0",
]
files = [
    {file = "strawberry_graphql-0.192.0-py3-none-any.whl", hash = "sha256:1eb84b96e75fccabbfc4b908da4bfc6e9177ab1632d246323ef99b7482da079a"},
]

[[package]]
name = "uvicorn"
version = "0.30.1"
requires_python = ">=3.8"
summary = "The lightning-fast ASGI server."
groups = ["default"]
files = [
    {file = "uvicorn-0.30.1-py3-none-any.whl", hash = "sha256:cd17daa7f3b9d7a24de3617820e634d0933b69eed8e33a516071174427238c81"},
]

[[package]]
name = "uvicorn"
version = "0.30.1"
extras = ["standard"]
requires_python = ">=3.8"
summary = "The lightning-fast ASGI server."
groups = ["default"]
dependencies = [
    "uvicorn==0.30.1",
    "uvloop!=0.15.0,!=0.15.1,>=0.14.0; (sys_platform != \\"cygwin\\" and sys_platform != \\"win32\\") and platform_python_implementation != \\"PyPy\\"",
]
files = [
    {file = "uvicorn-0.30.1-py3-none-any.whl", hash = "sha256:cd17daa7f3b9d7a24de3617820e634d0933b69eed8e33a516071174427238c81"},
]

[[package]]
name = "uvloop"
version = "0.19.0"
requires_python = ">=3.8.0"
summary = "Fast implementation of asyncio event loop on top of libuv"
groups = ["default"]
marker = "(sys_platform != \\"cygwin\\" and sys_platform != \\"win32\\") and platform_python_implementation != \\"PyPy\\""
files = [
    {file = "uvloop-0.19.0.tar.gz", hash = "sha256:0246f4fd1bf2bf702e06b0d45ee91677ee5c31242f39aab4ea6fe0c51aedd0fd"},
]
"""


def test_pdm_lock_exports_the_default_group() -> None:
    assert plan_install({"pyproject.toml": PDM_PYPROJECT, "pdm.lock": PDM_LOCK}) == Install(
        manager="pdm",
        manifests=("pyproject.toml", "pdm.lock"),
        commands=(HASHED,),
        generated={
            GENERATED: (
                "graphql-core==3.2.3 \\\n"
                "    --hash=sha256:06d2aad0ac723e35b1cb47885d3e5c45e956a53bc1b209a9fc5369007fe46676 \\\n"
                "    --hash=sha256:5766780452bd5ec8ba133f8bf287dc92713e3868ddd83aee4faab9fc3e303dc3\n"
                "strawberry-graphql==0.192.0 \\\n"
                "    --hash=sha256:1eb84b96e75fccabbfc4b908da4bfc6e9177ab1632d246323ef99b7482da079a\n"
                "uvicorn==0.30.1 \\\n"
                "    --hash=sha256:cd17daa7f3b9d7a24de3617820e634d0933b69eed8e33a516071174427238c81\n"
                'uvloop==0.19.0 ; (sys_platform != "cygwin" and sys_platform != "win32") and '
                'platform_python_implementation != "PyPy" \\\n'
                "    --hash=sha256:0246f4fd1bf2bf702e06b0d45ee91677ee5c31242f39aab4ea6fe0c51aedd0fd\n"
            )
        },
        project_commands=("pip install --no-deps .",),
        requirements={
            "strawberry-graphql": frozenset(),
            "uvicorn": frozenset({"standard"}),
            "graphql-core": frozenset(),
            "uvloop": frozenset(),
        },
        reasons=(
            "found pdm.lock → exporting its default group to .dockyard/requirements.txt",
            "pyproject.toml declares [build-system] → pip install --no-deps .",
        ),
    )


def test_pdm_distribution_false_installs_no_project() -> None:
    pyproject = PDM_PYPROJECT + "\n[tool.pdm]\ndistribution = false\n"

    install = plan_install({"pyproject.toml": pyproject, "pdm.lock": PDM_LOCK})

    assert (install.project_commands, install.reasons[-1]) == (
        (),
        "no [build-system] in pyproject.toml, or distribution = false → the project is not installed",
    )


# Without a lockfile ---------------------------------------------------------------------------------------

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


# Errors ---------------------------------------------------------------------------------------------------


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
