"""Schemathesis over the OpenAPI document, against the app with everything it talks to running for real
(PostgreSQL, Redis, Docker, a Caddy of its own): no input the schema allows, nor any it forbids, gets a
5xx, and every answer conforms to the document (status codes, content types, bodies).

Deterministic (`derandomize`) and bounded (MAX_EXAMPLES per operation), so it fits in CI. The `{name}` of
app routes is an app that exists, so calls get past the lookup; streaming (`follow`) requests are left out,
since they last until the client goes away.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy
from schemathesis import APIOperation, BaseSchema, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err, Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.settings import get_settings
from scheduler.caddy import start_caddy
from tests.platform import free_port

MAX_EXAMPLES = 12
APP = "hello"
REPO = "https://github.com/octo/hello.git"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# PostgreSQL is the stricter of the two databases: a string longer than its column is an error there.
pytestmark = pytest.mark.parametrize("database", ["postgresql"], indirect=True)


@pytest.fixture
def caddy(database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A Caddy of this test's own, so that routes that change the proxy have one to change."""
    admin = f"127.0.0.1:{free_port()}"
    monkeypatch.setenv("DOCKYARD_CADDY_ADMIN", admin)
    get_settings.cache_clear()
    process = start_caddy(admin=admin, data_dir=tmp_path / "caddy")
    assert process is not None
    yield admin
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def api_schema(caddy: str) -> BaseSchema:
    from api.main import app

    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.fixture
def ensure_app(
    caddy: str, auth: dict[str, str], queued: Callable[[], list[int]]
) -> Iterator[Callable[[], None]]:
    """Makes sure the app `{name}` names exists (a generated `DELETE /api/v1/apps/{name}` removes it)."""
    from api.main import app

    with TestClient(app) as client:

        def ensure() -> None:
            if client.get(f"/api/v1/apps/{APP}", headers=auth).status_code == 404:
                created = client.post("/api/v1/apps", json={"name": APP, "repo_url": REPO}, headers=auth)
                assert created.status_code == 201, created.text

        yield ensure


def is_streaming(case: schemathesis.Case) -> bool:
    return bool(case.query) and "follow" in case.query


def cases(operation: APIOperation) -> SearchStrategy[schemathesis.Case]:
    """Valid and invalid requests to `operation`, for the app that exists; never a streaming one."""
    names_an_app = any(parameter.name == "name" for parameter in operation.path_parameters)
    modes = [
        operation.as_strategy(mode, path_parameters={"name": APP} if names_an_app else None)
        for mode in GenerationMode
    ]
    return st.one_of(modes).filter(lambda case: not is_streaming(case))


def test_no_operation_answers_5xx_or_breaks_its_schema(
    api_schema: BaseSchema,
    ensure_app: Callable[[], None],
    auth: dict[str, str],
    subtests: pytest.Subtests,
) -> None:
    results = list(api_schema.get_all_operations())
    assert [result.err() for result in results if isinstance(result, Err)] == []
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) > 40

    for operation in operations:
        with subtests.test(msg=operation.label):

            @given(case=cases(operation))
            @settings(
                max_examples=MAX_EXAMPLES,
                derandomize=True,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                database=None,
            )
            def check(case: schemathesis.Case) -> None:
                ensure_app()
                case.call_and_validate(headers=auth, checks=CHECKS)

            check()
