"""Python version: source trees in, ("X.Y", reason) or the BuildError a user reads out."""

from __future__ import annotations

import json

import pytest

from builder.python_version import resolve_python_version
from core.errors import BuildError

SUPPORTED = ("3.11", "3.12", "3.13", "3.14")
DEFAULT = "3.13"


def resolve(tree: dict[str, str], override: tuple[str, str] | None = None) -> tuple[str, str]:
    return resolve_python_version(tree, override=override, supported=SUPPORTED, default=DEFAULT)


def pyproject(requires_python: str) -> str:
    return f'[project]\nname = "shop"\nversion = "0.1.0"\nrequires-python = "{requires_python}"\n'


def poetry(python: str) -> str:
    return (
        '[tool.poetry]\nname = "shop"\nversion = "0.1.0"\n\n'
        f'[tool.poetry.dependencies]\npython = "{python}"\nflask = "^3.0"\n'
    )


def test_override_wins_over_every_file() -> None:
    tree = {".python-version": "3.12\n", "pyproject.toml": pyproject(">=3.11")}

    assert resolve(tree, ("3.11", "PYTHON_VERSION")) == ("3.11", "PYTHON_VERSION = 3.11 → Python 3.11")


def test_override_with_a_patch_level_from_dockyard_toml() -> None:
    assert resolve({}, ("3.14.2", "dockyard.toml build.python")) == (
        "3.14",
        "dockyard.toml build.python = 3.14.2 → Python 3.14",
    )


def test_an_override_that_is_no_version() -> None:
    with pytest.raises(BuildError) as raised:
        resolve({}, ("latest", "PYTHON_VERSION"))

    assert str(raised.value) == "PYTHON_VERSION is 'latest': Dockyard needs a CPython version like 3.13"


@pytest.mark.parametrize(
    "content",
    ["3.12\n", "3.12.4\n", "# pinned by pyenv\n3.12.4\n3.11.9\n", "cpython-3.12.4-linux-x86_64-gnu\n"],
)
def test_python_version_file(content: str) -> None:
    tree = {".python-version": content, "runtime.txt": "python-3.11", "pyproject.toml": pyproject(">=3.13")}

    assert resolve(tree) == ("3.12", "found .python-version → Python 3.12")


@pytest.mark.parametrize("content", ["pypy3.10\n", "system\n", "3\n"])
def test_python_version_file_dockyard_cannot_use(content: str) -> None:
    with pytest.raises(BuildError) as raised:
        resolve({".python-version": content})

    assert str(raised.value) == (
        f".python-version says {content.strip()!r}: Dockyard needs a CPython version like 3.13 (or 3.13.1)"
    )


@pytest.mark.parametrize("content", ["python-3.11\n", "python-3.11.9\n", "3.11\n"])
def test_runtime_txt(content: str) -> None:
    tree = {"runtime.txt": content, "pyproject.toml": pyproject(">=3.13")}

    assert resolve(tree) == ("3.11", "found runtime.txt → Python 3.11")


def test_runtime_txt_dockyard_cannot_use() -> None:
    with pytest.raises(BuildError) as raised:
        resolve({"runtime.txt": "pypy3.10-7.3\n"})

    assert str(raised.value) == (
        "runtime.txt says 'pypy3.10-7.3': Dockyard needs a CPython version like python-3.13 "
        "(or python-3.13.1)"
    )


def test_an_explicit_version_dockyard_does_not_support_is_returned_as_is() -> None:
    assert resolve({".python-version": "3.9\n"}) == ("3.9", "found .python-version → Python 3.9")


@pytest.mark.parametrize(
    ("requires_python", "version"),
    [
        (">=3.10", "3.14"),
        (">=3.11,<3.13", "3.12"),
        ("~=3.11", "3.14"),
        ("==3.11.*", "3.11"),
        ("<3.13", "3.12"),
        (">=3.12.4", "3.14"),
        (">=3.11.4,<3.12", "3.11"),
    ],
)
def test_requires_python_picks_the_newest_supported(requires_python: str, version: str) -> None:
    assert resolve({"pyproject.toml": pyproject(requires_python)}) == (
        version,
        f'requires-python "{requires_python}" in pyproject.toml → Python {version}, '
        "the newest supported that satisfies it",
    )


