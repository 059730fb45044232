"""The `dockyard` command driving a real server over its API, as a user's terminal or a script would:
login (token or password), apps, env, a followed deploy, a failing one, scale, run, logs, deployments
filtered, the delivery log, tokens, notifications, and the exit codes (0 done, 1 refused with the server's
detail, 2 bad usage, 3 unreachable) without tracebacks.

One app is deployed once and reused, in file order.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.github_payloads import push_for, signed_headers
from tests.platform import Platform, Repo, eventually, fastapi_app, free_port
from tests.receiver import receiving

DOCKYARD = str(Path(sys.executable).parent / "dockyard")
APP = "remote"


@pytest.fixture(scope="module")
def config_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("config")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    repo = Repo(tmp_path_factory.mktemp("git"), full_name="octo/remote")
    repo.commit(fastapi_app("v1"), "first version")
    return repo


class Cli:
    """Runs `.venv/bin/dockyard` against the platform (DOCKYARD_URL and DOCKYARD_TOKEN unless told)."""

    def __init__(self, platform: Platform, config_home: Path) -> None:
        self.platform = platform
        self.config_home = config_home

    def __call__(
        self, *args: str, typed: str | None = None, logged_in: bool = True, **env: str
    ) -> subprocess.CompletedProcess[str]:
        environment = {
            key: value for key, value in os.environ.items() if key not in ("DOCKYARD_URL", "DOCKYARD_TOKEN")
        }
        environment["XDG_CONFIG_HOME"] = str(self.config_home)
        if logged_in:
            environment |= {"DOCKYARD_URL": self.platform.api, "DOCKYARD_TOKEN": self.platform.token}
        environment |= env
        done = subprocess.run(
            [DOCKYARD, *args],
            env=environment,
            input=typed,
            capture_output=True,
            text=True,
            timeout=600,
            start_new_session=True,  # no terminal: prompts read stdin
        )
        assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
        return done


@pytest.fixture(scope="module")
def cli(platform: Platform, config_home: Path) -> Cli:
    return Cli(platform, config_home)


@pytest.fixture(scope="module")
def created(cli: Cli, repo: Repo) -> subprocess.CompletedProcess[str]:
    done = cli("apps", "create", APP, "--repo", repo.url, "--branch", repo.branch)
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def deployed(cli: Cli, created: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    """`deploy --follow` of the app, with GREETING set beforehand."""
    assert cli("env", "set", APP, "GREETING=ahoy").returncode == 0
    return cli("deploy", APP, "--follow")


def test_login_checks_the_token_and_later_commands_use_it(
    cli: Cli, platform: Platform, config_home: Path, created: subprocess.CompletedProcess[str]
) -> None:
    done = cli("login", "--url", platform.api, logged_in=False, typed=f"{platform.token}\n")

    assert done.returncode == 0, done.stderr
    assert platform.token not in done.stdout, "the token prompt hides what is typed"
    saved = config_home / "dockyard" / "config.json"
    assert json.loads(saved.read_text()) == {"url": platform.api, "token": platform.token}
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    listed = cli("apps", "list", logged_in=False)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].split() == ["NAME", "TEAM", "STATE", "URL"]
    wrong = cli("login", "--url", platform.api, "--token", "dy_wrong", logged_in=False)
    assert wrong.returncode == 1
    assert json.loads(saved.read_text())["token"] == platform.token, "a refused login saves nothing"


def test_apps_create_shows_the_secret_once_then_list_and_info(
    cli: Cli, platform: Platform, created: subprocess.CompletedProcess[str]
) -> None:
    lines = created.stdout.splitlines()

    assert lines[0] == f"created {APP} in team main"
    assert lines[1].split() == ["url:", f"http://{APP}.localhost:{platform.http_port}/"]
    assert lines[2].split() == ["webhook", "url:", f"{platform.api}/webhooks/github"]
    assert lines[3].startswith("webhook secret: whsec_")
    secret = lines[3].split()[2]
    listed = cli("apps", "list")
    assert [line.split()[:4] for line in listed.stdout.splitlines()] == [
        ["NAME", "TEAM", "STATE", "URL"],
        [APP, "main", "not", "deployed"],
    ]
    info = cli("apps", "info", APP)
    assert info.returncode == 0
    assert "branch:      main" in info.stdout.splitlines()
    assert "team:        main" in info.stdout.splitlines()
    assert "domains:     -" in info.stdout.splitlines()
    assert secret not in listed.stdout + info.stdout
    duplicate = cli("apps", "create", APP, "--repo", "file:///tmp/x/y.git")
    assert duplicate.returncode == 1
    assert duplicate.stderr == f"error: an app named '{APP}' already exists; choose another name\n"


def test_env_set_list_unset_and_delete(cli: Cli, repo: Repo) -> None:
    assert cli("apps", "create", "envs", "--repo", repo.url).returncode == 0

    done = cli("env", "set", "envs", "DEBUG=1", "DATABASE_URL=postgres://u:p@db/x?a=b")

    assert done.returncode == 0, done.stderr
    assert done.stdout == "set DEBUG, DATABASE_URL\n"
    assert cli("env", "list", "envs").stdout == "DATABASE_URL\nDEBUG\n"
    assert cli("env", "unset", "envs", "DEBUG").stdout == "unset DEBUG\n"
    assert cli("env", "list", "envs").stdout == "DATABASE_URL\n"
    unknown = cli("env", "unset", "envs", "DEBUG")
    assert unknown.returncode == 1
    assert unknown.stderr == (
        "error: app 'envs' has no variable 'DEBUG'; `GET /api/v1/apps/envs/env` lists them\n"
    )
    assert cli("env", "set", "envs", "NOVALUE").returncode == 2
    kept = cli("apps", "delete", "envs", typed="not-it\n")
    assert kept.returncode == 1
    assert kept.stderr.endswith("error: 'not-it' is not 'envs'; nothing was deleted\n")
    deleted = cli("apps", "delete", "envs", typed="envs\n")
    assert deleted.returncode == 0, deleted.stderr
    assert deleted.stdout.endswith("deleted envs\n")
    assert cli("apps", "info", "envs").returncode == 1


def test_deploy_follow_streams_the_log_and_exits_0_when_live(
    cli: Cli, platform: Platform, deployed: subprocess.CompletedProcess[str]
) -> None:
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    lines = deployed.stdout.splitlines()
    assert lines[0].startswith("deploying: deployment ")
    phases = [line for line in lines if line.startswith("-----> ")]
    assert len(phases) >= 5, deployed.stdout
    assert lines[-1] == f"-----> Deployment {platform.live_deployment_id(APP)} is live at " + (
        f"http://{APP}.localhost:{platform.http_port}/"
    )
    assert platform.get_app_page(APP).json() == {"version": "v1", "greeting": "ahoy"}
    history = cli("deployments", APP, "--limit", "5")
    assert history.stdout.splitlines()[1].split()[:3] == [
        str(platform.live_deployment_id(APP)),
        "live",
        "api",
    ]


def test_a_failing_deploy_exits_1_with_its_reason_last(
    cli: Cli, platform: Platform, deployed: subprocess.CompletedProcess[str]
) -> None:
    done = cli("deploy", APP, "--ref", "no-such-branch", "--follow")

    assert done.returncode == 1, done.stdout + done.stderr
    failed = int(done.stdout.splitlines()[0].split()[-2])
    reason = platform.deployment(APP, failed)["error"]
    assert reason
    assert done.stderr.endswith(f"error: deployment {failed} failed: {reason}\n")
    assert platform.get_app_page(APP).json()["version"] == "v1", "the live release keeps serving"


def test_scale_run_and_logs(cli: Cli, platform: Platform, deployed: subprocess.CompletedProcess[str]) -> None:
    scaled = cli("scale", APP, "web=2")

    assert scaled.returncode == 0, scaled.stderr
    assert scaled.stdout.splitlines()[1].split()[:2] == ["web", "2"]
    assert eventually(lambda: _running_web(platform) == 2, timeout=30), platform.server_log()
    assert cli("scale", APP, "web=1").returncode == 0
    failing = cli("run", APP, "--", "echo hi from $PORT; exit 3")
    assert (failing.returncode, failing.stdout) == (3, "hi from 8000\n")
    ok = cli("run", APP, "--", "python", "-c", "print(6 * 7)")
    assert (ok.returncode, ok.stdout) == (0, "42\n")
    logs = cli("logs", APP, "--process", "web", "--tail", "20")
    assert logs.returncode == 0, logs.stderr
    assert " web.1 | " in logs.stdout


def _running_web(platform: Platform) -> int:
    services = platform.call("GET", f"/api/v1/apps/{APP}/services").json()
    web = [service for service in services if service["name"] == "web"]
    return sum(
        1 for service in web for container in service["containers"] if container["status"] == "running"
    )


def test_a_bad_token_exits_1_with_the_servers_detail(cli: Cli) -> None:
    done = cli("apps", "list", DOCKYARD_TOKEN="dy_wrong")

    assert done.returncode == 1
    assert done.stderr == "error: the bearer token is not valid: log in again with `dockyard login`\n"
    assert done.stdout == ""


def test_an_unknown_app_exits_1_and_an_unreachable_server_exits_3(cli: Cli) -> None:
    unknown = cli("restart", "nope")
    assert unknown.returncode == 1
    assert unknown.stderr == "error: no app named 'nope'; `GET /api/v1/apps` lists yours\n"

    url = f"http://127.0.0.1:{free_port()}"
    done = cli("deploy", APP, "--follow", DOCKYARD_URL=url)

    assert done.returncode == 3
    assert done.stderr.startswith(f"error: cannot reach the Dockyard server at {url}: ")
    assert done.stdout == ""


def test_login_with_a_password_saves_a_new_token(cli: Cli, platform: Platform, config_home: Path) -> None:
    password = "correct horse battery"
    made = platform.call("POST", "/api/v1/users", json={"username": "ada", "password": password})
    assert made.status_code == 201, made.text

    done = cli("login", "--url", platform.api, "--username", "ada", logged_in=False, typed=f"{password}\n")

    assert done.returncode == 0, done.stderr
    assert password not in done.stdout
    saved = json.loads((config_home / "dockyard" / "config.json").read_text())
    assert saved["url"] == platform.api
    assert saved["token"].startswith("dy_") and saved["token"] != platform.token
    mine = cli("tokens", "list", logged_in=False)
    assert mine.returncode == 0, mine.stderr
    assert mine.stdout.splitlines()[1].split()[1:4] == ["dockyard", "login", "on"]
    wrong = cli("login", "--username", "ada", logged_in=False, typed="not the password\n")
    assert (wrong.returncode, wrong.stderr) == (1, "error: wrong username or password\n")
    both = cli("login", "--username", "ada", "--token", "dy_x", logged_in=False)
    assert both.returncode == 2
    assert json.loads((config_home / "dockyard" / "config.json").read_text()) == saved


def test_tokens_create_list_and_revoke(cli: Cli) -> None:
    created = cli("tokens", "create", "--name", "ci", "--scope", "read", "--expires-in-days", "30")

    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert created.stdout == f"{token}\n" and token.startswith("dy_"), (
        "stdout is the token alone, for scripts"
    )
    token_id = created.stderr.split()[2]
    assert created.stderr.startswith(f"created token {token_id} (ci: read); it is shown only now")
    assert cli("apps", "list", DOCKYARD_TOKEN=token).returncode == 0
    refused = cli("deploy", APP, DOCKYARD_TOKEN=token)
    assert refused.returncode == 1
    assert "needs the `deploy` scope" in refused.stderr
    listed = {line.split()[0]: line.split() for line in cli("tokens", "list").stdout.splitlines()[1:]}
    assert listed[token_id][1:5] == ["ci", token[:10] + "…", "read", "expires"]
    assert token not in cli("tokens", "list").stdout

    revoked = cli("tokens", "revoke", token_id)

    assert (revoked.returncode, revoked.stdout) == (0, f"revoked token {token_id}\n")
    after = cli("apps", "list", DOCKYARD_TOKEN=token)
    assert (after.returncode, after.stderr) == (
        1,
        "error: the token 'ci' was revoked: log in again or create a new token\n",
    )
    listed = {line.split()[0]: line.split() for line in cli("tokens", "list").stdout.splitlines()[1:]}
    assert listed[token_id][4] == "revoked"
    assert cli("tokens", "revoke", "999999").returncode == 1


def test_hooks_show_each_delivery_and_why(
    cli: Cli, platform: Platform, repo: Repo, created: subprocess.CompletedProcess[str]
) -> None:
    secret = created.stdout.splitlines()[3].split()[2]
    body = json.dumps(push_for(repo.full_name, branch="dev", after="a" * 40)).encode()
    for key in (secret, "not-the-secret"):
        answer = httpx.post(
            f"{platform.api}/webhooks/github",
            content=body,
            headers=signed_headers(key, body, event="push"),
            timeout=10,
        )
        assert answer.status_code < 500, answer.text

    done = cli("hooks", APP, "--limit", "2")

    assert done.returncode == 0, done.stderr
    header, rejected, ignored = done.stdout.splitlines()
    assert header.split() == ["WHEN", "(UTC)", "EVENT", "SIGNATURE", "DECISION"]
    assert rejected.split()[2:] == ["push", "bad", "rejected:", "bad", "signature"]
    assert ignored.split()[2:] == [
        "push",
        "ok",
        "ignored:",
        "push",
        "to",
        "`dev`,",
        "app",
        "tracks",
        "`main`",
    ]


def test_notifications_reach_a_real_endpoint_when_a_deploy_fails(
    cli: Cli, platform: Platform, deployed: subprocess.CompletedProcess[str]
) -> None:
    with receiving() as receiver:
        added = cli("notifications", "add", APP, receiver.url("/services/T1/B2/s3cr3t"), "--format", "slack")
        assert added.returncode == 0, added.stderr
        target = added.stdout.split()[2].rstrip(":")
        assert added.stdout == f"added notification {target}: {receiver.url('/services/…')} (live, failed)\n"
        listed = cli("notifications", "list", APP)
        assert listed.stdout.splitlines()[1].split() == [
            target,
            "slack",
            "live,failed",
            receiver.url("/services/…"),
            "never",
            "sent",
        ]
        tested = cli("notifications", "test", APP, target)
        assert (tested.returncode, tested.stdout) == (0, f"notification {target}: 200 OK\n")

        failing = cli("deploy", APP, "--ref", "no-such-branch", "--follow")

        assert failing.returncode == 1
        failed = int(failing.stdout.splitlines()[0].split()[-2])
        assert eventually(lambda: len(receiver.received) == 2, timeout=30), platform.server_log()
        text = receiver.received[1].json()["text"]
        assert text.startswith(f":x: *{APP}*: deployment {failed} failed: ")
        assert "s3cr3t" not in cli("notifications", "list", APP).stdout
        receiver.status = 500
        broken = cli("notifications", "test", APP, target)
        assert (broken.returncode, broken.stderr) == (
            1,
            f"error: notification {target} did not get through: 500 Internal Server Error\n",
        )
    assert cli("notifications", "remove", APP, target).stdout == f"removed notification {target}\n"
    assert cli("notifications", "list", APP).stdout == ""
    history = cli("deployments", APP, "--status", "failed")
    rows = [line.split() for line in history.stdout.splitlines()[1:]]
    assert rows[0][:2] == [str(failed), "failed"], history.stdout
    assert len(rows) >= 2 and {row[1] for row in rows} == {"failed"}, history.stdout


def _close(*ends: socket.socket) -> None:
    for end in ends:
        with contextlib.suppress(OSError):
            end.shutdown(socket.SHUT_RDWR)
        end.close()


class CuttingProxy:
    """A TCP proxy in front of the API that drops the first followed log stream after its first bytes,
    as a load balancer's idle timeout or a server restart would; every other connection passes intact."""

    def __init__(self, upstream: str, *, cut_after: int = 300) -> None:
        host, port = upstream.removeprefix("http://").split(":")
        self.upstream = (host, int(port))
        self.cut_after = cut_after
        self.cuts = 0
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        # Clients reuse connections: watch every request on this one for the first followed stream.
        armed = threading.Event()
        upstream = socket.create_connection(self.upstream)
        threading.Thread(target=self._requests, args=(client, upstream, armed), daemon=True).start()
        sent = 0
        try:
            while chunk := upstream.recv(65536):
                client.sendall(chunk)
                sent = sent + len(chunk) if armed.is_set() else 0
                if sent >= self.cut_after:
                    break
        except OSError:
            pass
        _close(client, upstream)

    def _requests(self, client: socket.socket, upstream: socket.socket, armed: threading.Event) -> None:
        try:
            while chunk := client.recv(65536):
                if b"follow=1" in chunk and self.cuts == 0:
                    self.cuts += 1
                    armed.set()
                upstream.sendall(chunk)
        except OSError:
            pass
        _close(client, upstream)

    def close(self) -> None:
        self.server.close()


