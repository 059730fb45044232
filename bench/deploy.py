"""What a deploy costs and what the proxy adds, measured on a real `dockyard server`:

phases   — a small FastAPI app deployed cold and again with a code change: seconds per `-----> ` phase,
           from the live log's Redis stream (entry ids are millisecond timestamps);
load     — failed requests (non-2xx or connection errors) while it redeploys under 6 keep-alive clients;
proxy    — requests per second through Caddy ÷ straight to the container, and the p99 latency Caddy adds
           (the same raw-socket keep-alive client, 8 connections, fixed time, on both paths);
reconcile — a steady-state reconcile pass with 200 containers running (an instance of its own on a fresh
           SQLite database, apps made directly in it, `sleep infinity` processes of a local base image).

  .venv/bin/python -m bench.deploy [--seconds 5] [--services 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

# Part 4 runs the reconciler in this process: its settings must name its own instance and database
# before any Dockyard module reads them. The Platform of parts 1-3 passes its own values to its server.
_RECONCILE_DIR = Path(tempfile.mkdtemp(prefix="dockyard-bench-reconcile-"))
os.environ["DOCKYARD_INSTANCE"] = f"bench-{uuid.uuid4().hex[:8]}"
os.environ["DOCKYARD_DATA_DIR"] = str(_RECONCILE_DIR)
os.environ.pop("DOCKYARD_DATABASE_URL", None)
for _name in ("DOCKYARD_CADDY_ADMIN", "DOCKYARD_HTTP_PORT"):
    with socket.socket() as _probe:
        _probe.bind(("127.0.0.1", 0))
        _port = _probe.getsockname()[1]
    os.environ[_name] = f"127.0.0.1:{_port}" if _name == "DOCKYARD_CADDY_ADMIN" else str(_port)

import docker  # noqa: E402
import httpx  # noqa: E402
import redis  # noqa: E402

from bench.platform import bench_platform  # noqa: E402
from scheduler.proxy import CaddyAdmin  # noqa: E402
from tests.integration.conftest import remove_owned  # noqa: E402
from tests.platform import Platform, Repo, fastapi_app, free_port  # noqa: E402

APP = "bench"
BASE_IMAGE = "python:3.13-slim"  # any local image with `sleep`; the stand-in base image is always here


# --- phases ------------------------------------------------------------------------------------------------


def phase_times(platform: Platform, deployment_id: int) -> list[tuple[str, float]]:
    """(phase header, seconds until the next header) from the deployment's log stream."""
    client = redis.Redis.from_url(os.environ.get("DOCKYARD_REDIS_URL", "redis://127.0.0.1:6379/0"))
    (key,) = client.scan_iter(match=f"dockyard:{platform.instance}:deploy-log:{deployment_id}:*")
    entries = [
        (int(entry_id.decode().split("-")[0]), fields.get(b"line", b"").decode())
        for entry_id, fields in client.xrange(key)
    ]
    client.close()
    marks = [(ms, line) for ms, line in entries if line.startswith(("-----> ", "=====> "))]
    end = entries[-1][0]  # the end marker
    return [
        (line.removeprefix("-----> ")[:60], ((marks[i + 1][0] if i + 1 < len(marks) else end) - ms) / 1000)
        for i, (ms, line) in enumerate(marks)
        if line.startswith("-----> ")
    ]


def deploy(platform: Platform, repo: Repo, secret: str, version: str, salt: str) -> int:
    files = fastapi_app(version, requirements=f"# {salt}\nfastapi\nuvicorn\n")
    commit = repo.commit(files, version)
    response = platform.push_webhook(secret, repo, commit)
    response.raise_for_status()
    deployment_id = int(response.json()["results"][0]["deployment"])
    deployment = platform.wait_deployment(APP, deployment_id)
    if deployment["status"] != "live":
        raise SystemExit(platform.logs(APP, deployment_id))
    # The task goes on after `live` (drain, retire); the log stream ends when it is done.
    while not platform.logs(APP, deployment_id).rstrip().splitlines()[-1].startswith("=====> Live"):
        time.sleep(0.2)
    return deployment_id


