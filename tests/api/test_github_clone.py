"""Builds of apps connected through the GitHub App clone with a fresh installation token, sent only to
GitHub's host and never shown: not in the build log, not in the deployment's error."""

from __future__ import annotations

from collections.abc import Iterator

import docker
import pytest
import redis
from fastapi.testclient import TestClient

from api.services.github_app import clone_url, get_github_app
from api.services.pipeline import Pipeline
from core import db
from core.settings import get_settings
from tests.api.github_fixtures import REPO, Registered, github, registered
from tests.github_fake import GitHubFake

__all__ = ["github", "registered"]  # fixtures

# Nothing listens on port 1: git fails at once, after being handed the token.
GITHUB = "https://127.0.0.1:1"


@pytest.fixture
def local_github(github: GitHubFake, monkeypatch: pytest.MonkeyPatch) -> GitHubFake:
    """GitHub's web host (where clones go) at an address that refuses connections."""
    monkeypatch.setenv("DOCKYARD_GITHUB_URL", GITHUB)
    get_settings.cache_clear()
    return github


def test_the_clone_url_carries_a_token_for_github_only(
    client: TestClient, auth: dict[str, str], registered: Registered
) -> None:
    settings = get_settings()
    with db.session_scope() as session:
        github_app = get_github_app(session, settings)
    on_github = "https://github.com/octo/hello.git"

    with_token = clone_url(settings, github_app, repo_url=on_github, installation_id=registered.installation)

    (minted,) = registered.github.calls_to(
        "POST", f"/app/installations/{registered.installation}/access_tokens"
    )
    assert minted.body == {"repositories": ["hello"], "permissions": {"contents": "read"}}
    assert with_token.startswith("https://x-access-token:ghs_") and with_token.endswith(
        "@github.com/octo/hello.git"
    )
    for repo_url, installation, app in (
        ("file:///srv/octo/hello.git", registered.installation, github_app),  # a mirror: never the token
        ("https://gitlab.com/octo/hello.git", registered.installation, github_app),
        (on_github, None, github_app),  # not connected
        (on_github, registered.installation, None),  # no GitHub App
    ):
        assert clone_url(settings, app, repo_url=repo_url, installation_id=installation) == repo_url
    assert (
        len(registered.github.calls_to("POST", f"/app/installations/{registered.installation}/access_tokens"))
        == 1
    )


@pytest.fixture
def pipeline() -> Iterator[Pipeline]:
    settings = get_settings()
    client = docker.from_env()
    running = Pipeline(settings, redis_client=redis.Redis.from_url(settings.redis_url), docker_client=client)
    yield running
    running.close()
    client.close()


def test_a_failed_clone_shows_the_url_without_its_token(
    client: TestClient,
    auth: dict[str, str],
    local_github: GitHubFake,
    registered: Registered,
    pipeline: Pipeline,
) -> None:
    repo_url = f"{GITHUB}/{REPO}.git"
    client.post("/api/v1/apps", json={"name": "hello", "repo_url": repo_url}, headers=auth)
    client.put(
        "/api/v1/apps/hello/github",
        json={"installation_id": registered.installation, "repository": REPO},
        headers=auth,
    )
    deployment = client.post("/api/v1/apps/hello/deployments", headers=auth).json()["id"]

    pipeline.run(deployment)

    failed = client.get(f"/api/v1/apps/hello/deployments/{deployment}", headers=auth).json()
    log = client.get(f"/api/v1/apps/hello/deployments/{deployment}/logs", headers=auth).text
    assert failed["status"] == "failed"
    assert failed["error"].startswith("could not fetch https://***@127.0.0.1:1/octo/hello.git at main: ")
    assert f"-----> Fetching {repo_url} at main\n       with a GitHub App installation token\n" in log
    assert registered.github.calls_to("POST", f"/app/installations/{registered.installation}/access_tokens")
    assert "ghs_" not in failed["error"] and "ghs_" not in log and "x-access-token" not in log
