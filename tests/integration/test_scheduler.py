"""The scheduler under load and faults, all real: two apps (a Celery web+worker+beat Procfile app and a
FastAPI WebSocket echo), each with a volume, deployed by signed push to one `dockyard server`.

The tests then crash processes, restart the proxy and the reconcile worker, redeploy under load and with
a WebSocket open, and break releases, and check what a user sees. They run in order on the same two apps,
as an operator's day would; a drain of 6 s makes "until the drain ends" observable.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import docker
import httpx
import pytest
import redis
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from core import labels
from scheduler.caddy import start_caddy
from scheduler.proxy import CaddyAdmin, fallback_route
from tests.integration.conftest import remove_owned
from tests.platform import FINAL_STATUSES, Command, Platform, Repo, eventually

APPS_DIR = Path(__file__).parents[1] / "apps"
JOBS = "jobs"  # tests/apps/celery-procfile
ECHO = "echo"  # tests/apps/websocket-echo
DRAIN = 6
STARTUP_TIMEOUT = 15
STOP_TIMEOUT = 5  # the Platform's


@dataclass
class App:
    name: str
    fixture: str
    repo: Repo
    secret: str


def fixture_files(fixture: str, **changes: str) -> dict[str, str]:
    """The files of a fixture app under tests/apps/, with `changes` (path → text) on top."""
    root = APPS_DIR / fixture
    files = {
        str(path.relative_to(root)): path.read_text()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }
    return {**files, **changes}


@pytest.fixture(scope="module")
def spawned() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test started in place of the server's own children (a Caddy, a worker)."""
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def platform(
    tmp_path_factory: pytest.TempPathFactory,
    instance: str,
    docker_client: docker.DockerClient,
    spawned: list[subprocess.Popen[bytes]],
) -> Iterator[Platform]:
    # An instance of its own: reconcile removes containers of apps its database does not know.
    own = f"{instance}-sched"
    running = Platform(
        data_dir=tmp_path_factory.mktemp("platform"),
        instance=own,
        env={"DOCKYARD_DRAIN_SECONDS": str(DRAIN), "DOCKYARD_STARTUP_TIMEOUT": str(STARTUP_TIMEOUT)},
    )
    running.start()
    yield running
    running.stop()
    remove_owned(docker_client, own)


@pytest.fixture(scope="module")
def apps(platform: Platform, tmp_path_factory: pytest.TempPathFactory) -> dict[str, App]:
    """Both apps created with a `data` volume at /data, then built and deployed side by side."""
    created = {}
    deployments = {}
    for name, fixture in ((JOBS, "celery-procfile"), (ECHO, "websocket-echo")):
        repo = Repo(tmp_path_factory.mktemp(f"git-{name}"), full_name=f"octo/{name}")
        secret = str(platform.create_app(name, repo)["webhook_secret"])
        platform.add_volume(name, "data", "/data")
        created[name] = App(name, fixture, repo, secret)
        deployments[name] = push(platform, created[name], fixture_files(fixture), "first version")
    for name, deployment_id in deployments.items():
        deployment = platform.wait_deployment(name, deployment_id)
        assert deployment["status"] == "live", platform.logs(name, deployment_id)
    return created


def push(platform: Platform, app: App, files: dict[str, str], message: str) -> int:
    """Commit `files`, deliver the signed push; the id of the deployment it starts."""
    commit = app.repo.commit(files, message)
    response = platform.push_webhook(app.secret, app.repo, commit)
    assert response.status_code == 202, response.text
    return int(response.json()["results"][0]["deployment"])


def containers(client: docker.DockerClient, instance: str, app: str, **wanted: str) -> list:
    """The app's running containers (with `dockyard.<key>=<value>` labels from `wanted`), by name."""
    filters = {"label": labels.label_filters(labels.owned(instance, app, **wanted)), "status": "running"}
    return sorted(client.containers.list(filters=filters), key=lambda c: str(c.name))


