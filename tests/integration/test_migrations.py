"""The same Alembic migrations on SQLite (the default) and PostgreSQL, up from empty and back down."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from core import crypto
from core.db import make_engine
from core.migrate import alembic_config, downgrade, upgrade
from core.models import App, Deployment, DeploymentStatus, EnvVar

TABLES = {
    "alembic_version",
    "api_tokens",
    "apps",
    "deployments",
    "env_vars",
    "github_apps",
    "github_installations",
    "services",
    "users",
    "volumes",
    "webhook_deliveries",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'dockyard.db'}"
    url = os.environ.get("DOCKYARD_TEST_POSTGRES_URL")
    if not url:
        pytest.fail("DOCKYARD_TEST_POSTGRES_URL is not set: run the tests with deploy/test.sh")
    downgrade(url)  # start from an empty schema even after an interrupted run
    return url


def test_migrations_create_the_model_and_match_it(database_url: str) -> None:
    upgrade(database_url)

    engine = make_engine(database_url)
    assert set(inspect(engine).get_table_names()) == TABLES
    command.check(alembic_config(database_url))  # the models and the migrations agree
    with Session(engine) as session:
        app = App(
            name="hello",
            repo_url="file:///x/o/r.git",
            repo_full_name="o/r",
            branch="main",
            webhook_secret="x",
        )
        app.env_vars.append(EnvVar(key="K", value_encrypted=crypto.encrypt("key", "v")))
        app.deployments.append(Deployment(trigger="api", ref="main"))
        session.add(app)
        session.commit()
        stored = session.scalars(select(Deployment)).one()
        assert stored.status == DeploymentStatus.QUEUED
        assert crypto.decrypt("key", session.scalars(select(EnvVar.value_encrypted)).one()) == "v"
    engine.dispose()

    downgrade(database_url)
    engine = make_engine(database_url)
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    engine.dispose()
