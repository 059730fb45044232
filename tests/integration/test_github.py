"""The GitHub App end to end, all real but GitHub's REST API (tests/github_fake.py): a `dockyard server`
registers the App through its setup routes, an app is connected through an installation, and deliveries
signed with the App's secret deploy it — reported back as commit statuses and GitHub deployments; a burst of
pushes coalesces; a pull request gets a preview on its own host, gone when it closes.

Tests run in order on one app, as a team's week would go.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import docker
import httpx
import pytest

from core import labels
from tests.github_fake import GitHubFake
from tests.github_payloads import pull_request_for, push_for, signed_headers
from tests.platform import Platform, Repo, eventually, fastapi_app, git

APP = "ghapp"  # unlike other modules' apps: containers of earlier platforms may still be around
FULL_NAME = "octo/ghapp"


@pytest.fixture(scope="module")
def github() -> Iterator[GitHubFake]:
    with GitHubFake() as fake:
        yield fake


@pytest.fixture(scope="module")
def platform(
    tmp_path_factory: pytest.TempPathFactory,
    instance: str,
    docker_client: docker.DockerClient,
    github: GitHubFake,
) -> Iterator[Platform]:
    """A real `dockyard server` whose GitHub API is the fake."""
    running = Platform(
        data_dir=tmp_path_factory.mktemp("platform"),
        instance=instance,
        env={"DOCKYARD_GITHUB_API_URL": github.url},
    )
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    return Repo(tmp_path_factory.mktemp("git"), full_name=FULL_NAME)


@pytest.fixture(scope="module")
def installation(platform: Platform, github: GitHubFake, repo: Repo) -> int:
    """The App registered through the server's setup routes, installed on octo, and the app connected."""
    started = platform.call("POST", "/api/v1/github/setup", json={"name": "Dockyard"})
    assert started.status_code == 200, started.text
    code = github.register(started.json()["manifest"])
    callback = httpx.get(
        f"{platform.api}/github/setup/callback",
        params={"code": code, "state": started.json()["state"]},
        follow_redirects=False,
    )
    assert callback.status_code == 303, callback.text
    installation = github.install("octo", repositories=[FULL_NAME])
    installed = httpx.get(f"{platform.api}/github/setup/installed", params={"installation_id": installation})
    assert installed.status_code == 200, installed.text
    repo.commit(fastapi_app("v0"), "first version")
    platform.create_app(APP, repo)
    connected = platform.call(
        "PUT", f"/api/v1/apps/{APP}/github", json={"installation_id": installation, "repository": FULL_NAME}
    )
    assert connected.status_code == 200, connected.text
    return installation


def deliver(platform: Platform, github: GitHubFake, event: str, body: dict) -> httpx.Response:
    """A delivery signed with the App's webhook secret, as GitHub sends them."""
    raw = json.dumps(body).encode()
    headers = signed_headers(github.app_secrets["webhook_secret"], raw, event=event)
    return httpx.post(f"{platform.api}/webhooks/github", content=raw, headers=headers, timeout=5)


def push(platform: Platform, github: GitHubFake, commit: str) -> int:
    """Deliver the push of `commit` to main; its deployment."""
    response = deliver(platform, github, "push", push_for(FULL_NAME, branch="main", after=commit))
    assert response.status_code == 202, response.text
    assert response.elapsed.total_seconds() < 1, "GitHub needs an answer well under its 10 s limit"
    return int(response.json()["results"][0]["deployment"])


def commit_states(github: GitHubFake, sha: str, context: str = f"dockyard/{APP}") -> list[str]:
    calls = github.calls_to("POST", f"/repos/{FULL_NAME}/statuses/{sha}")
    return [call.body["state"] for call in calls if call.status == 201 and call.body["context"] == context]


def deployment_statuses(github: GitHubFake, sha: str, environment: str = APP) -> list[dict]:
    """The statuses posted to the GitHub deployments of `sha` in `environment`, in order."""
    found = [
        d["id"] for d in github.deployments.values() if d["sha"] == sha and d["environment"] == environment
    ]
    paths = {f"/repos/{FULL_NAME}/deployments/{github_id}/statuses" for github_id in found}
    return [call.body for call in github.calls if call.path in paths and call.status == 201]


def containers_of(client: docker.DockerClient, instance: str, app: str) -> list[str]:
    filters = {"label": labels.label_filters(labels.owned(instance, app))}
    return [container.name for container in client.containers.list(all=True, filters=filters)]


def test_a_push_is_reported_on_github_as_it_deploys(
    platform: Platform, github: GitHubFake, repo: Repo, installation: int
) -> None:
    commit = repo.commit(fastapi_app("v1"), "v1")
    deployment_id = push(platform, github, commit)

    deployment = platform.wait_deployment(APP, deployment_id)

    assert deployment["status"] == "live", platform.logs(APP, deployment_id)
    assert platform.get_app_page(APP).json()["version"] == "v1"
    # Reports run in the events worker: give the last one a moment.
    assert eventually(lambda: commit_states(github, commit)[-1:] == ["success"], timeout=30), github.calls
    states = commit_states(github, commit)
    assert states[0] == "pending" and set(states[:-1]) == {"pending"}
    assert eventually(
        lambda: [s["state"] for s in deployment_statuses(github, commit)][-1:] == ["success"], 30
    )
    reported = deployment_statuses(github, commit)
    order = ["queued", "in_progress", "success"]
    assert [order.index(status["state"]) for status in reported] == sorted(
        order.index(status["state"]) for status in reported
    )
    assert reported[-1]["environment_url"] == f"http://{APP}.localhost:{platform.http_port}/"
    assert reported[-1]["log_url"] == f"{platform.api}/api/v1/apps/{APP}/deployments/{deployment_id}/logs"
    (status,) = [
        call
        for call in github.calls_to("POST", f"/repos/{FULL_NAME}/statuses/{commit}")
        if call.body["state"] == "success"
    ]
    assert status.body["target_url"] == reported[-1]["log_url"]
    assert status.auth == f"token:{installation}"


