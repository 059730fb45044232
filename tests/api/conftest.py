"""API tests: the real FastAPI app through TestClient, on a fresh migrated database per test —
SQLite (the default) and PostgreSQL, with the same migrations."""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient

from core import db
from core.celery_app import celery_app
from core.migrate import downgrade, upgrade
from core.settings import get_settings
from tests.conftest import TEST_INSTANCE


def clear_caches() -> None:
    get_settings.cache_clear()
    db.get_engine.cache_clear()
    db._session_factory.cache_clear()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'dockyard.db'}"
    else:
        url = os.environ.get("DOCKYARD_TEST_POSTGRES_URL", "")
        if not url:
            pytest.fail("DOCKYARD_TEST_POSTGRES_URL is not set: run the tests with deploy/test.sh")
        downgrade(url)  # an empty schema, whatever the previous test left
    monkeypatch.setenv("DOCKYARD_DATABASE_URL", url)
    # Deployment ids restart with each database: give each test its own Redis log keys too.
    monkeypatch.setenv("DOCKYARD_INSTANCE", f"{TEST_INSTANCE}-{uuid.uuid4().hex[:6]}")
    monkeypatch.setenv("DOCKYARD_DATA_DIR", str(tmp_path))
    clear_caches()
    upgrade(url)
    yield url
    db.get_engine().dispose()
    clear_caches()


@pytest.fixture
def queued() -> Iterator[Callable[[], list[int]]]:
    """Reads the deployment ids the API put on this run's real Redis queue (emptied around each test)."""
    client = redis.Redis.from_url(get_settings().redis_url)
    queue = celery_app.conf.task_default_queue
    client.delete(queue)

    def read() -> list[int]:
        # Celery's Redis transport LPUSHes JSON envelopes; the body holds (args, kwargs, embed).
        bodies = [
            json.loads(base64.b64decode(json.loads(raw)["body"])) for raw in client.lrange(queue, 0, -1)
        ]
        return sorted(body[0][0] for body in bodies)

    yield read
    client.delete(queue)


@pytest.fixture
def client(database: str) -> Iterator[TestClient]:
    from api.main import app

    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def token(database: str) -> str:
    """A token of the site administrator, with every scope."""
    from api.services.accounts import ensure_site_admin
    from api.services.tokens import create_token

    with db.session_scope() as session:
        return create_token(session, user=ensure_site_admin(session), name="tests")[1]


@pytest.fixture
def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
