"""A burst of signed pushes to one branch: how fast each is acknowledged, how many builds run, and how long
until the last commit is live.

Runs a real `dockyard server` (its own INSTANCE, ports and data directory) with a small FastAPI app on a local
git remote, deploys it once, then commits and delivers `--pushes` pushes back to back, as a busy team or a
rebased branch would. Coalescing should build at most two of them (the one already building and the newest)
and end the rest `superseded`.

    .venv/bin/python -m bench.webhook_burst [--pushes 20]
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx

from bench.platform import bench_platform
from tests.platform import Platform, eventually, fastapi_app

APP = "burst"


def serves(platform: Platform, version: str) -> bool:
    """True when the app answers with `version` through the proxy."""
    try:
        return platform.get_app_page(APP).json().get("version") == version
    except (httpx.HTTPError, ValueError):
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pushes", type=int, default=20)
    args = parser.parse_args()
    with bench_platform("octo/burst") as (platform, repo):
        secret = platform.create_app(APP, repo)["webhook_secret"]
        first = platform.push_webhook(secret, repo, repo.commit(fastapi_app("v0"), "v0"))
        platform.wait_deployment(APP, first.json()["results"][0]["deployment"])

        commits = [repo.commit(fastapi_app(f"v{n}"), f"v{n}") for n in range(1, args.pushes + 1)]
        acks, deployments = [], []
        for commit in commits:
            started = time.perf_counter()
            response = platform.push_webhook(secret, repo, commit)
            acks.append(time.perf_counter() - started)
            response.raise_for_status()
            deployments.append(response.json()["results"][0]["deployment"])
        last_push = time.perf_counter()
        live = eventually(lambda: serves(platform, f"v{args.pushes}"), timeout=600)
        to_live = time.perf_counter() - last_push
        statuses = [platform.wait_deployment(APP, number)["status"] for number in deployments]
        built = sum(1 for status in statuses if status != "superseded")

        acks_ms = sorted(seconds * 1000 for seconds in acks)
        print(f"pushes: {args.pushes}")
        print(
            f"acknowledgement: median {statistics.median(acks_ms):.1f} ms, "
            f"p95 {acks_ms[int(len(acks_ms) * 0.95) - 1]:.1f} ms, max {acks_ms[-1]:.1f} ms"
        )
        print(f"builds run: {built} of {args.pushes} ({statuses.count('superseded')} superseded)")
        print(f"last commit live: {live}, {to_live:.2f} s after the last push")


if __name__ == "__main__":
    main()