def test_a_burst_of_twenty_pushes_builds_at_most_twice_and_the_last_commit_goes_live(
    platform: Platform, github: GitHubFake, repo: Repo, installation: int
) -> None:
    commits = [repo.commit(fastapi_app(f"burst-{n}"), f"burst {n}") for n in range(20)]
    # Twenty deliveries within a second or two, as a busy branch sends them.
    pushed = [(commit, push(platform, github, commit)) for commit in commits]

    for _commit, deployment_id in pushed:
        platform.wait_deployment(APP, deployment_id)
    final = [platform.deployment(APP, deployment_id) for _commit, deployment_id in pushed]  # as they ended

    last_commit, last_id = pushed[-1]
    built = [deployment for deployment in final if deployment["image"] is not None]
    assert len(built) <= 2, [(d["id"], d["status"], d["image"]) for d in final]
    assert final[-1]["status"] == "live", platform.logs(APP, last_id)
    assert final[-1]["commit"] == last_commit
    assert {deployment["status"] for deployment in final[:-1]} == {"superseded"}
    assert platform.get_app_page(APP).json()["version"] == "burst-19"
    skipped = [d for d in final if d["image"] is None]
    assert all(d["error"].endswith("replaced it") for d in skipped)
    # On GitHub, a commit that was never built ends green with a neutral word, not pending forever.
    first_skipped = next(commit for commit, deployment_id in pushed if deployment_id == skipped[0]["id"])
    assert eventually(lambda: commit_states(github, first_skipped)[-1:] == ["success"], timeout=30)


def test_a_pull_request_gets_a_preview_on_its_own_host_until_it_closes(
    platform: Platform,
    github: GitHubFake,
    repo: Repo,
    installation: int,
    docker_client: docker.DockerClient,
    instance: str,
) -> None:
    git(repo.work, "checkout", "-q", "-b", "feature")
    (repo.work / "main.py").write_text(fastapi_app("feature")["main.py"])
    git(repo.work, "commit", "-q", "-am", "a feature")
    git(repo.work, "push", "-q", "origin", "feature")
    head = git(repo.work, "rev-parse", "HEAD")
    git(repo.work, "checkout", "-q", "main")
    preview = f"{APP}-pr-1"

    opened = deliver(
        platform,
        github,
        "pull_request",
        pull_request_for(FULL_NAME, action="opened", number=1, head="feature", sha=head),
    )

    assert opened.status_code == 202, opened.text
    deployment = platform.wait_deployment(preview, opened.json()["results"][0]["deployment"])
    assert deployment["status"] == "live", platform.logs(preview, deployment["id"])
    assert deployment["commit"] == head
    assert platform.get_app_page(preview).json()["version"] == "feature"
    assert platform.get_app_page(APP).json()["version"] == "burst-19"  # the app itself is untouched
    (listed,) = platform.call("GET", f"/api/v1/apps/{APP}/previews").json()
    assert (listed["name"], listed["live_deployment"]["id"]) == (preview, deployment["id"])
    assert listed["url"] == f"http://{preview}.localhost:{platform.http_port}/"
    assert containers_of(docker_client, instance, preview)
    assert eventually(lambda: commit_states(github, head, f"dockyard/{preview}")[-1:] == ["success"], 30)
    assert github.deployments and any(
        d["environment"] == preview and d["transient_environment"] for d in github.deployments.values()
    )

    closed = deliver(
        platform,
        github,
        "pull_request",
        pull_request_for(FULL_NAME, action="closed", number=1, head="feature", sha=head),
    )

    assert closed.status_code == 202, closed.text
    assert eventually(lambda: platform.call("GET", f"/api/v1/apps/{preview}").status_code == 404, timeout=60)
    assert platform.get_app_page(preview).status_code == 404
    assert containers_of(docker_client, instance, preview) == []
    assert (
        docker_client.images.list(filters={"label": labels.label_filters(labels.owned(instance, preview))})
        == []
    )
    assert platform.call("GET", f"/api/v1/apps/{APP}/previews").json() == []
    assert platform.get_app_page(APP).json()["version"] == "burst-19"
    # On GitHub, the preview's environment no longer links to a host that is gone.
    (preview_deployment,) = [d["id"] for d in github.deployments.values() if d["environment"] == preview]
    retired = [
        call.body
        for call in github.calls_to("POST", f"/repos/{FULL_NAME}/deployments/{preview_deployment}/statuses")
        if call.body and call.body.get("state") == "inactive"
    ]
    assert len(retired) == 1, retired


def test_deleting_the_app_deletes_its_previews(
    platform: Platform,
    github: GitHubFake,
    repo: Repo,
    installation: int,
    docker_client: docker.DockerClient,
    instance: str,
) -> None:
    head = git(repo.work, "rev-parse", "feature")
    opened = deliver(
        platform,
        github,
        "pull_request",
        pull_request_for(FULL_NAME, action="opened", number=2, head="feature", sha=head),
    )
    preview = f"{APP}-pr-2"
    assert platform.wait_deployment(preview, opened.json()["results"][0]["deployment"])["status"] == "live"

    deleted = platform.call("DELETE", f"/api/v1/apps/{APP}")

    assert deleted.status_code == 204, deleted.text
    for app in (APP, preview):
        assert platform.call("GET", f"/api/v1/apps/{app}").status_code == 404
        assert platform.get_app_page(app).status_code == 404
        assert containers_of(docker_client, instance, app) == []
