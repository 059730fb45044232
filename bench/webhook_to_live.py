"""Time from a signed GitHub push webhook to the new version answering through the proxy.

Runs a real `dockyard server` (its own INSTANCE, ports and data directory), pushes a small FastAPI app
to a local git remote and measures, for each round:
  cold   — requirements.txt changed, so the dependency layer is rebuilt (pip install from the index);
  cached — only the source changed, so the dependency layer comes from Docker's cache.
The base image is already local in both cases. Prints one line per round and the medians.

    .venv/bin/python -m bench.webhook_to_live [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid

import httpx

from bench.platform import bench_platform
from tests.platform import Platform, Repo

APP = "bench"


def app_files(version: str, requirements_salt: str) -> dict[str, str]:
    return {
        # A comment changes the file, so the dependency layer's cache key, but not what installs.
        "requirements.txt": f"# {requirements_salt}\nfastapi\nuvicorn\n",
        "main.py": (
            "from fastapi import FastAPI\napp = FastAPI()\n\n"
            f"@app.get('/')\ndef index():\n    return {{'version': '{version}'}}\n"
        ),
    }


def push_and_wait(platform: Platform, repo: Repo, secret: str, files: dict[str, str], version: str) -> float:
    commit = repo.commit(files, version)
    started = time.monotonic()
    response = platform.push_webhook(secret, repo, commit)
    response.raise_for_status()
    deployment_id = response.json()["results"][0]["deployment"]
    while True:
        try:
            if platform.get_app_page(APP).json().get("version") == version:
                break
        except (httpx.HTTPError, ValueError):
            pass
        if platform.deployment(APP, deployment_id)["status"] == "failed":
            raise SystemExit(platform.logs(APP, deployment_id))
        time.sleep(0.05)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with bench_platform("octo/bench") as (platform, repo):
        secret = platform.create_app(APP, repo)["webhook_secret"]
        cold, cached = [], []
        for round_number in range(1, args.rounds + 1):
            salt = uuid.uuid4().hex
            version = f"cold{round_number}"
            seconds = push_and_wait(platform, repo, secret, app_files(version, salt), version)
            cold.append(seconds)
            print(f"round {round_number}: cold   (dependencies rebuilt)  {seconds:6.2f} s")
            version = f"cached{round_number}"
            seconds = push_and_wait(platform, repo, secret, app_files(version, salt), version)
            cached.append(seconds)
            print(f"round {round_number}: cached (source change only)   {seconds:6.2f} s")
        cold_median, cached_median = statistics.median(cold), statistics.median(cached)
        print(f"median webhook → live: cold {cold_median:.2f} s, cached {cached_median:.2f} s")
        print(f"cached / cold = {cached_median / cold_median:.2f}")


if __name__ == "__main__":
    main()
