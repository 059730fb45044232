"""pip: requirements.txt trees in, whole Install plans (or the BuildError a user reads) out."""

from __future__ import annotations

import pytest

from builder.managers import parse_requirements, plan_install
from builder.plans import Install
from core.errors import BuildError


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