def test_deploy_follow_resumes_a_dropped_stream_without_repeating_or_losing_lines(
    cli: Cli, platform: Platform, deployed: subprocess.CompletedProcess[str]
) -> None:
    proxy = CuttingProxy(platform.api)
    try:
        done = cli("deploy", APP, "--follow", DOCKYARD_URL=proxy.url)
    finally:
        proxy.close()

    assert done.returncode == 0, done.stdout + done.stderr
    assert proxy.cuts == 1
    assert "connection lost" in done.stderr and "resuming" in done.stderr
    deployment = int(done.stdout.splitlines()[0].split()[2])
    stored = httpx.get(
        f"{platform.api}/api/v1/apps/{APP}/deployments/{deployment}/logs",
        headers={"Authorization": f"Bearer {platform.token}"},
    ).text.splitlines()
    assert len(stored) > 5
    assert done.stdout.splitlines()[1:-1] == stored


def test_logs_follow_resumes_after_a_dropped_stream_without_repeating_lines(
    cli: Cli, platform: Platform, deployed: subprocess.CompletedProcess[str]
) -> None:
    proxy = CuttingProxy(platform.api, cut_after=600)
    environment = {
        **os.environ,
        "XDG_CONFIG_HOME": str(cli.config_home),
        "DOCKYARD_URL": proxy.url,
        "DOCKYARD_TOKEN": platform.token,
    }
    follower = subprocess.Popen(
        [DOCKYARD, "logs", APP, "-f", "--process", "web", "--tail", "0"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    seen: list[str] = []
    output = follower.stdout
    assert output is not None
    threading.Thread(target=lambda: seen.extend(iter(output.readline, "")), daemon=True).start()
    try:
        # Each request leaves one access-log line naming its number; the proxy cuts the stream part way.
        for number in range(40):
            platform.get_app_page(APP, f"/?n={number}")
            time.sleep(0.1)
        assert eventually(lambda: any("n=39 " in line for line in seen), timeout=30), "".join(seen)
    finally:
        follower.terminate()
        _out, err = follower.communicate(timeout=10)
        proxy.close()

    assert proxy.cuts == 1
    assert "resuming" in err
    numbers = [line.split("n=", 1)[1].split()[0] for line in seen if "GET /?n=" in line]
    assert len(numbers) == len(set(numbers)), "no line is shown twice"
    assert numbers[-1] == "39"
