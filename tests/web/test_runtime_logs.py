"""The runtime logs page: a live tail per process with a filter, and the last lines without JavaScript."""

from __future__ import annotations

import pytest

from tests.platform import free_port
from tests.web.conftest import Browser
from tests.web.test_app_overview import add_deployments, make_app


def test_the_tail_follows_the_chosen_process_and_filter(admin: Browser) -> None:
    make_app()
    add_deployments({"status": "live", "image": "test/hello:1"})

    page = admin.open("/apps/hello/logs?process=worker&filter=GET")

    assert page.status_code == 200
    assert 'data-runtime-log="/api/v1/apps/hello/logs/ws"' in page.text
    assert 'data-process="worker"' in page.text and 'data-filter="log-filter"' in page.text
    assert '<option value="worker" selected>worker</option>' in page.text
    assert 'id="log-filter" value="GET"' in page.text
    # Without JavaScript: the last lines of the (real) engine; this app runs no container, so none.
    assert "The last 0 line(s) containing “GET”" in page.text


def test_an_unknown_process_is_refused_with_the_ones_the_app_has(admin: Browser) -> None:
    make_app()
    add_deployments({"status": "live", "image": "test/hello:1"})

    page = admin.open("/apps/hello/logs?process=clock")

    assert page.status_code == 422
    assert "the live release has no `clock` process; it runs web, beat, worker" in page.text
    assert 'data-process="clock"' not in page.text


def test_an_engine_that_does_not_answer_is_said_plainly(
    admin: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_app()
    add_deployments({"status": "live", "image": "test/hello:1"})
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{free_port()}")

    page = admin.open("/apps/hello/logs")

    assert page.status_code == 200
    assert "Cannot read the logs: the Docker engine does not answer" in page.text
