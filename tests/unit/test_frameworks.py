"""Web detection: source trees and requirements in, whole Detections (or the BuildError a user reads) out."""

from __future__ import annotations

import pytest

from builder.frameworks import detect_web, looked_for
from builder.plans import Detection, Requirements
from core.errors import BuildError

FASTAPI_MAIN = "from fastapi import FastAPI\n\napp = FastAPI()\n"
BUILD_ENV = {
    "SECRET_KEY": "dockyard-build-only-not-secret",
    "DJANGO_SECRET_KEY": "dockyard-build-only-not-secret",
}
COLLECTSTATIC = "python manage.py collectstatic --noinput"
MIGRATE = "python manage.py migrate --noinput"
MIGRATE_REASON = "Django → release: python manage.py migrate --noinput before each deploy"


def requires(*specs: str) -> Requirements:
    """`requires("fastapi[standard]", "gunicorn")` → what the package managers report."""
    declared: dict[str, frozenset[str]] = {}
    for spec in specs:
        name, _, extras = spec.partition("[")
        declared[name] = frozenset(extras.rstrip("]").split(",")) if extras else frozenset()
    return declared


# FastAPI ------------------------------------------------------------------------------------------------


def test_fastapi_in_main_py() -> None:
    tree = {"main.py": "from fastapi import FastAPI\n\napp = FastAPI(title='demo')\n"}

    assert detect_web(tree, requires("fastapi")) == Detection(
        framework="fastapi",
        command="uvicorn main:app --host 0.0.0.0 --port $PORT",
        reasons=("found main.py with `app = FastAPI()` → FastAPI → uvicorn main:app",),
        extra_packages=("uvicorn",),
    )


def test_fastapi_in_a_package_with_uvicorn_required() -> None:
    tree = {
        "app/__init__.py": "",
        "app/main.py": "import fastapi\n\napi: fastapi.FastAPI = fastapi.FastAPI()\n",
    }

    assert detect_web(tree, requires("fastapi", "uvicorn[standard]")) == Detection(
        framework="fastapi",
        command="uvicorn app.main:api --host 0.0.0.0 --port $PORT",
        reasons=("found app/main.py with `api = FastAPI()` → FastAPI → uvicorn app.main:api",),
    )


def test_fastapi_in_app_init() -> None:
    tree = {"app/__init__.py": FASTAPI_MAIN, "app/routes.py": "from fastapi import APIRouter\n"}

    assert detect_web(tree, requires("fastapi", "uvicorn")) == Detection(
        framework="fastapi",
        command="uvicorn app:app --host 0.0.0.0 --port $PORT",
        reasons=("found app/__init__.py with `app = FastAPI()` → FastAPI → uvicorn app:app",),
    )


def test_fastapi_in_a_src_layout_with_fastapi_standard() -> None:
    tree = {"src/shop/__init__.py": "", "src/shop/main.py": FASTAPI_MAIN}

    assert detect_web(tree, requires("fastapi[standard]")) == Detection(
        framework="fastapi",
        command="uvicorn shop.main:app --app-dir src --host 0.0.0.0 --port $PORT",
        reasons=(
            "found src/shop/main.py with `app = FastAPI()` → FastAPI → uvicorn shop.main:app",
            "fastapi[standard] installs uvicorn",
        ),
    )


def test_fastapi_in_a_package_one_level_down() -> None:
    tree = {"README.md": "# svc\n", "service/__init__.py": "", "service/main.py": FASTAPI_MAIN}

    assert detect_web(tree, requires("fastapi", "uvicorn")) == Detection(
        framework="fastapi",
        command="uvicorn service.main:app --host 0.0.0.0 --port $PORT",
        reasons=("found service/main.py with `app = FastAPI()` → FastAPI → uvicorn service.main:app",),
    )


def test_fastapi_app_built_by_an_imported_factory() -> None:
    tree = {
        "main.py": "from app.factory import create_app\n\napp = create_app()\n",
        "app/__init__.py": "",
        "app/factory.py": "from fastapi import FastAPI\n\ndef create_app():\n    return FastAPI()\n",
    }

    assert detect_web(tree, requires("fastapi", "uvicorn")) == Detection(
        framework="fastapi",
        command="uvicorn main:app --host 0.0.0.0 --port $PORT",
        reasons=("found main.py with `app = create_app()` → FastAPI → uvicorn main:app",),
    )


