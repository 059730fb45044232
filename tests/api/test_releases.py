"""From stored apps and deployments to the desired state the scheduler runs."""

from __future__ import annotations

from sqlalchemy.orm import Session

from core import crypto, db
from core.models import App, Deployment, EnvVar, Service, Team, Volume
from core.settings import get_settings
from scheduler.desired import Limits, Release

PLAN = {
    "processes": {"web": "gunicorn app:app", "worker": "celery -A app worker", "beat": "celery -A app beat"},
    "port": 5000,
    "replicas": {"worker": 3, "beat": 2},
    "resources": {"worker": {"memory": "256m", "cpus": 0.5}},
    "volumes": {"cache": "/cache", "media": "/from-toml"},
    "stop_timeout": 45,
}


def make_app(session: Session) -> tuple[App, Deployment]:
    settings = get_settings()
    app = App(
        name="blog",
        team=Team(name="main"),
        repo_url="file:///r/o/blog.git",
        repo_full_name="o/blog",
        webhook_secret="x",
        env_vars=[EnvVar(key="DEBUG", value_encrypted=crypto.encrypt(settings.secret(), "0"))],
        volumes=[Volume(name="media", mount_path="/app/media")],
        services=[Service(name="web", replicas=2), Service(name="clock", replicas=1)],
    )
    session.add(app)
    session.flush()
    deployment = Deployment(app_id=app.id, trigger="push", image="dockyard/blog:7", plan=PLAN)
    session.add(deployment)
    session.flush()
    return app, deployment


def test_a_release_combines_the_plan_with_the_apps_scale_env_and_volumes(database: str) -> None:
    from api.services.releases import release_of, sync_services

    settings = get_settings()
    with db.session_scope() as session:
        app, deployment = make_app(session)
        before = release_of(settings, app, deployment)
        sync_services(session, app, deployment.plan)
        rows = {service.name: service.replicas for service in app.services}

    assert before == Release(
        instance=settings.instance,
        app="blog",
        release=deployment.id,
        image="dockyard/blog:7",
        processes=PLAN["processes"],
        env={"DEBUG": "0"},
        port=5000,
        volumes={"cache": "/cache", "media": "/app/media"},
        # web keeps the scale set through the API; new processes start as the plan asks.
        scale={"web": 2, "worker": 3, "beat": 2},
        limits={"web": Limits(), "worker": Limits(memory=256 * 2**20, cpus=0.5), "beat": Limits()},
        stop_timeout=45,
    )
    # The plan's replicas seed new process types (beat capped at one); a type the release lost goes.
    assert rows == {"web": 2, "worker": 3, "beat": 1}


def test_a_release_made_before_plans_existed_runs_web_with_the_defaults(database: str) -> None:
    from api.services.releases import release_of

    settings = get_settings()
    with db.session_scope() as session:
        app, deployment = make_app(session)
        deployment.plan = None
        release = release_of(settings, app, deployment)

    assert (release.processes, release.port, release.stop_timeout) == (
        {"web": None},
        8000,
        settings.stop_timeout,
    )
