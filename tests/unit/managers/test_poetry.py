# ruff: noqa: E501 -- lockfile fixtures keep the long lines real lockfiles have
"""Poetry: source trees in, whole Install plans out."""

from __future__ import annotations

from builder.managers import plan_install
from builder.plans import Install
from tests.unit.managers import GENERATED, HASHED, UNHASHED

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