def test_fastapi_factory_alone_is_served_with_uvicorn_factory_even_if_hypercorn_is_required() -> None:
    tree = {"app/main.py": "from fastapi import FastAPI\n\ndef get_application():\n    return FastAPI()\n"}

    assert detect_web(tree, requires("fastapi", "hypercorn")) == Detection(
        framework="fastapi",
        command="uvicorn app.main:get_application --factory --host 0.0.0.0 --port $PORT",
        reasons=(
            "found app/main.py with a `get_application()` factory → FastAPI "
            "→ uvicorn app.main:get_application",
        ),
        extra_packages=("uvicorn",),
    )


def test_fastapi_mentioned_only_in_a_function_or_comment_does_not_count() -> None:
    tree = {
        "main.py": (
            "from fastapi import FastAPI\n# app = FastAPI()\n"
            "def make():\n    app = FastAPI()\n    return app\n"
        )
    }

    assert detect_web(tree, requires("fastapi")) is None


def test_an_app_under_tests_does_not_count() -> None:
    tree = {"tests/app.py": FASTAPI_MAIN, "lib/util.py": "X = 1\n"}

    assert detect_web(tree, requires("fastapi")) is None


@pytest.mark.parametrize(
    ("declared", "command", "label", "why"),
    [
        (
            ("hypercorn",),
            "hypercorn --bind 0.0.0.0:$PORT main:app",
            "hypercorn main:app",
            "the app requires hypercorn → serving with it instead of uvicorn",
        ),
        (
            ("granian", "uvicorn"),
            "granian --interface asgi --host 0.0.0.0 --port $PORT main:app",
            "granian main:app",
            "the app requires granian → serving with it instead of uvicorn",
        ),
        (
            ("daphne",),
            "daphne -b 0.0.0.0 -p $PORT main:app",
            "daphne main:app",
            "the app requires daphne → serving with it instead of uvicorn",
        ),
        (
            ("gunicorn", "uvicorn-worker", "uvicorn"),
            "gunicorn --bind 0.0.0.0:$PORT --worker-class uvicorn_worker.UvicornWorker main:app",
            "gunicorn with uvicorn workers main:app",
            "the app requires uvicorn-worker → serving with it instead of uvicorn",
        ),
    ],
)
def test_the_asgi_server_the_app_declares_wins(
    declared: tuple[str, ...], command: str, label: str, why: str
) -> None:
    tree = {"main.py": FASTAPI_MAIN}

    assert detect_web(tree, requires("fastapi[standard]", *declared)) == Detection(
        framework="fastapi",
        command=command,
        reasons=(f"found main.py with `app = FastAPI()` → FastAPI → {label}", why),
    )


def test_fastapi_claims_before_starlette() -> None:
    tree = {
        "main.py": (
            "from fastapi import FastAPI\nfrom starlette.middleware import Middleware\n\napp = FastAPI()\n"
        ),
        "admin/app.py": "from starlette.applications import Starlette\napp = Starlette()\n",
    }

    assert detect_web(tree, requires("fastapi", "starlette", "uvicorn")) == Detection(
        framework="fastapi",
        command="uvicorn main:app --host 0.0.0.0 --port $PORT",
        reasons=("found main.py with `app = FastAPI()` → FastAPI → uvicorn main:app",),
    )


# Other ASGI frameworks ----------------------------------------------------------------------------------


def test_starlette_in_a_src_layout() -> None:
    tree = {
        "pyproject.toml": "[project]\nname = 'notes'\n",
        "src/notes/__init__.py": "",
        "src/notes/app.py": (
            "from starlette.applications import Starlette\n"
            "from starlette.routing import Route\n\n"
            "from notes.views import homepage\n\n"
            "app = Starlette(debug=False, routes=[Route('/', homepage)])\n"
        ),
        "src/notes/views.py": "async def homepage(request):\n    ...\n",
    }

    assert detect_web(tree, requires("starlette")) == Detection(
        framework="starlette",
        command="uvicorn notes.app:app --app-dir src --host 0.0.0.0 --port $PORT",
        reasons=("found src/notes/app.py with `app = Starlette()` → Starlette → uvicorn notes.app:app",),
        extra_packages=("uvicorn",),
    )


