"""The `dockyard` command as a user runs it: readable errors, no tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.platform import free_port

DOCKYARD = str(Path(sys.executable).parent / "dockyard")


def run(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DOCKYARD_DATA_DIR": str(data_dir), **env}
    return subprocess.run([DOCKYARD, *args], env=environment, capture_output=True, text=True, timeout=60)


def test_server_without_redis_says_so_and_exits(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"

    done = run("server", "--port", str(free_port()), data_dir=tmp_path, DOCKYARD_REDIS_URL=url)

    assert done.returncode == 1
    assert done.stderr.startswith(f"error: Redis does not answer at {url}")
    assert "Traceback" not in done.stderr + done.stdout


def test_migrate_then_token_create_prints_a_new_token_each_time(tmp_path: Path) -> None:
    assert run("migrate", data_dir=tmp_path).stdout == "database is up to date\n"

    first = run("token", "create", "--name", "ci", data_dir=tmp_path)
    second = run("token", "create", "--name", "ci", data_dir=tmp_path)

    assert first.returncode == 0
    assert first.stdout.startswith("dy_") and first.stdout != second.stdout


def test_token_create_needs_a_name(tmp_path: Path) -> None:
    run("migrate", data_dir=tmp_path)

    done = run("token", "create", "--name", "  ", data_dir=tmp_path)

    assert done.returncode == 1
    assert done.stderr == "error: name: must not be empty\n"
