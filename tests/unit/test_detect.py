"""The build plan as a whole: which source of truth wins, and what the plan lists and says."""

from __future__ import annotations

import pytest

from builder.config import AppConfig, ProcessConfig
from builder.detect import BuildInputs, plan_build
from builder.plans import BuildPlan, HealthCheck, Install, Resources
from core.errors import BuildError, ConfigError

MANAGE_PY = """\
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_cfg.settings")
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
"""
DJANGO = {
    "requirements.txt": "Django>=5\ncelery[redis]\n",
    "manage.py": MANAGE_PY,
    "site_cfg/__init__.py": "from .celery import app as celery_app\n",
    "site_cfg/settings.py": (
        'WSGI_APPLICATION = "site_cfg.wsgi.application"\nSTATIC_ROOT = "/app/static"\n'
        'CELERY_BEAT_SCHEDULE = {"ping": {"task": "site_cfg.tasks.ping", "schedule": 60}}\n'
    ),
    "site_cfg/wsgi.py": "application = get_wsgi_application()\n",
    "site_cfg/celery.py": 'from celery import Celery\n\napp = Celery("site_cfg")\n',
}
FASTAPI = {
    "requirements.txt": "fastapi\nuvicorn\n",
    "main.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
}
PIP = "found requirements.txt → installing with pip install -r requirements.txt"


def test_a_django_project_with_celery_lists_every_process_and_why() -> None:
    plan = plan_build(DJANGO)

    assert plan == BuildPlan(
        root="",
        framework="django",
        processes={
            "web": "gunicorn --bind 0.0.0.0:$PORT site_cfg.wsgi",
            "worker": "celery -A site_cfg worker --loglevel=info",
            "beat": "celery -A site_cfg beat --loglevel=info",
        },
        reasons=(
            "no version declared → default Python 3.13",
            PIP,
            "found manage.py with DJANGO_SETTINGS_MODULE=site_cfg.settings",
            "found WSGI_APPLICATION = 'site_cfg.wsgi.application' in site_cfg/settings.py → Django → "
            "gunicorn site_cfg.wsgi",
            "found STATIC_ROOT in site_cfg/settings.py → "
            "python manage.py collectstatic --noinput at build time",
            "Django → release: python manage.py migrate --noinput before each deploy",
            "found Celery() in site_cfg/celery.py → worker: celery -A site_cfg worker",
            "found CELERY_BEAT_SCHEDULE in site_cfg/settings.py → beat: celery -A site_cfg beat",
            "gunicorn is not among the app's dependencies → installing it",
            "processes → web: gunicorn --bind 0.0.0.0:$PORT site_cfg.wsgi; "
            "worker: celery -A site_cfg worker --loglevel=info; "
            "beat: celery -A site_cfg beat --loglevel=info; "
            "release: python manage.py migrate --noinput",
        ),
        python_version="3.13",
        install=Install(
            manager="pip",
            manifests=("requirements.txt",),
            commands=("pip install -r requirements.txt",),
            requirements={"django": frozenset(), "celery": frozenset({"redis"})},
            reasons=(PIP,),
        ),
        extra_packages=("gunicorn",),
        build_commands=("python manage.py collectstatic --noinput",),
        build_env={
            "SECRET_KEY": "dockyard-build-only-not-secret",
            "DJANGO_SECRET_KEY": "dockyard-build-only-not-secret",
        },
        release="python manage.py migrate --noinput",
    )


def test_a_procfile_names_the_processes_but_django_still_collects_static_files() -> None:
    tree = {
        **DJANGO,
        "Procfile": (
            "web: gunicorn site_cfg.wsgi --workers 3\nrelease: python manage.py migrate && ./seed.sh\n"
        ),
    }

    plan = plan_build(tree)

    assert plan.processes == {"web": "gunicorn site_cfg.wsgi --workers 3"}
    assert plan.release == "python manage.py migrate && ./seed.sh"
    assert plan.build_commands == ("python manage.py collectstatic --noinput",)
    assert plan.extra_packages == ("gunicorn",)
    assert plan.reasons[0] == "found Procfile → web, release"