def test_litestar_app() -> None:
    tree = {
        "app.py": (
            "from litestar import Litestar, get\n\n"
            "@get('/')\nasync def index() -> str:\n    return 'hi'\n\n"
            "app = Litestar(route_handlers=[index])\n"
        ),
        "tests/test_app.py": "from litestar.testing import TestClient\n",
    }

    assert detect_web(tree, requires("litestar[standard]")) == Detection(
        framework="litestar",
        command="uvicorn app:app --host 0.0.0.0 --port $PORT",
        reasons=(
            "found app.py with `app = Litestar()` → Litestar → uvicorn app:app",
            "litestar[standard] installs uvicorn",
        ),
    )


def test_quart_is_served_by_the_hypercorn_it_installs() -> None:
    tree = {"app.py": "from quart import Quart\n\napp = Quart(__name__)\n"}

    assert detect_web(tree, requires("quart")) == Detection(
        framework="quart",
        command="hypercorn --bind 0.0.0.0:$PORT app:app",
        reasons=(
            "found app.py with `app = Quart()` → Quart → hypercorn app:app",
            "quart installs hypercorn → serving with it instead of uvicorn",
        ),
    )


def test_quart_with_uvicorn_declared_uses_uvicorn() -> None:
    tree = {"app.py": "from quart import Quart\n\napp = Quart(__name__)\n"}

    assert detect_web(tree, requires("quart", "uvicorn")) == Detection(
        framework="quart",
        command="uvicorn app:app --host 0.0.0.0 --port $PORT",
        reasons=("found app.py with `app = Quart()` → Quart → uvicorn app:app",),
    )


def test_sanic_uses_its_own_server() -> None:
    tree = {"server.py": "from sanic import Sanic\n\napp = Sanic('shop')\n"}

    assert detect_web(tree, requires("sanic")) == Detection(
        framework="sanic",
        command="sanic server:app --host 0.0.0.0 --port $PORT",
        reasons=("found server.py with `app = Sanic()` → Sanic → sanic server:app",),
    )


def test_sanic_factory_in_a_src_layout() -> None:
    tree = {"src/shop/app.py": "from sanic import Sanic\n\ndef create_app():\n    return Sanic('shop')\n"}

    assert detect_web(tree, requires("sanic")) == Detection(
        framework="sanic",
        command="env PYTHONPATH=src sanic shop.app:create_app --factory --host 0.0.0.0 --port $PORT",
        reasons=("found src/shop/app.py with a `create_app()` factory → Sanic → sanic shop.app:create_app",),
    )


def test_aiohttp_application_is_served_by_gunicorn_with_its_worker() -> None:
    tree = {"app.py": "from aiohttp import web\n\napp = web.Application()\n"}

    assert detect_web(tree, requires("aiohttp")) == Detection(
        framework="aiohttp",
        command="gunicorn --bind 0.0.0.0:$PORT --worker-class aiohttp.GunicornWebWorker app:app",
        reasons=(
            "found app.py with `app = Application()` → aiohttp → gunicorn with aiohttp workers app:app",
        ),
        extra_packages=("gunicorn",),
    )


def test_aiohttp_async_factory_is_awaited_by_the_worker() -> None:
    tree = {"main.py": "from aiohttp import web\n\nasync def make_app():\n    return web.Application()\n"}

    assert detect_web(tree, requires("aiohttp", "gunicorn")) == Detection(
        framework="aiohttp",
        command="gunicorn --bind 0.0.0.0:$PORT --worker-class aiohttp.GunicornWebWorker main:make_app",
        reasons=(
            "found main.py with a `make_app()` factory → aiohttp "
            "→ gunicorn with aiohttp workers main:make_app",
        ),
    )


def test_a_tornado_application_is_not_aiohttp() -> None:
    tree = {"app.py": "import tornado.web\n\napp = tornado.web.Application([])\n"}

    assert detect_web(tree, requires("tornado", "aiohttp")) is None


