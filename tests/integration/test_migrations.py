"""The same Alembic migrations on SQLite (the default) and PostgreSQL, up from empty and back down."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from core import crypto
from core.db import make_engine
from core.migrate import alembic_config, downgrade, upgrade
from core.models import ApiToken, App, Base, Deployment, DeploymentStatus, EnvVar, Team

# Every table of the model, and Alembic's own: the migrations create exactly what the model declares.
TABLES = {*Base.metadata.tables, "alembic_version"}


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
            team=Team(name="main"),
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


def test_an_existing_install_gets_a_team_that_owns_its_apps_and_users(database_url: str) -> None:
    upgrade(database_url, "0004")
    engine = make_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (username, is_admin, created_at) VALUES ('admin', true, CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO api_tokens (user_id, name, token_hash, created_at) "
                "SELECT id, 'old', 'h', CURRENT_TIMESTAMP FROM users"
            )
        )
        connection.execute(
            text(
                "INSERT INTO apps (name, repo_url, repo_full_name, branch, webhook_secret, config, "
                "stopped, created_at) "
                "VALUES ('hello', 'file:///r', 'o/r', 'main', 'x', '{}', false, CURRENT_TIMESTAMP)"
            )
        )
    engine.dispose()

    upgrade(database_url)

    engine = make_engine(database_url)
    with engine.connect() as connection:
        assert (
            connection.execute(
                text("SELECT teams.name FROM apps JOIN teams ON teams.id = apps.team_id")
            ).scalar_one()
            == "main"
        )
        assert connection.execute(
            text(
                "SELECT users.username, memberships.role FROM memberships "
                "JOIN users ON users.id = memberships.user_id"
            )
        ).one() == ("admin", "owner")
    with Session(engine) as session:
        assert session.scalars(select(ApiToken.scopes)).one() == [
            "read",
            "deploy",
            "write",
            "manage",
            "admin",
        ]
    engine.dispose()
    downgrade(database_url)
