"""Detection: source trees in, whole BuildPlans (or the BuildError a user reads) out."""

from __future__ import annotations

import pytest

from builder.detect import parse_requirements, plan_build
from builder.plans import BuildPlan
from core.errors import BuildError

DEFAULT = "3.13"
DEFAULT_REASON = "no .python-version or runtime.txt → default Python 3.13"
FOUND_312 = "found .python-version → Python 3.12"
FASTAPI_MAIN = "from fastapi import FastAPI\n\napp = FastAPI()\n"


def test_fastapi_in_main_py() -> None:
    tree = {
        "requirements.txt": "fastapi==0.115.0\n",
        "main.py": "from fastapi import FastAPI\n\napp = FastAPI(title='demo')\n",
    }

    assert plan_build(tree, default_python=DEFAULT) == BuildPlan(
        python_version="3.13",
        framework="fastapi",
        requirements="requirements.txt",
        extra_packages=("uvicorn",),
        processes={"web": "uvicorn main:app --host 0.0.0.0 --port $PORT"},
        reasons=(
            DEFAULT_REASON,
            "found requirements.txt → pip",
            "found main.py with `app = FastAPI()` → FastAPI → uvicorn main:app",
            "uvicorn is not in requirements.txt → installing it",
        ),
    )


def test_fastapi_in_a_package_with_uvicorn_required() -> None:
    tree = {
        "requirements.txt": "FastAPI\nUvicorn[standard]>=0.30  # the server\n",
        "app/__init__.py": "",
        "app/main.py": "import fastapi\n\napi: fastapi.FastAPI = fastapi.FastAPI()\n",
    }

    assert plan_build(tree, default_python=DEFAULT) == BuildPlan(
        python_version="3.13",
        framework="fastapi",
        requirements="requirements.txt",
        extra_packages=(),
        processes={"web": "uvicorn app.main:api --host 0.0.0.0 --port $PORT"},
        reasons=(
            DEFAULT_REASON,
            "found requirements.txt → pip",
            "found app/main.py with `api = FastAPI()` → FastAPI → uvicorn app.main:api",
        ),
    )


def test_fastapi_in_a_src_layout_with_fastapi_standard() -> None:
    tree = {
        "requirements.txt": "fastapi[standard]\n",
        "src/shop/__init__.py": "",
        "src/shop/main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
    }

    plan = plan_build(tree, default_python=DEFAULT)

    assert plan.extra_packages == ()
    assert plan.processes == {"web": "uvicorn shop.main:app --app-dir src --host 0.0.0.0 --port $PORT"}


def test_fastapi_mentioned_only_in_a_function_or_comment_does_not_count() -> None:
    tree = {
        "requirements.txt": "fastapi\n",
        "main.py": "# app = FastAPI()\ndef make():\n    app = FastAPI()\n    return app\n",
    }

    with pytest.raises(BuildError, match="no web app Dockyard knows"):
        plan_build(tree, default_python=DEFAULT)


def test_flask_factory() -> None:
    tree = {
        "requirements.txt": "flask\ngunicorn==23.0\n",
        "app/__init__.py": "from flask import Flask\n\ndef create_app():\n    return Flask(__name__)\n",
    }

    assert plan_build(tree, default_python=DEFAULT) == BuildPlan(
        python_version="3.13",
        framework="flask",
        requirements="requirements.txt",
        extra_packages=(),
        processes={"web": "gunicorn --bind 0.0.0.0:$PORT 'app:create_app()'"},
        reasons=(
            DEFAULT_REASON,
            "found requirements.txt → pip",
            "found app/__init__.py with a `create_app()` factory → Flask → gunicorn 'app:create_app()'",
        ),
    )


def test_flask_app_object_beats_a_factory() -> None:
    tree = {
        "requirements.txt": "Flask\n",
        "wsgi.py": "from app import create_app\n\napplication = create_app()\n",
        "app/__init__.py": "from flask import Flask\n\ndef create_app():\n    return Flask(__name__)\n",
    }

    assert plan_build(tree, default_python=DEFAULT) == BuildPlan(
        python_version="3.13",
        framework="flask",
        requirements="requirements.txt",
        extra_packages=("gunicorn",),
        processes={"web": "gunicorn --bind 0.0.0.0:$PORT wsgi:application"},
        reasons=(
            DEFAULT_REASON,
            "found requirements.txt → pip",
            "found wsgi.py with `application = create_app()` → Flask → gunicorn wsgi:application",
            "gunicorn is not in requirements.txt → installing it",
        ),
    )


MANAGE_PY = """\
import os
import sys

def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_cfg.settings")
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
"""


def test_django() -> None:
    tree = {
        "requirements.txt": "Django>=5\npsycopg[binary]\n",
        "manage.py": MANAGE_PY,
        "site_cfg/settings.py": 'DEBUG = False\nWSGI_APPLICATION = "site_cfg.wsgi.application"\n',
        "site_cfg/wsgi.py": "application = get_wsgi_application()\n",
        "runtime.txt": "python-3.11.9\n",
    }

    assert plan_build(tree, default_python=DEFAULT) == BuildPlan(
        python_version="3.11",
        framework="django",
        requirements="requirements.txt",
        extra_packages=("gunicorn",),
        processes={"web": "gunicorn --bind 0.0.0.0:$PORT site_cfg.wsgi"},
        reasons=(
            "found runtime.txt → Python 3.11",
            "found requirements.txt → pip",
            "found manage.py with DJANGO_SETTINGS_MODULE=site_cfg.settings",
            "found WSGI_APPLICATION = 'site_cfg.wsgi.application' in site_cfg/settings.py "
            "→ Django → gunicorn site_cfg.wsgi",
            "gunicorn is not in requirements.txt → installing it",
        ),
    )