def test_falcon_wsgi_and_asgi() -> None:
    wsgi = {"app.py": "import falcon\n\napp = falcon.App()\n"}
    asgi = {"app.py": "import falcon.asgi\n\napp = falcon.asgi.App()\n"}

    assert (detect_web(wsgi, requires("falcon")), detect_web(asgi, requires("falcon"))) == (
        Detection(
            framework="falcon",
            command="gunicorn --bind 0.0.0.0:$PORT app:app",
            reasons=("found app.py with `app = App()` → Falcon → gunicorn app:app",),
            extra_packages=("gunicorn",),
        ),
        Detection(
            framework="falcon",
            command="uvicorn app:app --host 0.0.0.0 --port $PORT",
            reasons=("found app.py with `app = App()` → Falcon → uvicorn app:app",),
            extra_packages=("uvicorn",),
        ),
    )


def test_bottle() -> None:
    tree = {"app.py": "import bottle\n\napplication = bottle.default_app()\n"}

    assert detect_web(tree, requires("bottle", "gunicorn")) == Detection(
        framework="bottle",
        command="gunicorn --bind 0.0.0.0:$PORT app",
        reasons=("found app.py with `application = default_app()` → Bottle → gunicorn app",),
    )


# Flask --------------------------------------------------------------------------------------------------

FLASK_FACTORY = "from flask import Flask\n\ndef create_app():\n    return Flask(__name__)\n"


def test_flask_factory() -> None:
    tree = {"app/__init__.py": FLASK_FACTORY}

    assert detect_web(tree, requires("flask", "gunicorn")) == Detection(
        framework="flask",
        command="gunicorn --bind 0.0.0.0:$PORT 'app:create_app()'",
        reasons=(
            "found app/__init__.py with a `create_app()` factory → Flask → gunicorn 'app:create_app()'",
        ),
    )


def test_flask_tutorial_layout() -> None:
    tree = {"flaskr/__init__.py": FLASK_FACTORY, "flaskr/db.py": "import sqlite3\n", "tests/conftest.py": ""}

    assert detect_web(tree, requires("flask", "gunicorn")) == Detection(
        framework="flask",
        command="gunicorn --bind 0.0.0.0:$PORT 'flaskr:create_app()'",
        reasons=(
            "found flaskr/__init__.py with a `create_app()` factory → Flask → gunicorn 'flaskr:create_app()'",
        ),
    )


def test_flask_app_object_beats_a_factory() -> None:
    tree = {
        "wsgi.py": "from app import create_app\n\napplication = create_app()\n",
        "app/__init__.py": FLASK_FACTORY,
    }

    assert detect_web(tree, requires("flask")) == Detection(
        framework="flask",
        command="gunicorn --bind 0.0.0.0:$PORT wsgi",
        reasons=("found wsgi.py with `application = create_app()` → Flask → gunicorn wsgi",),
        extra_packages=("gunicorn",),
    )


def test_flask_with_waitress_and_not_gunicorn() -> None:
    tree = {"app.py": "from flask import Flask\napp = Flask(__name__)\n"}

    assert detect_web(tree, requires("flask", "waitress")) == Detection(
        framework="flask",
        command="waitress-serve --listen=0.0.0.0:$PORT app:app",
        reasons=(
            "found app.py with `app = Flask()` → Flask → waitress app:app",
            "the app requires waitress → serving with it instead of gunicorn",
        ),
    )


def test_flask_factory_with_waitress_in_a_src_layout() -> None:
    tree = {"src/blog/app.py": FLASK_FACTORY}

    assert detect_web(tree, requires("flask", "waitress")) == Detection(
        framework="flask",
        command="env PYTHONPATH=src waitress-serve --listen=0.0.0.0:$PORT --call blog.app:create_app",
        reasons=(
            "found src/blog/app.py with a `create_app()` factory → Flask → waitress blog.app:create_app",
            "the app requires waitress → serving with it instead of gunicorn",
        ),
    )


def test_flask_in_a_src_layout_with_gunicorn() -> None:
    tree = {"src/blog/app.py": "from flask import Flask\napp = Flask(__name__)\n"}

    assert detect_web(tree, requires("flask", "gunicorn", "waitress")) == Detection(
        framework="flask",
        command="gunicorn --pythonpath src --bind 0.0.0.0:$PORT blog.app:app",
        reasons=("found src/blog/app.py with `app = Flask()` → Flask → gunicorn blog.app:app",),
    )