def answers_within(platform: Platform, app: str, seconds: float) -> float | None:
    """Seconds until the app answers 200 through the proxy, polling as a user would; None if it never did."""
    started = time.monotonic()
    while (left := seconds - (time.monotonic() - started)) > 0:
        try:
            response = httpx.get(
                f"http://127.0.0.1:{platform.http_port}/",
                headers={"Host": f"{app}.localhost"},
                timeout=max(left, 0.1),
                trust_env=False,
            )
            if response.status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return None


def done_lines(platform: Platform) -> list[tuple[datetime, str]]:
    """What the jobs app's worker recorded: (when it ran, job name)."""
    text = platform.get_app_page(JOBS, "/done").text
    return [
        (datetime.fromisoformat(stamp), name) for stamp, name in (line.split() for line in text.splitlines())
    ]


def open_socket(platform: Platform, app: str) -> ClientConnection:
    """A WebSocket to the app through Caddy (the host comes from the URL; the socket goes to loopback)."""
    import socket

    sock = socket.create_connection(("127.0.0.1", platform.http_port), timeout=5)
    return connect(f"ws://{app}.localhost:{platform.http_port}/ws", sock=sock, open_timeout=5)


def echo(ws: ClientConnection, message: str) -> str:
    ws.send(message)
    return str(ws.recv(timeout=5))


# --- web, worker and beat --------------------------------------------------------------------------------


def test_web_worker_and_beat_run_and_the_worker_takes_a_job(
    platform: Platform, apps: dict[str, App], docker_client: docker.DockerClient
) -> None:
    def services() -> list[str]:
        return sorted(c.labels[labels.SERVICE] for c in containers(docker_client, platform.instance, JOBS))

    # Beat is replaced only after the release is live (two beats must never run at once).
    assert eventually(lambda: services() == ["beat", "web", "worker"], timeout=15), services()
    assert platform.get_app_page(JOBS, "/enqueue?name=alpha").status_code == 202
    assert eventually(lambda: "alpha" in [name for _, name in done_lines(platform)], timeout=30)


def test_beat_ticks_once_per_interval_across_a_redeploy(
    platform: Platform, apps: dict[str, App], docker_client: docker.DockerClient
) -> None:
    assert eventually(lambda: [n for _, n in done_lines(platform)].count("tick") >= 3, timeout=30)
    web = (APPS_DIR / "celery-procfile" / "web.py").read_text() + "\n# second version\n"

    deployment_id = push(platform, apps[JOBS], fixture_files("celery-procfile", **{"web.py": web}), "v2")
    most_beats = 0
    deadline = time.monotonic() + 300
    # Until the old release is gone: the deployment is `live` before its old workers and web retire.
    while time.monotonic() < deadline:
        beats = containers(docker_client, platform.instance, JOBS, service="beat")
        most_beats = max(most_beats, len(beats))
        releases = {c.labels[labels.RELEASE] for c in containers(docker_client, platform.instance, JOBS)}
        if platform.deployment(JOBS, deployment_id)["status"] in FINAL_STATUSES and releases == {
            str(deployment_id)
        }:
            break
        time.sleep(0.1)
    deployed_at = datetime.now().astimezone()

    assert platform.deployment(JOBS, deployment_id)["status"] == "live", platform.logs(JOBS, deployment_id)
    assert most_beats == 1, "two beats ran at once: every periodic task would be sent twice"
    assert [c.labels[labels.RELEASE] for c in containers(docker_client, platform.instance, JOBS)] == [
        str(deployment_id)
    ] * 3
    assert eventually(
        lambda: sum(1 for at, name in done_lines(platform) if name == "tick" and at > deployed_at) >= 2,
        timeout=30,
    ), "the new beat does not tick"
    ticks = [at for at, name in done_lines(platform) if name == "tick"]
    gaps = [round((later - earlier).total_seconds(), 3) for earlier, later in itertools.pairwise(ticks)]
    assert min(gaps) >= 1.5, f"ticks closer than the 2 s interval (a tick sent twice): {gaps}"