def test_a_procfile_without_web_keeps_the_detected_web_process() -> None:
    plan = plan_build({**FASTAPI, "Procfile": "worker: python worker.py\n"})

    assert plan.processes == {
        "web": "uvicorn main:app --host 0.0.0.0 --port $PORT",
        "worker": "python worker.py",
    }


def test_dockyard_toml_beats_the_procfile_and_explicit_settings_beat_dockyard_toml() -> None:
    tree = {
        **FASTAPI,
        "Procfile": "web: uvicorn main:app --port $PORT\n",
        "dockyard.toml": (
            '[processes]\nweb = "uvicorn main:app --host 0.0.0.0 --port $PORT --workers 2"\n'
            '[processes.worker]\ncommand = "python worker.py"\nmemory = "256m"\n'
            '[healthcheck]\npath = "/healthz"\n[volumes]\nuploads = "/app/uploads"\n'
        ),
    }
    explicit = AppConfig(processes={"worker": ProcessConfig(command="python worker.py --fast")})

    plan = plan_build(tree, BuildInputs(explicit=explicit))

    assert plan.processes == {
        "web": "uvicorn main:app --host 0.0.0.0 --port $PORT --workers 2",
        "worker": "python worker.py --fast",
    }
    assert plan.healthcheck == HealthCheck(path="/healthz")
    assert plan.volumes == {"uploads": "/app/uploads"}
    assert plan.resources == {"worker": Resources(memory="256m")}
    assert "the app's settings sets processes.worker → python worker.py --fast" in plan.reasons
    assert "dockyard.toml sets processes.web → uvicorn main:app --host 0.0.0.0 --port $PORT --workers 2" in (
        plan.reasons
    )


def test_the_apps_own_dockerfile_beats_detection_and_the_procfile_adds_processes() -> None:
    tree = {
        **DJANGO,
        "Dockerfile": "FROM python:3.12 AS build\nEXPOSE 9999\nFROM python:3.12-slim\nEXPOSE 8080 9090\n",
        "Procfile": "worker: celery -A site_cfg worker\nrelease: python manage.py migrate\n",
    }

    assert plan_build(tree) == BuildPlan(
        root="",
        framework="dockerfile",
        processes={"web": None, "worker": "celery -A site_cfg worker"},
        reasons=(
            "found Procfile → worker, release",
            "found Dockerfile → building it as it is (Dockyard's own detection is skipped)",
            "the app listens on port 8080 (PORT=8080 is set for it)",
            "processes → web: the image CMD; worker: celery -A site_cfg worker; "
            "release: python manage.py migrate",
        ),
        dockerfile="Dockerfile",
        release="python manage.py migrate",
        port=8080,
    )


def test_dockyard_toml_can_name_another_dockerfile_and_a_missing_one_is_an_error() -> None:
    tree = {**FASTAPI, "dockyard.toml": '[build]\ndockerfile = "deploy/Dockerfile.prod"\n'}

    with pytest.raises(
        BuildError, match=r"build\.dockerfile is 'deploy/Dockerfile\.prod' but there is no such file"
    ):
        plan_build(tree)
    plan = plan_build({**tree, "deploy/Dockerfile.prod": "FROM python:3.13-slim\n"})
    assert (plan.dockerfile, plan.port) == ("deploy/Dockerfile.prod", 8000)


def test_an_app_in_a_subdirectory() -> None:
    tree = {
        "README.md": "monorepo\n",
        "frontend/package.json": "{}",
        **{f"api/{p}": t for p, t in FASTAPI.items()},
    }

    from_settings = plan_build(tree, BuildInputs(explicit=AppConfig(root="api")))
    from_file = plan_build({**tree, "dockyard.toml": '[build]\nroot = "api/"\n'})

    assert from_settings.root == from_file.root == "api"
    assert from_settings.processes == {"web": "uvicorn main:app --host 0.0.0.0 --port $PORT"}
    assert from_file.reasons[:2] == (
        "found dockyard.toml → using its settings",
        "app root is api/ (build.root)",
    )
    with pytest.raises(BuildError, match=r"build\.root is 'web' but the repository has no files there"):
        plan_build(tree, BuildInputs(explicit=AppConfig(root="web")))