# Bare ASGI and WSGI callables ---------------------------------------------------------------------------


def test_a_bare_asgi_callable() -> None:
    tree = {"asgi.py": "async def app(scope, receive, send):\n    ...\n"}

    assert detect_web(tree, {}) == Detection(
        framework="asgi",
        command="uvicorn asgi:app --host 0.0.0.0 --port $PORT",
        reasons=("found asgi.py defining `app` → ASGI callable → uvicorn asgi:app",),
        extra_packages=("uvicorn",),
    )


def test_a_wsgi_application_one_package_down() -> None:
    tree = {
        "site/__init__.py": "",
        "site/wsgi.py": "from site.web import make\n\napplication = make()\n",
        "site/web.py": "def make():\n    ...\n",
    }

    assert detect_web(tree, requires("gunicorn")) == Detection(
        framework="wsgi",
        command="gunicorn --bind 0.0.0.0:$PORT site.wsgi",
        reasons=("found site/wsgi.py defining `application` → WSGI callable → gunicorn site.wsgi",),
    )


def test_nothing_to_serve() -> None:
    assert detect_web({"script.py": "print('hi')\n", "wsgi.py": "X = 1\n"}, requires("requests")) is None


def test_looked_for_lists_the_registry_in_order() -> None:
    assert looked_for() == (
        "manage.py (django); `app = FastAPI()` (fastapi); `app = Litestar()` (litestar); `app = Quart()` "
        "(quart); `app = Starlette()` (starlette); `app = Sanic()` (sanic); `app = web.Application()` "
        "(aiohttp); `app = falcon.App()` or `asgi.App()` (falcon); `app = Flask()` (flask); `app = Bottle()` "
        "(bottle); `application` or `app` in asgi.py or */asgi.py (asgi); `application` or `app` in wsgi.py "
        "or */wsgi.py (wsgi); app objects and factories (create_app, make_app, get_app, build_app, "
        "app_factory, get_application) in main.py, app.py, api.py, server.py, application.py, asgi.py, "
        "wsgi.py, app/__init__.py, app/main.py, app/app.py, api/main.py, api/app.py, src/*/main.py, "
        "src/*/app.py, src/*/__init__.py, */main.py, */app.py, */__init__.py"
    )


# Django -------------------------------------------------------------------------------------------------

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
        "manage.py": MANAGE_PY,
        "site_cfg/settings.py": 'DEBUG = False\nWSGI_APPLICATION = "site_cfg.wsgi.application"\n',
        "site_cfg/wsgi.py": "application = get_wsgi_application()\n",
    }

    assert detect_web(tree, requires("django", "psycopg[binary]")) == Detection(
        framework="django",
        command="gunicorn --bind 0.0.0.0:$PORT site_cfg.wsgi",
        reasons=(
            "found manage.py with DJANGO_SETTINGS_MODULE=site_cfg.settings",
            "found WSGI_APPLICATION = 'site_cfg.wsgi.application' in site_cfg/settings.py "
            "→ Django → gunicorn site_cfg.wsgi",
            "no STATIC_ROOT in site_cfg/settings.py → skipping collectstatic; "
            "set STATIC_ROOT to have Dockyard collect static files at build time",
            MIGRATE_REASON,
        ),
        extra_packages=("gunicorn",),
        release=MIGRATE,
    )


COOKIECUTTER_BASE = """\
from pathlib import Path
import environ

BASE_DIR = Path(__file__).resolve(strict=True).parent.parent.parent
env = environ.Env()
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
STATIC_ROOT = str(BASE_DIR / "staticfiles")
STATIC_URL = "/static/"
CELERY_BROKER_URL = env("CELERY_BROKER_URL")
"""