def test_a_websocket_survives_another_apps_deploy(platform: Platform, apps: dict[str, App]) -> None:
    with open_socket(platform, ECHO) as ws:
        assert echo(ws, "before").endswith(": before")

        deployment_id = platform.set_env(JOBS, {"GREETING": "other"})
        while platform.deployment(JOBS, deployment_id)["status"] not in FINAL_STATUSES:
            assert echo(ws, "during").endswith(": during")
            time.sleep(0.5)

        assert platform.deployment(JOBS, deployment_id)["status"] == "live"
        assert echo(ws, "after").endswith(": after")


# --- crashes and restarts of what serves --------------------------------------------------------------


def test_a_web_process_killed_with_sigkill_answers_again_within_5_s(
    platform: Platform, apps: dict[str, App], docker_client: docker.DockerClient
) -> None:
    (web,) = containers(docker_client, platform.instance, ECHO, service="web")

    os.kill(web.attrs["State"]["Pid"], signal.SIGKILL)  # the container's init: its whole process tree goes

    seconds = answers_within(platform, ECHO, 5)
    assert seconds is not None, "the app did not answer through the proxy within 5 s of the crash"
    assert len(containers(docker_client, platform.instance, ECHO, service="web")) == 1


def test_a_restarted_proxy_gets_its_routes_back_by_itself(
    platform: Platform, apps: dict[str, App], spawned: list[subprocess.Popen[bytes]]
) -> None:
    # The proxy goes down while the jobs app is deploying (draining its old web): both apps must come back.
    deployment_id = platform.set_env(JOBS, {"GREETING": "proxied"})
    assert platform.wait_deployment(JOBS, deployment_id, timeout=120)["status"] == "live"
    (caddy,) = platform.caddy_pids()
    os.kill(caddy, signal.SIGKILL)
    assert eventually(lambda: not platform.caddy_pids(), timeout=5)
    assert answers_within(platform, ECHO, 0.5) is None

    # As `dockyard server` does: an empty Caddy with only its admin endpoint; the routes are reconcile's job.
    restarted = start_caddy(admin=f"127.0.0.1:{platform.admin_port}", data_dir=platform.data_dir)
    assert restarted is not None
    spawned.append(restarted)

    assert answers_within(platform, ECHO, 10) is not None, platform.server_log()
    assert answers_within(platform, JOBS, 5) is not None
    assert "=====> Live" not in platform.logs(JOBS, deployment_id), (
        "the app being deployed was routed again only when its deploy ended"
    )
    assert platform.get_app_page(JOBS).text == "hello from celery-procfile\n"
    with CaddyAdmin(f"127.0.0.1:{platform.admin_port}") as admin:
        routes = admin.routes(platform.instance)
    assert {route.get("@id") for route in routes[:-1]} == {
        f"{platform.instance}-app-{a}" for a in (ECHO, JOBS)
    }
    assert routes[-1] == fallback_route()
    assert platform.get_app_page("nothing-here").status_code == 404


# --- deploys under traffic --------------------------------------------------------------------------------


