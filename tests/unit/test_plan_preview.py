"""The new-app page's plan preview: each reason line under what it explains, edited commands as settings,
suggested names and clone failures as form errors — all without I/O."""

from __future__ import annotations

import pytest

from api.services.plan_preview import (
    PlanPreview,
    ProcessPreview,
    command_overrides,
    explain,
    fetch_problem,
    suggest_app_name,
)
from builder.detect import plan_build
from builder.plans import HealthCheck
from core.errors import BuildError, ConfigError

DJANGO = {
    "manage.py": 'import os\nos.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_cfg.settings")\n',
    "site_cfg/__init__.py": "",
    "site_cfg/settings.py": (
        'WSGI_APPLICATION = "site_cfg.wsgi.application"\nCELERY_BEAT_SCHEDULE = {"a": 1}\n'
    ),
    "site_cfg/wsgi.py": "application = None\n",
    "site_cfg/celery.py": 'from celery import Celery\napp = Celery("site_cfg")\n',
    "requirements.txt": "django\ncelery\ngunicorn\n",
    ".python-version": "3.12\n",
    "dockyard.toml": '[healthcheck]\npath = "/healthz"\n',
}


def preview_of(tree: dict[str, str], supported: tuple[str, ...] = ("3.12", "3.13")) -> PlanPreview:
    return explain(plan_build(tree), commit="f" * 40, supported_pythons=supported)


def test_a_django_app_with_celery_is_explained_fact_by_fact() -> None:
    preview = preview_of(DJANGO)

    assert (preview.framework, preview.python_version, preview.package_manager) == ("django", "3.12", "pip")
    assert preview.python_why == "found .python-version → Python 3.12"
    assert preview.package_why == (
        "found requirements.txt → installing with pip install -r requirements.txt",
    )
    assert preview.processes == (
        ProcessPreview(
            "web",
            "gunicorn --bind 0.0.0.0:$PORT site_cfg.wsgi",
            (
                "found WSGI_APPLICATION = 'site_cfg.wsgi.application' in site_cfg/settings.py "
                "→ Django → gunicorn site_cfg.wsgi",
            ),
        ),
        ProcessPreview(
            "worker",
            "celery -A site_cfg worker --loglevel=info",
            ("found Celery() in site_cfg/celery.py → worker: celery -A site_cfg worker",),
        ),
        ProcessPreview(
            "beat",
            "celery -A site_cfg beat --loglevel=info",
            ("found CELERY_BEAT_SCHEDULE in site_cfg/settings.py → beat: celery -A site_cfg beat",),
        ),
    )
    assert preview.release == "python manage.py migrate --noinput"
    assert preview.release_why == ("Django → release: python manage.py migrate --noinput before each deploy",)
    assert (preview.port, preview.healthcheck) == (8000, HealthCheck(path="/healthz"))
    assert preview.warnings == (
        "no STATIC_ROOT in site_cfg/settings.py → skipping collectstatic; set STATIC_ROOT to have Dockyard "
        "collect static files at build time",
    )
    assert preview.other_why == (
        "found dockyard.toml → using its settings",
        "found manage.py with DJANGO_SETTINGS_MODULE=site_cfg.settings",
        *preview.warnings,
    )
    assert len(preview.reasons) == len(plan_build(DJANGO).reasons)


def test_procfile_processes_are_explained_by_the_procfile() -> None:
    preview = preview_of(
        {"requirements.txt": "flask\n", "Procfile": "web: gunicorn app:app\nworker: python worker.py\n"}
    )

    assert {p.name: p.why for p in preview.processes} == {
        "web": ("found Procfile → web, worker",),
        "worker": ("found Procfile → web, worker",),
    }
    assert "gunicorn is not among the app's dependencies → installing it" in preview.warnings


def test_a_python_version_this_dockyard_lacks_is_a_warning() -> None:
    preview = preview_of({**DJANGO, ".python-version": "3.10\n"}, supported=("3.12", "3.13"))

    assert preview.warnings[-1] == (
        "Python 3.10 is not among this Dockyard's versions (3.12, 3.13): the build needs a base image for it"
    )


def test_an_own_dockerfile_runs_the_image_cmd() -> None:
    preview = preview_of({"Dockerfile": "FROM python:3.12\nEXPOSE 5000\n"})

    assert (preview.framework, preview.dockerfile, preview.port) == ("dockerfile", "Dockerfile", 5000)
    assert [(p.name, p.command) for p in preview.processes] == [("web", None)]
    assert preview.python_version is None and preview.package_manager is None


def test_the_preview_survives_the_round_trip_through_the_form() -> None:
    preview = preview_of(DJANGO)

    assert PlanPreview.from_json(preview.to_json()) == preview
    with pytest.raises(ConfigError, match="run Detect again"):
        PlanPreview.from_json('{"commit": "x"}')


def test_only_changed_commands_become_settings() -> None:
    preview = preview_of(DJANGO)
    web, worker, _ = (p.command or "" for p in preview.processes)

    assert command_overrides(preview, {}) == {}
    assert command_overrides(preview, {"web": f"  {web}  ", "worker": worker}) == {}
    assert command_overrides(preview, {"web": "gunicorn -w 4 site_cfg.wsgi", "unknown": "ignored"}) == {
        "processes": {"web": {"command": "gunicorn -w 4 site_cfg.wsgi"}}
    }
    with pytest.raises(ConfigError) as refused:
        command_overrides(preview, {"worker": "   "})
    assert refused.value.where == "processes.worker.command"


def test_a_dockerfile_web_process_may_be_given_a_command() -> None:
    preview = preview_of({"Dockerfile": "FROM python:3.12\n"})

    assert command_overrides(preview, {"web": ""}) == {}
    assert command_overrides(preview, {"web": "python serve.py"}) == {
        "processes": {"web": {"command": "python serve.py"}}
    }


@pytest.mark.parametrize(
    ("repository", "name"),
    [
        ("octo/hello", "hello"),
        ("https://github.com/Octo/My_Shop.git", "my-shop"),
        ("git@github.com:octo/Blog.git", "blog"),
        ("file:///srv/git/octo/2048.git/", "app-2048"),
        ("octo/" + "a" * 40, "a" * 30),
        ("octo/" + "ab-" * 12, "ab-ab-ab-ab-ab-ab-ab-ab-ab-ab"),
    ],
)
def test_suggested_names_are_dns_labels(repository: str, name: str) -> None:
    assert suggest_app_name(repository) == name


def test_clone_failures_point_at_the_field_to_fix() -> None:
    branch = fetch_problem(
        BuildError("could not fetch file:///r at nope: couldn't find remote ref nope"), branch="nope"
    )
    gone = fetch_problem(
        BuildError("could not fetch file:///r: repository '/r' does not exist"), branch="main"
    )

    assert (branch.where, branch.detail) == (
        "branch",
        "branch: the repository has no branch 'nope': check its spelling, or push it first",
    )
    assert gone.where == "repo_url"
    assert "repository '/r' does not exist" in gone.detail