def test_django_split_settings_like_cookiecutter_django() -> None:
    tree = {
        "manage.py": MANAGE_PY.replace("site_cfg.settings", "config.settings.local"),
        "config/__init__.py": "",
        "config/settings/__init__.py": "",
        "config/settings/base.py": COOKIECUTTER_BASE,
        "config/settings/local.py": "from .base import *  # noqa\nDEBUG = True\n",
        "config/settings/production.py": "from .base import *  # noqa\n",
        "config/settings/test.py": "from .base import *  # noqa\n",
        "config/wsgi.py": "application = get_wsgi_application()\n",
        "config/asgi.py": "application = get_asgi_application()\n",
        "config/urls.py": "urlpatterns = []\n",
    }

    assert detect_web(tree, requires("django", "gunicorn", "django-environ", "whitenoise")) == Detection(
        framework="django",
        command="gunicorn --bind 0.0.0.0:$PORT config.wsgi",
        reasons=(
            "found manage.py with DJANGO_SETTINGS_MODULE=config.settings.local",
            "found WSGI_APPLICATION = 'config.wsgi.application' in config/settings/base.py "
            "→ Django → gunicorn config.wsgi",
            f"found STATIC_ROOT in config/settings/base.py → {COLLECTSTATIC} at build time",
            MIGRATE_REASON,
        ),
        build_commands=(COLLECTSTATIC,),
        build_env=BUILD_ENV,
        release=MIGRATE,
    )


CHANNELS_SETTINGS = """\
INSTALLED_APPS = ["daphne", "django.contrib.staticfiles", "channels", "chat"]
WSGI_APPLICATION = "mysite.wsgi.application"
ASGI_APPLICATION = "mysite.asgi.application"
CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer"}}
if not DEBUG:
    STATIC_ROOT = BASE_DIR / "static"
"""


def test_a_channels_project_is_served_by_daphne() -> None:
    tree = {
        "manage.py": MANAGE_PY.replace("site_cfg", "mysite"),
        "mysite/settings.py": CHANNELS_SETTINGS,
        "mysite/asgi.py": "application = ProtocolTypeRouter({})\n",
        "chat/consumers.py": "from channels.generic.websocket import WebsocketConsumer\n",
    }

    assert detect_web(tree, requires("django", "channels[daphne]", "channels-redis", "daphne")) == Detection(
        framework="django",
        command="daphne -b 0.0.0.0 -p $PORT mysite.asgi:application",
        reasons=(
            "found manage.py with DJANGO_SETTINGS_MODULE=mysite.settings",
            "found ASGI_APPLICATION = 'mysite.asgi.application' in mysite/settings.py and channels in the "
            "requirements → Django (ASGI) → daphne mysite.asgi:application",
            "the app requires daphne → serving with it instead of uvicorn",
            f"found STATIC_ROOT in mysite/settings.py → {COLLECTSTATIC} at build time",
            MIGRATE_REASON,
        ),
        build_commands=(COLLECTSTATIC,),
        build_env=BUILD_ENV,
        release=MIGRATE,
    )


def test_channels_without_daphne_is_served_by_uvicorn() -> None:
    tree = {
        "manage.py": MANAGE_PY,
        "site_cfg/settings.py": "ASGI_APPLICATION = 'site_cfg.asgi.application'\n",
    }

    detection = detect_web(tree, requires("django", "channels"))

    assert detection is not None
    assert (detection.command, detection.extra_packages, detection.reasons[1]) == (
        "uvicorn site_cfg.asgi:application --host 0.0.0.0 --port $PORT",
        ("uvicorn",),
        "found ASGI_APPLICATION = 'site_cfg.asgi.application' in site_cfg/settings.py and channels in the "
        "requirements → Django (ASGI) → uvicorn site_cfg.asgi:application",
    )


def test_django_with_only_asgi_application_and_gunicorn_uvicorn_workers() -> None:
    tree = {
        "manage.py": MANAGE_PY,
        "site_cfg/settings.py": "ASGI_APPLICATION = 'site_cfg.asgi.application'\n",
    }

    detection = detect_web(tree, requires("django", "gunicorn", "uvicorn-worker"))

    assert detection is not None
    assert (detection.command, detection.extra_packages, detection.reasons[1:3]) == (
        "gunicorn --bind 0.0.0.0:$PORT --worker-class uvicorn_worker.UvicornWorker site_cfg.asgi",
        (),
        (
            "found ASGI_APPLICATION = 'site_cfg.asgi.application' in site_cfg/settings.py (and no "
            "WSGI_APPLICATION) → Django (ASGI) → gunicorn with uvicorn workers site_cfg.asgi",
            "the app requires uvicorn-worker → serving with it instead of uvicorn",
        ),
    )


