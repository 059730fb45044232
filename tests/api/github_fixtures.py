"""Fixtures for API tests with a GitHub App: the local GitHub stand-in (tests/github_fake.py) as the
server's GitHub, and the App registered and installed through Dockyard's own setup routes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from core.settings import get_settings
from tests.github_fake import GitHubFake
from tests.github_payloads import signed_headers

PUBLIC = "https://dockyard.example.com"
REPO = "octo/hello"


@dataclass
class Registered:
    """The App as GitHub (the fake) knows it, installed on `octo` with access to octo/hello."""

    github: GitHubFake
    installation: int

    @property
    def webhook_secret(self) -> str:
        return self.github.app_secrets["webhook_secret"]

    def deliver(
        self, client: TestClient, event: str, body: dict, *, secret: str | None = None, **kwargs: str
    ):
        """POST `body` to the webhook as GitHub would, signed with the App's secret (or `secret`)."""
        raw = json.dumps(body).encode()
        headers = signed_headers(secret or self.webhook_secret, raw, event=event, **kwargs)
        return client.post("/webhooks/github", content=raw, headers=headers)


@pytest.fixture
def github(database: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubFake]:
    """The fake GitHub, as the API's DOCKYARD_GITHUB_API_URL."""
    with GitHubFake() as fake:
        monkeypatch.setenv("DOCKYARD_GITHUB_API_URL", fake.url)
        monkeypatch.setenv("DOCKYARD_PUBLIC_URL", PUBLIC)
        get_settings.cache_clear()
        yield fake
    get_settings.cache_clear()


@pytest.fixture
def registered(client: TestClient, auth: dict[str, str], github: GitHubFake) -> Registered:
    """Register the App through POST /api/v1/github/setup and GitHub's two redirects, as a browser would."""
    started = client.post("/api/v1/github/setup", json={"name": "Dockyard"}, headers=auth)
    assert started.status_code == 200, started.text
    code = github.register(started.json()["manifest"])
    callback = client.get(
        "/github/setup/callback",
        params={"code": code, "state": started.json()["state"]},
        follow_redirects=False,
    )
    assert callback.status_code == 303, callback.text
    installation = github.install("octo", repositories=[REPO, "octo/other"])
    installed = client.get(
        "/github/setup/installed", params={"installation_id": installation, "setup_action": "install"}
    )
    assert installed.status_code == 200, installed.text
    return Registered(github=github, installation=installation)


def connected_app(
    client: TestClient,
    auth: dict[str, str],
    registered: Registered,
    name: str = "hello",
    branch: str = "main",
) -> str:
    """An app connected to octo/hello through the installation; returns its own webhook secret."""
    created = client.post(
        "/api/v1/apps",
        json={"name": name, "repo_url": f"https://github.com/{REPO}.git", "branch": branch},
        headers=auth,
    )
    assert created.status_code == 201, created.text
    connected = client.put(
        f"/api/v1/apps/{name}/github",
        json={"installation_id": registered.installation, "repository": REPO},
        headers=auth,
    )
    assert connected.status_code == 200, connected.text
    return str(created.json()["webhook_secret"])