def test_django_settings_package_and_a_custom_application_name() -> None:
    tree = {
        "requirements.txt": "django\ngunicorn\n",
        "manage.py": MANAGE_PY.replace("site_cfg.settings", "config.settings.production"),
        "config/settings/base.py": "WSGI_APPLICATION = 'config.wsgi.app'\n",
        "config/settings/production.py": "from .base import *\n",
    }

    plan = plan_build(tree, default_python=DEFAULT)

    assert plan.processes == {"web": "gunicorn --bind 0.0.0.0:$PORT config.wsgi:app"}
    assert plan.reasons[3] == (
        "found WSGI_APPLICATION = 'config.wsgi.app' in config/settings/base.py "
        "→ Django → gunicorn config.wsgi:app"
    )


def test_django_wins_over_an_app_py_that_also_looks_like_flask() -> None:
    tree = {
        "requirements.txt": "django\nflask\n",
        "manage.py": MANAGE_PY,
        "site_cfg/settings.py": 'WSGI_APPLICATION = "site_cfg.wsgi.application"\n',
        "app.py": "from flask import Flask\napp = Flask(__name__)\n",
    }

    assert plan_build(tree, default_python=DEFAULT).framework == "django"


def test_django_without_wsgi_application_says_where_it_looked() -> None:
    tree = {"requirements.txt": "django\n", "manage.py": MANAGE_PY, "site_cfg/settings.py": "DEBUG = True\n"}

    with pytest.raises(BuildError) as raised:
        plan_build(tree, default_python=DEFAULT)

    assert raised.value.detail == (
        "found manage.py with settings site_cfg.settings but no WSGI_APPLICATION in site_cfg/settings.py: "
        "Dockyard serves Django through it with gunicorn"
    )


@pytest.mark.parametrize(
    ("files", "version", "reason"),
    [
        ({".python-version": "3.12\n"}, "3.12", FOUND_312),
        ({".python-version": "3.11.4\n"}, "3.11", "found .python-version → Python 3.11"),
        ({"runtime.txt": "python-3.11.2"}, "3.11", "found runtime.txt → Python 3.11"),
        (
            {".python-version": "3.12", "runtime.txt": "python-3.11"},
            "3.12",
            "found .python-version → Python 3.12",
        ),
        ({}, "3.13", DEFAULT_REASON),
    ],
)
def test_python_version(files: dict[str, str], version: str, reason: str) -> None:
    tree = {"requirements.txt": "fastapi\n", "main.py": FASTAPI_MAIN, **files}

    plan = plan_build(tree, default_python=DEFAULT)

    assert (plan.python_version, plan.reasons[0]) == (version, reason)


def test_a_python_version_dockyard_cannot_use() -> None:
    tree = {"requirements.txt": "flask\n", ".python-version": "pypy3.10\n"}

    with pytest.raises(BuildError) as raised:
        plan_build(tree, default_python=DEFAULT)

    assert raised.value.detail == (
        ".python-version says 'pypy3.10': Dockyard needs a CPython version like 3.13 (or 3.13.1)"
    )


def test_no_requirements_txt() -> None:
    tree = {"main.py": FASTAPI_MAIN, "pyproject.toml": "[project]\n"}

    with pytest.raises(BuildError) as raised:
        plan_build(tree, default_python=DEFAULT)

    assert raised.value.detail == (
        "no requirements.txt found: "
        "Dockyard can build pip apps with a requirements.txt at the repository root"
    )


def test_requirements_but_no_app_lists_what_dockyard_looks_for() -> None:
    tree = {"requirements.txt": "requests\n", "script.py": "print('hi')\n"}

    with pytest.raises(BuildError) as raised:
        plan_build(tree, default_python=DEFAULT)

    assert raised.value.detail == (
        "found requirements.txt but no web app Dockyard knows: it looks for manage.py (django); "
        "`app = FastAPI()` in main.py, app.py, api.py, server.py, app/main.py, api/main.py, src/*/main.py "
        "(fastapi); `app = Flask()` or `create_app()` in app.py, wsgi.py, main.py, application.py, "
        "app/__init__.py, src/*/app.py (flask)"
    )


def test_parse_requirements_reads_names_like_pip() -> None:
    text = """\
# a comment
--index-url https://pypi.example/simple
-r base.txt
-e .
./vendored/pkg
Flask_SQLAlchemy==3.1 ; python_version >= "3.8"   # trailing comment
uvicorn[Standard]>=0.30 \\
    --hash=sha256:0123
requests @ https://example.com/requests.tar.gz#egg=requests
gunicorn[gevent]
gunicorn[eventlet]
"""

    assert parse_requirements(text) == {
        "flask-sqlalchemy": frozenset(),
        "uvicorn": frozenset({"standard"}),
        "requests": frozenset(),
        "gunicorn": frozenset({"gevent", "eventlet"}),
    }
