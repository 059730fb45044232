"""Redis going away must not lose a push: the webhook answers 503 with why, nothing waits `queued`
forever, and GitHub's redelivery deploys once Redis is back."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import redis

from tests.platform import Platform, Repo, fastapi_app, free_port


class RedisServer:
    """A redis-server of this test's own, to stop and start at will."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    server = RedisServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def platform(
    tmp_path: Path, own_redis: RedisServer, instance: str, docker_client: docker.DockerClient
) -> Iterator[Platform]:
    running = Platform(
        data_dir=tmp_path / "platform", instance=instance, env={"DOCKYARD_REDIS_URL": own_redis.url}
    )
    running.data_dir.mkdir()
    running.start()
    yield running
    running.stop()


def test_a_push_while_redis_is_down_fails_clearly_and_a_redelivery_deploys(
    platform: Platform, own_redis: RedisServer, tmp_path: Path
) -> None:
    repo = Repo(tmp_path / "git", full_name="octo/outage")
    secret = platform.create_app("outage", repo)["webhook_secret"]
    commit = repo.commit(fastapi_app("after-outage"), "pushed while Redis is down")
    delivery = "0f2b6a1e-0000-4000-8000-00000000cafe"

    own_redis.stop()
    refused = platform.push_webhook(secret, repo, commit, delivery=delivery)

    assert refused.status_code == 503
    assert refused.headers["content-type"] == "application/problem+json"
    assert "the build queue did not take it" in refused.json()["detail"]
    [failed] = platform.call("GET", "/api/v1/apps/outage/deployments").json()
    assert failed["status"] == "failed"
    assert "redeliver the webhook" in failed["error"]

    own_redis.start()
    redelivered = platform.push_webhook(secret, repo, commit, delivery=delivery)

    assert redelivered.status_code == 202, redelivered.text
    deployment_id = redelivered.json()["results"][0]["deployment"]
    assert platform.wait_deployment("outage", deployment_id, timeout=300)["status"] == "live"
    assert platform.get_app_page("outage").json()["version"] == "after-outage"
