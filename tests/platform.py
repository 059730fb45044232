"""A real Dockyard platform for integration tests and benchmarks: `dockyard server` in a subprocess
(API, Celery worker and beat, its own Caddy), a local git remote standing in for GitHub, and helpers
to push, deliver signed webhooks and wait for deployments."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.github_payloads import push_for, signed_headers

FINAL_STATUSES = {"live", "failed", "superseded"}
HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd` with a fixed identity; returns stdout."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Octo Cat",
        "GIT_AUTHOR_EMAIL": "octo@example.com",
        "GIT_COMMITTER_NAME": "Octo Cat",
        "GIT_COMMITTER_EMAIL": "octo@example.com",
    }
    done = subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def fastapi_app(
    version: str, *, requirements: str = "fastapi\nuvicorn\n", crash: bool = False
) -> dict[str, str]:
    """A small FastAPI app that says its version and its GREETING."""
    boom = 'raise RuntimeError("boom: the app refuses to start")\n' if crash else ""
    main = (
        "import os\n"
        "from fastapi import FastAPI\n"
        f"{boom}"
        "app = FastAPI()\n\n"
        "@app.get('/')\n"
        "def index():\n"
        f"    return {{'version': '{version}', 'greeting': os.environ.get('GREETING', 'hello')}}\n"
    )
    return {"requirements.txt": requirements, "main.py": main}


@dataclass
class Repo:
    """A bare repository served as file:// (the app's "GitHub") and a work tree that pushes to it."""

    root: Path
    full_name: str = "octo/hello"
    branch: str = "main"

    def __post_init__(self) -> None:
        self.bare = self.root / "remote" / f"{self.full_name}.git"
        self.work = self.root / "work"
        self.bare.mkdir(parents=True)
        git(self.bare, "init", "--bare", "-q", "-b", self.branch)
        self.work.mkdir(parents=True)
        git(self.work, "init", "-q", "-b", self.branch)
        git(self.work, "remote", "add", "origin", str(self.bare))

    @property
    def url(self) -> str:
        return f"file://{self.bare}"

    def commit(self, files: dict[str, str], message: str) -> str:
        """Write `files`, commit and push; returns the new commit sha."""
        for path, text in files.items():
            target = self.work / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        git(self.work, "add", "-A")
        git(self.work, "commit", "-q", "-m", message)
        git(self.work, "push", "-q", "origin", self.branch)
        return git(self.work, "rev-parse", "HEAD")


def pids_running(fragment: str) -> list[int]:
    """PIDs of live (not zombie) processes whose command line contains `fragment`, read from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue  # it ended while we looked
        if fragment in command and state != "Z":
            found.append(int(entry.name))
    return sorted(found)


@dataclass(frozen=True)
class Command:
    """How a running process was started, read from /proc, so that it can be started again."""

    argv: list[str]
    env: dict[str, str]
    cwd: str

    @classmethod
    def of(cls, pid: int) -> Command:
        proc = Path(f"/proc/{pid}")
        argv = [part.decode() for part in (proc / "cmdline").read_bytes().split(b"\0") if part]
        pairs = [item.decode().split("=", 1) for item in (proc / "environ").read_bytes().split(b"\0")]
        return cls(argv, {pair[0]: pair[1] for pair in pairs if len(pair) == 2}, os.readlink(proc / "cwd"))

    def start(self, log: Path) -> subprocess.Popen[bytes]:
        """Start it again (output appended to `log`); the caller stops it."""
        with log.open("ab") as out:
            return subprocess.Popen(self.argv, env=self.env, cwd=self.cwd, stdout=out, stderr=out)


def eventually(check: Callable[[], bool], timeout: float, interval: float = 0.25) -> bool:
    """Whether `check` becomes true within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