def test_dockyard_toml_inside_the_app_root_is_read_when_settings_name_the_root() -> None:
    tree = {**{f"api/{p}": t for p, t in FASTAPI.items()}, "api/dockyard.toml": "[deploy]\nport = 9000\n"}

    plan = plan_build(tree, BuildInputs(explicit=AppConfig(root="api")))

    assert plan.port == 9000


@pytest.mark.parametrize(
    ("explicit", "env", "expected"),
    [
        (AppConfig(), None, ("3.12", "found .python-version → Python 3.12")),
        (AppConfig(), "3.11", ("3.11", "the PYTHON_VERSION env var = 3.11 → Python 3.11")),
        (
            AppConfig(python="3.14"),
            "3.11",
            ("3.14", "the app's settings (build.python) = 3.14 → Python 3.14"),
        ),
    ],
)
def test_python_version_precedence(explicit: AppConfig, env: str | None, expected: tuple[str, str]) -> None:
    tree = {**FASTAPI, ".python-version": "3.12\n", "dockyard.toml": '[build]\npython = "3.13"\n'}
    if env is None and explicit.python is None:
        del tree["dockyard.toml"]

    plan = plan_build(tree, BuildInputs(explicit=explicit, python_env=env))

    assert plan.python_version == expected[0]
    assert expected[1] in plan.reasons


def test_release_can_be_switched_off() -> None:
    plan = plan_build({**DJANGO, "dockyard.toml": '[deploy]\nrelease = ""\n'})

    assert plan.release is None
    assert "release command from settings: none" in plan.reasons


def test_a_server_a_procfile_starts_is_installed_when_the_app_lacks_it() -> None:
    tree = {"requirements.txt": "flask\n", "Procfile": "web: gunicorn wsgi:app\nworker: hypercorn x:y\n"}

    plan = plan_build(tree)

    assert plan.framework == "procfile"
    assert plan.extra_packages == ("gunicorn", "hypercorn")


def test_nothing_to_run_says_what_dockyard_looks_for() -> None:
    with pytest.raises(BuildError) as raised:
        plan_build({"requirements.txt": "requests\n", "script.py": "print('hi')\n"})

    assert raised.value.detail.startswith("found no process to run: Dockyard looks for ")
    assert raised.value.detail.endswith(
        "; or name your processes in a Procfile (`web: gunicorn myapp.wsgi`) or in dockyard.toml [processes]"
    )


def test_a_bad_dockyard_toml_names_the_key() -> None:
    tree = {**FASTAPI, "dockyard.toml": "[processes.web]\ncommand = 42\n"}

    with pytest.raises(ConfigError, match=r"^dockyard.toml: processes.web.command: must be a string"):
        plan_build(tree)


def test_a_broken_detection_does_not_matter_when_the_procfile_names_web() -> None:
    tree = {
        "requirements.txt": "django\n",
        "manage.py": "print('no settings here')\n",
        "Procfile": "web: gunicorn x\n",
    }

    plan = plan_build(tree)

    assert plan.processes == {"web": "gunicorn x"}
    assert any(reason.startswith("framework detection skipped (") for reason in plan.reasons)
    with pytest.raises(BuildError, match=r"found manage\.py"):
        plan_build({k: v for k, v in tree.items() if k != "Procfile"})


def test_a_server_that_comes_with_an_extra_is_not_installed_again() -> None:
    tree = {
        "requirements.txt": "django\nchannels[daphne]\n",
        "manage.py": "import os\nos.environ.setdefault('DJANGO_SETTINGS_MODULE', 'chat.settings')\n",
        "chat/settings.py": "ASGI_APPLICATION = 'chat.asgi.application'\n",
        "chat/asgi.py": "application = ProtocolTypeRouter({})\n",
    }

    plan = plan_build(tree)

    assert plan.processes == {"web": "daphne -b 0.0.0.0 -p $PORT chat.asgi:application"}
    assert plan.extra_packages == ()
