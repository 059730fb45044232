"""GET /api/v1/apps/{name}/deployments: newest first, filtered by status, trigger and commit prefix, and
paged with a `Link: rel="next"` header that keeps the filters."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from core import db
from core.models import Deployment

# (status, trigger, commit) of deployments 1..6, oldest first.
HISTORY = [
    ("failed", "push", "aaaa1111"),
    ("live", "push", "bbbb2222"),
    ("superseded", "api", "bbbb3333"),
    ("failed", "api", "cccc4444"),
    ("live", "rollback", "bbbb2222"),
    ("queued", "api", None),
]


def make_history(client: TestClient, auth: dict[str, str], name: str = "hello") -> list[int]:
    """The app `name` with HISTORY's deployments; returns their ids, oldest first."""
    created = client.post(
        "/api/v1/apps",
        json={"name": name, "repo_url": "https://github.com/octo/hello.git", "branch": "main"},
        headers=auth,
    )
    assert created.status_code == 201, created.text
    ids = [int(client.post(f"/api/v1/apps/{name}/deployments", headers=auth).json()["id"]) for _ in HISTORY]
    with db.session_scope() as session:
        for deployment_id, (status, trigger, commit) in zip(ids, HISTORY, strict=True):
            deployment = session.get(Deployment, deployment_id)
            assert deployment is not None
            deployment.status, deployment.trigger = status, trigger
            deployment.commit = commit and commit + "0" * 32
    return ids


def listed(client: TestClient, auth: dict[str, str], query: str = "") -> list[int]:
    response = client.get(f"/api/v1/apps/hello/deployments{query}", headers=auth)
    assert response.status_code == 200, response.text
    return [row["id"] for row in response.json()]


def test_newest_first_and_each_filter_narrows(
    client: TestClient, auth: dict[str, str], queued: Callable[[], list[int]]
) -> None:
    ids = make_history(client, auth)
    make_history(client, auth, "other")

    assert listed(client, auth) == ids[::-1]
    assert listed(client, auth, "?status=failed") == [ids[3], ids[0]]
    assert listed(client, auth, "?trigger=push") == [ids[1], ids[0]]
    assert listed(client, auth, "?commit=BBBB2") == [ids[4], ids[1]]
    assert listed(client, auth, "?commit=bbbb&trigger=api") == [ids[2]]
    assert listed(client, auth, "?status=live&trigger=rollback") == [ids[4]]
    assert listed(client, auth, "?status=building") == []
    assert listed(client, auth, "?trigger=nothing") == []


def test_pages_follow_the_link_header_and_keep_the_filters(
    client: TestClient, auth: dict[str, str], queued: Callable[[], list[int]]
) -> None:
    ids = make_history(client, auth)

    first = client.get("/api/v1/apps/hello/deployments?status=failed&limit=1", headers=auth)
    assert [row["id"] for row in first.json()] == [ids[3]]
    assert first.headers["link"] == (
        "<http://localhost:8000/api/v1/apps/hello/deployments"
        f'?status=failed&limit=1&before={ids[3]}>; rel="next"'
    )
    second = client.get(first.links["next"]["url"], headers=auth)
    assert [row["id"] for row in second.json()] == [ids[0]]
    assert "link" not in second.headers

    seen, url = [], "/api/v1/apps/hello/deployments?limit=4"
    while url:
        page = client.get(url, headers=auth)
        seen += [row["id"] for row in page.json()]
        url = page.links.get("next", {}).get("url")
    assert seen == ids[::-1]


def test_bad_filters_and_limits_are_422_naming_the_parameter(
    client: TestClient, auth: dict[str, str], queued: Callable[[], list[int]]
) -> None:
    make_history(client, auth)

    for query, where in (
        ("?status=done", "status"),
        ("?commit=xyz1", "commit"),
        ("?commit=abc", "commit"),
        ("?limit=0", "limit"),
        ("?limit=201", "limit"),
        ("?before=0", "before"),
    ):
        response = client.get(f"/api/v1/apps/hello/deployments{query}", headers=auth)
        assert response.status_code == 422, query
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["where"] == where
    assert len(listed(client, auth, "?limit=200")) == len(HISTORY)


def test_deployments_carry_their_commits_author_and_subject(
    client: TestClient, auth: dict[str, str], queued: Callable[[], list[int]]
) -> None:
    ids = make_history(client, auth)
    with db.session_scope() as session:
        deployment = session.get(Deployment, ids[0])
        assert deployment is not None
        deployment.commit_author, deployment.commit_message = "Ada Lovelace", "Compute Bernoulli numbers"

    oldest = client.get(f"/api/v1/apps/hello/deployments/{ids[0]}", headers=auth).json()
    newest = client.get("/api/v1/apps/hello/deployments", headers=auth).json()[0]

    assert (oldest["commit_author"], oldest["commit_message"]) == (
        "Ada Lovelace",
        "Compute Bernoulli numbers",
    )
    assert (newest["commit_author"], newest["commit_message"]) == (None, None)