@dataclass
class Platform:
    """`dockyard server` running for real, with its own ports, data directory and INSTANCE."""

    data_dir: Path
    instance: str
    env: dict[str, str] = field(default_factory=dict)
    api_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    admin_port: int = field(default_factory=free_port)
    token: str = ""
    process: subprocess.Popen[bytes] | None = None

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def server_env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DOCKYARD_DATA_DIR": str(self.data_dir),
            "DOCKYARD_INSTANCE": self.instance,
            "DOCKYARD_CADDY_ADMIN": f"127.0.0.1:{self.admin_port}",
            "DOCKYARD_HTTP_PORT": str(self.http_port),
            "DOCKYARD_PUBLIC_URL": self.api,
            "DOCKYARD_BUILD_CA_BUNDLE": os.environ.get("DOCKYARD_BUILD_CA_BUNDLE", HOST_CA_BUNDLE),
            "DOCKYARD_STARTUP_TIMEOUT": "30",
            # Short, so tests see old releases go and the loop heal within seconds.
            "DOCKYARD_DRAIN_SECONDS": "1",
            "DOCKYARD_STOP_TIMEOUT": "5",
            "DOCKYARD_RECONCILE_INTERVAL": "3",
            **self.env,
        }

    def start(self) -> None:
        """Migrate, create a token and start the server; waits until the API answers."""
        env = self.server_env()
        dockyard = _bin("dockyard")
        subprocess.run([dockyard, "migrate"], env=env, check=True, capture_output=True)
        self.token = subprocess.run(
            [dockyard, "token", "create", "--name", "tests"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        log = open(self.data_dir / "server.log", "wb")  # noqa: SIM115 - kept open for the server's life
        self.process = subprocess.Popen(
            [dockyard, "server", "--port", str(self.api_port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dockyard server exited:\n{self.server_log()}")
            try:
                if httpx.get(f"{self.api}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"dockyard server did not answer within 60 s:\n{self.server_log()}")

    def stop(self) -> None:
        """Stop the server (and what it started: Caddy, worker, beat)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def caddy_pids(self) -> list[int]:
        """The Caddy started for this platform (by the server or by `start_caddy` with its data dir)."""
        return pids_running(str(self.data_dir / "caddy.json"))

    def reconcile_worker_pids(self) -> list[int]:
        """The reconcile worker's processes: its main process first, then its pool child."""
        return pids_running(f"--queues=dockyard-{self.instance}-reconcile")

    def add_volume(self, app: str, name: str, mount_path: str) -> dict[str, Any]:
        response = self.call(
            "POST", f"/api/v1/apps/{app}/volumes", json={"name": name, "mount_path": mount_path}
        )
        response.raise_for_status()
        return dict(response.json())

    def set_env(self, app: str, values: dict[str, str]) -> int:
        """Set env variables; the id of the rollout it starts."""
        response = self.call("PUT", f"/api/v1/apps/{app}/env", json=values)
        response.raise_for_status()
        return int(response.json()["deployment"])

    def live_deployment_id(self, app: str) -> int:
        return int(self.call("GET", f"/api/v1/apps/{app}").json()["live_deployment"]["id"])

    def server_log(self) -> str:
        path = self.data_dir / "server.log"
        return path.read_text(errors="replace")[-5000:] if path.exists() else ""

    def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """An authenticated API call."""
        headers = {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}
        return httpx.request(method, f"{self.api}{path}", headers=headers, timeout=30, **kwargs)

    def create_app(self, name: str, repo: Repo) -> dict[str, Any]:
        response = self.call(
            "POST", "/api/v1/apps", json={"name": name, "repo_url": repo.url, "branch": repo.branch}
        )
        response.raise_for_status()
        return dict(response.json())

    def push_webhook(
        self, secret: str, repo: Repo, commit: str, *, delivery: str | None = None
    ) -> httpx.Response:
        """Deliver a signed `push` as GitHub would."""
        body = json.dumps(push_for(repo.full_name, branch=repo.branch, after=commit)).encode()
        headers = signed_headers(secret, body, event="push", delivery=delivery)
        return httpx.post(f"{self.api}/webhooks/github", content=body, headers=headers, timeout=5)

    def deployment(self, app: str, deployment_id: int) -> dict[str, Any]:
        response = self.call("GET", f"/api/v1/apps/{app}/deployments/{deployment_id}")
        response.raise_for_status()
        return dict(response.json())

    def wait_deployment(self, app: str, deployment_id: int, timeout: float = 600) -> dict[str, Any]:
        """Poll until the deployment is final; returns it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            deployment = self.deployment(app, deployment_id)
            if deployment["status"] in FINAL_STATUSES:
                return deployment
            time.sleep(0.5)
        raise AssertionError(f"deployment {deployment_id} not final after {timeout} s:\n{self.server_log()}")

    def logs(self, app: str, deployment_id: int) -> str:
        return self.call("GET", f"/api/v1/apps/{app}/deployments/{deployment_id}/logs").text

    def get_app_page(self, app: str, path: str = "/") -> httpx.Response:
        """A request to the app through Caddy, by Host header."""
        return httpx.get(
            f"http://127.0.0.1:{self.http_port}{path}", headers={"Host": f"{app}.localhost"}, timeout=10
        )


def cleanup_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