def test_django_with_both_settings_and_no_asgi_server_serves_wsgi() -> None:
    tree = {
        "manage.py": MANAGE_PY,
        "site_cfg/settings.py": (
            "WSGI_APPLICATION = 'site_cfg.wsgi.application'\nASGI_APPLICATION = 'site_cfg.asgi.application'\n"
        ),
    }

    detection = detect_web(tree, requires("django", "gunicorn"))

    assert detection is not None
    assert (detection.command, detection.reasons[1:3]) == (
        "gunicorn --bind 0.0.0.0:$PORT site_cfg.wsgi",
        (
            "found WSGI_APPLICATION = 'site_cfg.wsgi.application' in site_cfg/settings.py "
            "→ Django → gunicorn site_cfg.wsgi",
            "ASGI_APPLICATION is set too, but none of channels, daphne, uvicorn is in the requirements "
            "→ serving WSGI",
        ),
    )


def test_django_split_settings_error_names_every_file_looked_in() -> None:
    tree = {
        "manage.py": MANAGE_PY.replace("site_cfg.settings", "proj.settings.dev"),
        "proj/settings/base.py": "DEBUG = False\n",
        "proj/settings/dev.py": "from .base import *\n",
    }

    with pytest.raises(BuildError) as raised:
        detect_web(tree, requires("django"))

    assert raised.value.detail == (
        "found manage.py with settings proj.settings.dev but no WSGI_APPLICATION or ASGI_APPLICATION in "
        "proj/settings/dev.py, proj/settings/base.py: Dockyard serves Django through one of them; set, for "
        "example, WSGI_APPLICATION = 'proj.wsgi.application'"
    )


def test_django_settings_package_and_a_custom_application_name() -> None:
    tree = {
        "manage.py": MANAGE_PY.replace("site_cfg.settings", "config.settings.production"),
        "config/settings/base.py": "WSGI_APPLICATION = 'config.wsgi.app'\n",
        "config/settings/production.py": "from .base import *\n",
    }

    detection = detect_web(tree, requires("django", "gunicorn"))

    assert detection is not None
    assert (detection.command, detection.reasons[1]) == (
        "gunicorn --bind 0.0.0.0:$PORT config.wsgi:app",
        "found WSGI_APPLICATION = 'config.wsgi.app' in config/settings/base.py "
        "→ Django → gunicorn config.wsgi:app",
    )


def test_django_wins_over_an_app_py_that_also_looks_like_flask() -> None:
    tree = {
        "manage.py": MANAGE_PY,
        "site_cfg/settings.py": 'WSGI_APPLICATION = "site_cfg.wsgi.application"\n',
        "app.py": "from flask import Flask\napp = Flask(__name__)\n",
    }

    detection = detect_web(tree, requires("django", "flask"))

    assert detection is not None
    assert detection.framework == "django"


def test_django_without_a_settings_default_in_manage_py() -> None:
    with pytest.raises(BuildError) as raised:
        detect_web({"manage.py": "print('hi')\n"}, requires("django"))

    assert raised.value.detail == (
        "found manage.py but no DJANGO_SETTINGS_MODULE default in it: Dockyard reads "
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', '…') to find the settings"
    )


def test_django_settings_module_that_does_not_exist() -> None:
    with pytest.raises(BuildError) as raised:
        detect_web({"manage.py": MANAGE_PY, "mysite/settings.py": ""}, requires("django"))

    assert raised.value.detail == (
        "found manage.py with DJANGO_SETTINGS_MODULE=site_cfg.settings but no site_cfg/settings.py or "
        "site_cfg/settings/__init__.py: point DJANGO_SETTINGS_MODULE in manage.py at the settings module"
    )


def test_django_without_wsgi_or_asgi_application_says_where_it_looked() -> None:
    tree = {"manage.py": MANAGE_PY, "site_cfg/settings.py": "DEBUG = True\n", "site_cfg/urls.py": ""}

    with pytest.raises(BuildError) as raised:
        detect_web(tree, requires("django"))

    assert raised.value.detail == (
        "found manage.py with settings site_cfg.settings but no WSGI_APPLICATION or ASGI_APPLICATION in "
        "site_cfg/settings.py: Dockyard serves Django through one of them; set, for example, "
        "WSGI_APPLICATION = 'site_cfg.wsgi.application'"
    )
