"""The remote API as the CLI sees it: where the server is, the token, and errors turned into exit codes.

Exit codes scripts can rely on: 0 done, 1 the API (or the user) refused, 2 bad usage (Typer's own),
3 the server cannot be reached.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import typer

API_ERROR = 1
UNREACHABLE = 3
DEFAULT_URL = "http://127.0.0.1:8000"
TIMEOUT = httpx.Timeout(30.0)
RECONNECTS = 5  # consecutive failed reconnections before a followed stream gives up


def fail(message: str, code: int = API_ERROR) -> typer.Exit:
    """Print `error: message` on stderr; raise what this returns to exit with `code`."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def config_path() -> Path:
    """Where `dockyard login` keeps the server's URL and the token."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "dockyard" / "config.json"


@dataclass(frozen=True)
class Remote:
    url: str
    token: str


def saved_remote() -> dict[str, str]:
    """What `dockyard login` saved; empty when it never ran."""
    try:
        saved = json.loads(config_path().read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise fail(f"cannot read {config_path()}: {error}; run `dockyard login` again") from error
    return {key: str(value) for key, value in saved.items() if key in ("url", "token")}


def save_remote(remote: Remote) -> Path:
    """Keep the URL and token for later commands, readable by the user only."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        os.fchmod(out.fileno(), 0o600)  # a file left by an older login may have had other bits
        json.dump({"url": remote.url, "token": remote.token}, out, indent=2)
        out.write("\n")
    return path


def current_remote() -> Remote:
    """DOCKYARD_URL and DOCKYARD_TOKEN when set (they win), else what `dockyard login` saved."""
    saved = saved_remote()
    url = os.environ.get("DOCKYARD_URL") or saved.get("url")
    token = os.environ.get("DOCKYARD_TOKEN") or saved.get("token")
    if not url or not token:
        raise fail("not logged in: run `dockyard login --url URL`, or set DOCKYARD_URL and DOCKYARD_TOKEN")
    return Remote(url=url.rstrip("/"), token=token)


def problem_detail(response: httpx.Response) -> str:
    """The problem+json `detail` of an error answer, or what the answer says otherwise."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("detail"):
        return str(body["detail"])
    text = response.text.strip()[:300]
    return f"{response.status_code} {response.reason_phrase}" + (f": {text}" if text else "")


class Client:
    """A few calls to the REST API; every failure exits the command with the right code."""

    def __init__(self, remote: Remote | None = None) -> None:
        self.remote = remote or current_remote()
        self._http = httpx.Client(
            base_url=f"{self.remote.url}/api/v1",
            # No token only for signing in, which is how a token is obtained.
            headers={"Authorization": f"Bearer {self.remote.token}"} if self.remote.token else {},
            timeout=TIMEOUT,
        )

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """The answer's JSON (None for an empty one, text for a text one)."""
        try:
            response = self._http.request(
                method,
                path,
                json=json,
                params=params,
                timeout=httpx.Timeout(30.0, read=timeout) if timeout else TIMEOUT,
            )
        except httpx.TransportError as error:
            raise self._unreachable(error) from error
        self._check(response)
        if not response.content:
            return None
        if response.headers.get("content-type", "").startswith("application/json"):
            return response.json()
        return response.text

    def lines(self, path: str, *, params: dict[str, Any] | None = None) -> Iterator[str]:
        """A streamed text answer, line by line as the server sends them (no read timeout)."""
        try:
            with self._http.stream(
                "GET", path, params=params, timeout=httpx.Timeout(30.0, read=None)
            ) as response:
                if response.is_error:
                    response.read()
                    self._check(response)
                yield from response.iter_lines()
        except httpx.TransportError as error:
            raise self._unreachable(error) from error

    def resumed_lines(
        self,
        path: str,
        *,
        params: dict[str, Any],
        resume: Callable[[int, str | None], dict[str, Any]],
        retries: int = RECONNECTS,
    ) -> Iterator[str]:
        """Like `lines`, but a connection that drops mid-stream (a proxy, a server restart) is opened again
        with the parameters `resume(lines received, last line)` gives, so nothing repeats or goes missing."""
        received, last = 0, None
        failures = 0
        while True:
            try:
                with self._http.stream(
                    "GET",
                    path,
                    params={**params, **resume(received, last)},
                    timeout=httpx.Timeout(30.0, read=None),
                ) as response:
                    if response.is_error:
                        response.read()
                        self._check(response)
                    for line in response.iter_lines():
                        received, last = received + 1, line
                        failures = 0
                        yield line
                return
            except httpx.TransportError as error:
                failures += 1
                if failures > retries:
                    raise self._unreachable(error) from error
                typer.secho(
                    f"       (connection lost: {error or type(error).__name__}; resuming)", err=True, dim=True
                )
                time.sleep(min(2.0**failures / 4, 5.0))

    def _check(self, response: httpx.Response) -> None:
        if response.is_error:
            raise fail(problem_detail(response))

    def _unreachable(self, error: httpx.TransportError) -> typer.Exit:
        reason = str(error) or type(error).__name__
        return fail(f"cannot reach the Dockyard server at {self.remote.url}: {reason}", UNREACHABLE)