def test_a_redeploy_under_steady_load_fails_no_request(
    platform: Platform, apps: dict[str, App], docker_client: docker.DockerClient
) -> None:
    stop = threading.Event()
    served: list[int] = []
    failures: list[str] = []
    retried: list[str] = []

    def client() -> None:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{platform.http_port}",
            headers={"Host": f"{ECHO}.localhost"},
            timeout=10,
            trust_env=False,
        ) as http:
            while not stop.is_set():
                try:
                    response = http.get("/")
                except (httpx.ReadError, httpx.RemoteProtocolError) as error:
                    # Caddy closes idle keep-alive connections when its config changes; a request sent on
                    # one in that instant gets no answer at all. Browsers, curl and Go's client send it again
                    # (RFC 9112 9.3.1), and so does this client, once. Only the retry's outcome counts.
                    retried.append(f"{type(error).__name__}: {error}")
                    try:
                        response = http.get("/")
                    except httpx.HTTPError as again:
                        failures.append(f"{type(again).__name__}: {again}")
                        continue
                except httpx.HTTPError as error:
                    failures.append(f"{type(error).__name__}: {error}")
                    continue
                if response.is_success:
                    served.append(1)
                else:
                    failures.append(f"{response.status_code} {response.text[:200]}")

    clients = [threading.Thread(target=client) for _ in range(6)]
    for thread in clients:
        thread.start()
    try:
        assert eventually(lambda: len(served) >= 100, timeout=10)
        files = fixture_files("websocket-echo", **{"version.txt": "v2\n"})
        deployment_id = push(platform, apps[ECHO], files, "v2 under load")
        deployment = platform.wait_deployment(ECHO, deployment_id, timeout=300)
        assert deployment["status"] == "live", platform.logs(ECHO, deployment_id)
        # The old web drains, then stops: the load runs until it is gone.
        assert eventually(
            lambda: (
                [c.labels[labels.RELEASE] for c in containers(docker_client, platform.instance, ECHO)]
                == [str(deployment_id)]
            ),
            timeout=DRAIN + STOP_TIMEOUT + 15,
        )
        time.sleep(1)
    finally:
        stop.set()
        for thread in clients:
            thread.join()

    assert failures == [], f"{len(failures)} of {len(failures) + len(served)} requests failed: {failures[:5]}"
    assert len(served) > 500
    # At most one per client and config change (the switch), never a stream of them.
    assert len(retried) <= 6, retried
    assert platform.get_app_page(ECHO).json()["version"] == "v2"


def test_a_websocket_lives_through_its_own_apps_deploy_until_the_drain_ends(
    platform: Platform, apps: dict[str, App], docker_client: docker.DockerClient
) -> None:
    (old_web,) = containers(docker_client, platform.instance, ECHO, service="web")
    with open_socket(platform, ECHO) as ws:
        assert echo(ws, "hello") == "v2: hello"
        deployment_id = platform.set_env(ECHO, {"GREETING": "drained"})
        assert platform.wait_deployment(ECHO, deployment_id, timeout=120)["status"] == "live"
        live_at = time.monotonic()
        assert platform.get_app_page(ECHO).json()["greeting"] == "drained", (
            "new requests go to the new release"
        )

        last_echo = closed = None
        while time.monotonic() - live_at < DRAIN + STOP_TIMEOUT + 10:
            try:
                assert echo(ws, "still there?") == "v2: still there?"
                last_echo = time.monotonic() - live_at
            except ConnectionClosed:
                closed = time.monotonic() - live_at
                break
            time.sleep(0.25)

    timing = f"last echo {last_echo} s, closed {closed} s after the deployment went live"
    assert last_echo is not None and last_echo >= DRAIN - 2, f"unusable during the drain: {timing}"
    assert closed is not None and closed >= DRAIN - 1, f"closed before the drain ended: {timing}"
    assert eventually(
        lambda: old_web.id not in [c.id for c in containers(docker_client, platform.instance, ECHO)],
        timeout=10,
    )


def test_a_reconcile_worker_killed_mid_pass_during_a_deploy(
    platform: Platform,
    apps: dict[str, App],
    docker_client: docker.DockerClient,
    spawned: list[subprocess.Popen[bytes]],
) -> None:
    workers = platform.reconcile_worker_pids()
    assert workers, platform.server_log()
    command = Command.of(next(pid for pid in workers if parent_of(pid) not in workers))
    pass_lock = f"dockyard:{platform.instance}:reconcile"
    queue = redis.Redis.from_url(os.environ.get("DOCKYARD_REDIS_URL", "redis://127.0.0.1:6379/0"))
    deployment_id = platform.set_env(ECHO, {"GREETING": "reconciled"})

    # The worst moment: while it holds the pass lock (passes run every 3 s and on each engine event).
    assert eventually(lambda: bool(queue.exists(pass_lock)), timeout=15, interval=0.002)
    log = platform.data_dir / "reconcile-worker.log"
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    assert eventually(lambda: not platform.reconcile_worker_pids(), timeout=5)

    deployment = platform.wait_deployment(ECHO, deployment_id, timeout=120)
    assert deployment["status"] in ("live", "failed"), deployment
    # Drift while no reconciler runs: a worker of the other app disappears.
    (jobs_worker,) = containers(docker_client, platform.instance, JOBS, service="worker")
    jobs_worker.remove(force=True)
    spawned.append(command.start(log))  # as `dockyard server` started it

    def expected() -> list[str]:
        return sorted(
            f"{platform.instance}-{app}-{service}-{platform.live_deployment_id(app)}-1"
            for app, services in ((ECHO, ["web"]), (JOBS, ["beat", "web", "worker"]))
            for service in services
        )

    def running() -> list[str]:
        return sorted(
            str(c.name) for app in (ECHO, JOBS) for c in containers(docker_client, platform.instance, app)
        )

    assert eventually(lambda: running() == expected(), timeout=30), (
        running(),
        expected(),
        log.read_text()[-3000:],
    )
    assert platform.get_app_page(ECHO).json()["greeting"] == "reconciled"