def print_phases(title: str, phases: list[tuple[str, float]]) -> None:
    print(f"{title}: {sum(seconds for _, seconds in phases):.2f} s")
    for header, seconds in phases:
        print(f"  {seconds:7.2f} s  {header}")


# --- load during a redeploy --------------------------------------------------------------------------------


def redeploy_under_load(platform: Platform, repo: Repo, secret: str, salt: str, clients: int = 6) -> None:
    stop = threading.Event()
    served: list[int] = []
    failures: list[str] = []

    def client() -> None:
        with httpx.Client(
            base_url=f"http://127.0.0.1:{platform.http_port}",
            headers={"Host": f"{APP}.localhost"},
            timeout=10,
            trust_env=False,
        ) as http:
            while not stop.is_set():
                try:
                    response = http.get("/")
                except httpx.HTTPError as error:
                    failures.append(type(error).__name__)
                    continue
                if response.is_success:
                    served.append(response.status_code)
                else:
                    failures.append(str(response.status_code))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    time.sleep(1)
    try:
        deploy(platform, repo, secret, "under-load", salt)
        time.sleep(1)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    print(
        f"redeploy under load ({clients} clients): {len(failures)} failed of {len(served) + len(failures)} "
        f"requests (goal 0){'  ' + str(sorted(set(map(str, failures)))) if failures else ''}"
    )


# --- proxy overhead ----------------------------------------------------------------------------------------


async def _keep_alive_client(host: str, port: int, header: str, until: float, latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    request = f"GET / HTTP/1.1\r\nHost: {header}\r\n\r\n".encode()
    try:
        while time.monotonic() < until:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head[:100])
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
    finally:
        writer.close()


async def _load(host: str, port: int, header: str, seconds: float, connections: int) -> list[float]:
    latencies: list[float] = []
    until = time.monotonic() + seconds
    await asyncio.gather(
        *(_keep_alive_client(host, port, header, until, latencies) for _ in range(connections))
    )
    return latencies


def measure(host: str, port: int, header: str, seconds: float, connections: int = 8) -> tuple[float, float]:
    """(requests per second, p99 latency in ms) over `seconds`, after a short warm-up."""
    asyncio.run(_load(host, port, header, 1.0, connections))
    latencies = asyncio.run(_load(host, port, header, seconds, connections))
    p99 = statistics.quantiles(latencies, n=100)[98] * 1000
    return len(latencies) / seconds, p99


def proxy_overhead(platform: Platform, client: docker.DockerClient, seconds: float, rounds: int = 3) -> None:
    """Direct, through Dockyard's route, and through a bare `reverse_proxy` on the same Caddy, interleaved.

    The bare server is the baseline for what Caddy itself costs on this machine; the medians of `rounds`
    keep one noisy round (two cores shared by the app, Caddy and the load generator) from deciding.
    """
    (web,) = client.containers.list(
        filters={"label": [f"dockyard.instance={platform.instance}", "dockyard.service=web"]}
    )
    address = next(iter(web.attrs["NetworkSettings"]["Networks"].values()))["IPAddress"]
    bare_port = free_port()
    with CaddyAdmin(f"127.0.0.1:{platform.admin_port}") as admin:
        admin.ensure_server(
            "bench-bare",
            {
                "listen": [f":{bare_port}"],
                "automatic_https": {"disable": True},
                "routes": [
                    {"handle": [{"handler": "reverse_proxy", "upstreams": [{"dial": f"{address}:8000"}]}]}
                ],
            },
        )
    paths = {
        "direct": (address, 8000),
        "dockyard": ("127.0.0.1", platform.http_port),
        "bare caddy": ("127.0.0.1", bare_port),
    }
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in paths}
    for _round in range(rounds):
        for name, (host, port) in paths.items():
            figures[name].append(measure(host, port, f"{APP}.localhost", seconds))
    rps = {name: statistics.median(f[0] for f in runs) for name, runs in figures.items()}
    p99 = {name: statistics.median(f[1] for f in runs) for name, runs in figures.items()}
    for name in paths:
        print(f"{name + ':':<12} {rps[name]:8.0f} req/s, p99 {p99[name]:6.2f} ms (median of {rounds})")
    print(
        f"through Dockyard's route ÷ direct = {rps['dockyard'] / rps['direct']:.2f} (goal ≥ 0.85; bare Caddy "
        f"{rps['bare caddy'] / rps['direct']:.2f}); added p99 = {p99['dockyard'] - p99['direct']:.2f} ms "
        f"(goal ≤ 2 ms; bare Caddy {p99['bare caddy'] - p99['direct']:.2f} ms)"
    )


