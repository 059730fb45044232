"""The remote CLI's pure parts: where the URL and token come from, problem details, argument parsing."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from api.cli import app
from api.cli.client import Remote, current_remote, problem_detail, save_remote
from api.cli.env import pairs
from api.cli.operations import replicas


@pytest.fixture(autouse=True)
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("DOCKYARD_URL", raising=False)
    monkeypatch.delenv("DOCKYARD_TOKEN", raising=False)
    return tmp_path


def test_login_saves_url_and_token_for_the_user_only(config_home: Path) -> None:
    path = save_remote(Remote(url="http://dock.example:8000", token="dy_abc"))

    assert path == config_home / "dockyard" / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert current_remote() == Remote(url="http://dock.example:8000", token="dy_abc")


def test_environment_wins_over_the_saved_login(monkeypatch: pytest.MonkeyPatch) -> None:
    save_remote(Remote(url="http://saved:8000", token="dy_saved"))
    monkeypatch.setenv("DOCKYARD_URL", "http://from-env:9000/")
    monkeypatch.setenv("DOCKYARD_TOKEN", "dy_env")

    assert current_remote() == Remote(url="http://from-env:9000", token="dy_env")


def test_without_a_login_commands_say_how_to_log_in() -> None:
    result = CliRunner().invoke(app, ["apps", "list"])

    assert result.exit_code == 1
    assert result.stderr == (
        "error: not logged in: run `dockyard login --url URL`, or set DOCKYARD_URL and DOCKYARD_TOKEN\n"
    )


def test_problem_detail_prefers_the_detail_then_the_text() -> None:
    problem = httpx.Response(
        404, json={"title": "Not found", "detail": "no app named 'x'"}, headers={"content-type": "x"}
    )
    plain = httpx.Response(502, text="Bad gateway from the proxy")

    assert problem_detail(problem) == "no app named 'x'"
    assert problem_detail(plain) == "502 Bad Gateway: Bad gateway from the proxy"
    assert problem_detail(httpx.Response(500)) == "500 Internal Server Error"


def test_assignments_parse_or_are_usage_errors() -> None:
    assert pairs(["DEBUG=1", "URL=postgres://u:p@h/db?a=b", "EMPTY="]) == {
        "DEBUG": "1",
        "URL": "postgres://u:p@h/db?a=b",
        "EMPTY": "",
    }
    assert replicas(["web=2", "worker=0"]) == {"web": 2, "worker": 0}
    for bad in (["DEBUG"], ["=1"]):
        with pytest.raises(typer.BadParameter):
            pairs(bad)
    for bad in (["web"], ["web=-1"], ["web=two"], ["=2"]):
        with pytest.raises(typer.BadParameter):
            replicas(bad)


def test_bad_usage_exits_2_before_any_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKYARD_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("DOCKYARD_TOKEN", "dy_x")

    assert CliRunner().invoke(app, ["env", "set", "hello", "NOEQUALS"]).exit_code == 2
    assert CliRunner().invoke(app, ["scale", "hello", "web=many"]).exit_code == 2
    assert CliRunner().invoke(app, ["deploy"]).exit_code == 2