# --- releases that must not go live ------------------------------------------------------------------------


def test_a_failing_release_command_keeps_the_old_release_serving(
    platform: Platform, apps: dict[str, App], docker_client: docker.DockerClient
) -> None:
    before = platform.get_app_page(ECHO).json()
    web_ids = [c.id for c in containers(docker_client, platform.instance, ECHO)]
    toml = "[deploy]\nrelease = \"python -c 'raise SystemExit(3)'\"\n"
    files = fixture_files("websocket-echo", **{"version.txt": "v3\n", "dockyard.toml": toml})

    deployment = platform.wait_deployment(
        ECHO, push(platform, apps[ECHO], files, "a release command that fails")
    )

    assert deployment["status"] == "failed"
    assert "the release command `python -c 'raise SystemExit(3)'` failed (exit 3)" in deployment["error"]
    assert platform.get_app_page(ECHO).json() == before
    assert [c.id for c in containers(docker_client, platform.instance, ECHO)] == web_ids
    (apps[ECHO].repo.work / "dockyard.toml").unlink()


def test_a_failing_health_check_keeps_the_old_release_serving(
    platform: Platform, apps: dict[str, App], docker_client: docker.DockerClient
) -> None:
    before = platform.get_app_page(ECHO).json()
    web_ids = [c.id for c in containers(docker_client, platform.instance, ECHO)]
    broken = (
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.get('/')\ndef index():\n    raise RuntimeError('the database is unreachable')\n"
    )
    files = fixture_files("websocket-echo", **{"version.txt": "v3\n", "main.py": broken})

    deployment = platform.wait_deployment(ECHO, push(platform, apps[ECHO], files, "answers 500"))

    assert deployment["status"] == "failed"
    assert f"did not answer GET / below 500 within {STARTUP_TIMEOUT} s" in deployment["error"]
    assert platform.get_app_page(ECHO).json() == before
    assert [c.id for c in containers(docker_client, platform.instance, ECHO)] == web_ids
    assert not [
        c
        for c in docker_client.containers.list(all=True)
        if c.name.startswith(f"{platform.instance}-{ECHO}-web-{deployment['id']}-")
    ], "the failed release's container is removed"


def test_volume_content_survives_a_redeploy(platform: Platform, apps: dict[str, App]) -> None:
    written = httpx.put(
        f"http://127.0.0.1:{platform.http_port}/notes/first",
        headers={"Host": f"{ECHO}.localhost"},
        content=b"kept across deploys",
        trust_env=False,
    )
    assert written.status_code == 200

    files = fixture_files("websocket-echo", **{"version.txt": "v4\n"})
    deployment = platform.wait_deployment(ECHO, push(platform, apps[ECHO], files, "v4 reads the note"))

    assert deployment["status"] == "live", platform.logs(ECHO, deployment["id"])
    assert platform.get_app_page(ECHO).json()["version"] == "v4"
    assert platform.get_app_page(ECHO, "/notes/first").text == "kept across deploys"


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