# --- reconcile with many services --------------------------------------------------------------------------


def reconcile_pass(client: docker.DockerClient, services: int) -> None:
    from api.services.apps import create_app
    from api.services.reconciler import reconcile
    from core.db import session_scope
    from core.migrate import upgrade
    from core.models import Deployment, DeploymentStatus, Service, Team
    from core.settings import get_settings
    from scheduler.caddy import start_caddy
    from scheduler.proxy import CaddyAdmin
    from scheduler.runtime.docker import DockerRuntime

    settings = get_settings()
    # Each app has a bridge network and the engine's default pools hold only ~30: few apps, many replicas.
    apps, per_process = 10, services // 20
    admin_address = settings.caddy_admin
    caddy = start_caddy(admin=admin_address, data_dir=settings.data_dir)
    redis_client = redis.Redis.from_url(settings.redis_url)
    runtime = DockerRuntime(client, settings.instance)
    try:
        upgrade()
        plan = {"processes": {"web": "sleep infinity", "worker": "sleep infinity"}, "port": 8000}
        with session_scope() as session:
            team = Team(name="bench")
            for number in range(apps):
                app, _secret = create_app(
                    session,
                    settings=settings,
                    team=team,
                    name=f"many{number}",
                    repo_url=f"file:///nowhere/octo/many{number}.git",
                    branch="main",
                )
                app.services[0].replicas = per_process  # the web service every app starts with
                app.services.append(Service(name="worker", replicas=per_process))
                app.deployments.append(
                    Deployment(
                        trigger="push",
                        status=DeploymentStatus.LIVE.value,
                        image=BASE_IMAGE,
                        commit="0" * 40,
                        plan=plan,
                    )
                )
        with CaddyAdmin(admin_address) as admin:
            first = reconcile(settings, redis_client=redis_client, runtime=runtime, admin=admin)
            running = len(runtime.observe())
            print(
                f"reconcile, first pass: started {len(first.actions)} containers in {first.seconds:.1f} s "
                f"({running} running, {len(first.errors)} errors)"
            )
            steady = [
                reconcile(settings, redis_client=redis_client, runtime=runtime, admin=admin) for _ in range(3)
            ]
        changed = sum(len(report.actions) + len(report.routes) for report in steady)
        median = statistics.median(report.seconds for report in steady)
        print(
            f"reconcile, steady pass with {running} services: "
            f"median {median:.2f} s of 3, {changed} changes (goal ≤ 2 s)"
        )
    finally:
        if caddy is not None:
            caddy.terminate()
            caddy.wait()
        remove_owned(client, settings.instance)
        redis_client.close()
        shutil.rmtree(_RECONCILE_DIR, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each proxy measurement")
    parser.add_argument("--services", type=int, default=200, help="containers for the reconcile pass")
    args = parser.parse_args()
    client = docker.from_env()
    with bench_platform("octo/bench") as (platform, repo):
        secret = platform.create_app(APP, repo)["webhook_secret"]
        salt = uuid.uuid4().hex
        print_phases(
            "cold deploy (dependencies installed)",
            phase_times(platform, deploy(platform, repo, secret, "v1", salt)),
        )
        print_phases(
            "redeploy (code change, cached dependencies)",
            phase_times(platform, deploy(platform, repo, secret, "v2", salt)),
        )
        redeploy_under_load(platform, repo, secret, salt)
        proxy_overhead(platform, client, args.seconds)
    reconcile_pass(client, args.services)
    client.close()


if __name__ == "__main__":
    main()