def test_requires_python_no_supported_version_satisfies() -> None:
    with pytest.raises(BuildError) as raised:
        resolve({"pyproject.toml": pyproject(">=3.15")})

    assert str(raised.value) == (
        'requires-python ">=3.15" in pyproject.toml allows none of the Python versions Dockyard supports '
        "(3.11, 3.12, 3.13, 3.14): widen it or set PYTHON_VERSION"
    )


def test_requires_python_that_is_no_specifier() -> None:
    with pytest.raises(BuildError) as raised:
        resolve({"pyproject.toml": pyproject("3.x")})

    assert str(raised.value) == (
        'requires-python "3.x" in pyproject.toml is not a valid version specifier (PEP 440), like >=3.11'
    )


@pytest.mark.parametrize(
    ("python", "version"),
    [
        ("^3.11", "3.14"),
        ("~3.11", "3.11"),
        ("~3.12.1", "3.12"),
        ("3.12.*", "3.12"),
        (">=3.10,<3.13", "3.12"),
        (">= 3.10 < 3.12", "3.11"),
        ("^3.8 || ~3.12", "3.14"),
        ("*", "3.14"),
    ],
)
def test_poetry_python_constraint(python: str, version: str) -> None:
    assert resolve({"pyproject.toml": poetry(python)}) == (
        version,
        f'python = "{python}" in pyproject.toml [tool.poetry.dependencies] → Python {version}, '
        "the newest supported that satisfies it",
    )


def test_poetry_python_constraint_no_supported_version_satisfies() -> None:
    with pytest.raises(BuildError) as raised:
        resolve({"pyproject.toml": poetry("~3.9")})

    assert str(raised.value) == (
        'python = "~3.9" in pyproject.toml [tool.poetry.dependencies] allows none of the Python versions '
        "Dockyard supports (3.11, 3.12, 3.13, 3.14): widen it or set PYTHON_VERSION"
    )


def test_requires_python_wins_over_pipfile_lock() -> None:
    tree = {
        "pyproject.toml": pyproject(">=3.11,<3.13"),
        "Pipfile.lock": json.dumps({"_meta": {"requires": {"python_version": "3.11"}}}),
    }

    assert resolve(tree)[0] == "3.12"


@pytest.mark.parametrize(
    ("requires", "reason"),
    [
        ({"python_version": "3.11"}, 'found python_version "3.11" in Pipfile.lock → Python 3.11'),
        (
            {"python_full_version": "3.11.9"},
            'found python_full_version "3.11.9" in Pipfile.lock → Python 3.11',
        ),
    ],
)
def test_pipfile_lock(requires: dict[str, str], reason: str) -> None:
    tree = {
        "Pipfile": '[requires]\npython_version = "3.12"\n',
        "Pipfile.lock": json.dumps({"_meta": {"requires": requires}}),
    }

    assert resolve(tree) == ("3.11", reason)


def test_pipfile_without_a_lock() -> None:
    tree = {"Pipfile": '[packages]\nflask = "*"\n\n[requires]\npython_version = "3.12"\n'}

    assert resolve(tree) == ("3.12", 'found python_version "3.12" in Pipfile → Python 3.12')


def test_pyproject_without_a_python_requirement_falls_through() -> None:
    tree = {"pyproject.toml": '[project]\nname = "shop"\nversion = "0.1.0"\n'}

    assert resolve(tree) == ("3.13", "no version declared → default Python 3.13")


def test_no_version_declared() -> None:
    assert resolve({"requirements.txt": "flask\n"}) == ("3.13", "no version declared → default Python 3.13")
