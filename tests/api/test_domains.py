"""Custom domains through the API: host names checked and normalized, one app per host name (409 naming the
other app only to those who can see it), WRITE to change and READ to list, and the app's view shows them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from core.db import session_scope
from core.models import App, Deployment, Domain
from core.settings import get_settings
from tests.api.test_access import user_in
from tests.platform import free_port

REPO = "https://github.com/o/hello.git"
PROBLEM_JSON = "application/problem+json"


@pytest.fixture
def blog(client: TestClient, auth: dict[str, str]) -> str:
    created = client.post("/api/v1/apps", json={"name": "blog", "repo_url": REPO}, headers=auth)
    assert created.status_code == 201, created.text
    return "blog"


def add(client: TestClient, headers: dict[str, str], app: str, hostname: str) -> tuple[int, dict]:
    answer = client.post(f"/api/v1/apps/{app}/domains", json={"hostname": hostname}, headers=headers)
    return answer.status_code, answer.json()


def test_a_domain_is_added_listed_shown_on_the_app_and_removed(
    client: TestClient, auth: dict[str, str], blog: str
) -> None:
    status, domain = add(client, auth, blog, "www.example.com")

    assert status == 201
    assert domain["hostname"] == "www.example.com"
    assert domain["url"] == "http://www.example.com:8080/"
    listed = client.get(f"/api/v1/apps/{blog}/domains", headers=auth).json()
    assert listed == [domain]
    shown = client.get(f"/api/v1/apps/{blog}", headers=auth).json()
    assert (shown["url"], shown["domains"]) == ("http://blog.localhost:8080/", ["www.example.com"])

    removed = client.delete(f"/api/v1/apps/{blog}/domains/www.example.com", headers=auth)

    assert removed.status_code == 204
    assert client.get(f"/api/v1/apps/{blog}/domains", headers=auth).json() == []
    assert client.get(f"/api/v1/apps/{blog}", headers=auth).json()["domains"] == []


def test_domains_are_listed_by_host_name(client: TestClient, auth: dict[str, str], blog: str) -> None:
    for hostname in ("www.example.com", "api.example.com", "example.org"):
        assert add(client, auth, blog, hostname)[0] == 201

    listed = client.get(f"/api/v1/apps/{blog}/domains", headers=auth).json()

    assert [domain["hostname"] for domain in listed] == ["api.example.com", "example.org", "www.example.com"]


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("WWW.Example.COM", "www.example.com"),
        ("  shop.example.com.  ", "shop.example.com"),
        ("Bücher.example", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ],
)
def test_host_names_are_stored_as_caddy_matches_them(
    client: TestClient, auth: dict[str, str], blog: str, given: str, stored: str
) -> None:
    status, domain = add(client, auth, blog, given)

    assert (status, domain["hostname"]) == (201, stored)
    with session_scope() as session:
        assert list(session.scalars(select(Domain.hostname))) == [stored]


@pytest.mark.parametrize(
    ("hostname", "says"),
    [
        ("*.example.com", "wildcard domains are not supported"),
        ("10.0.0.1", "not an IP address"),
        ("https://www.example.com/", "without scheme, port or path"),
        ("www.example.com:8443", "without scheme, port or path"),
        ("intranet", "must be a fully qualified host name"),
        ("under_score.example.com", "is not a valid host name"),
        ("-dash.example.com", "is not a valid host name"),
        (f"{'a' * 64}.example.com", "is not a valid host name"),
        ("", "must be a host name"),
        ("blog.localhost", "is in the apps domain localhost, where each app already answers"),
        ("other.localhost", "is in the apps domain localhost"),
    ],
)
def test_what_cannot_be_a_domain_is_refused_saying_why(
    client: TestClient, auth: dict[str, str], blog: str, hostname: str, says: str
) -> None:
    response = client.post(f"/api/v1/apps/{blog}/domains", json={"hostname": hostname}, headers=auth)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["where"] == "hostname"
    assert says in response.json()["detail"]
    with session_scope() as session:
        assert session.scalar(select(Domain.id)) is None


def test_adding_a_domain_the_app_has_changes_nothing(
    client: TestClient, auth: dict[str, str], blog: str
) -> None:
    first = add(client, auth, blog, "www.example.com")

    again = add(client, auth, blog, "WWW.example.com")

    assert again == (200, first[1])


def test_a_domain_of_another_app_you_see_is_a_409_naming_it(
    client: TestClient, auth: dict[str, str], blog: str
) -> None:
    client.post("/api/v1/apps", json={"name": "shop", "repo_url": REPO}, headers=auth)
    add(client, auth, blog, "www.example.com")

    status, problem = add(client, auth, "shop", "www.example.com")

    assert status == 409
    assert problem["detail"] == (
        "www.example.com is already a domain of app 'blog'; remove it there first "
        "(`DELETE /api/v1/apps/blog/domains/www.example.com`)"
    )


def test_a_domain_of_an_app_you_cannot_see_is_a_409_that_does_not_name_it(
    client: TestClient, auth: dict[str, str]
) -> None:
    for team in ("alpha", "beta"):
        client.post("/api/v1/teams", json={"name": team}, headers=auth)
        client.post(
            "/api/v1/apps", json={"name": f"{team}-app", "repo_url": REPO, "team": team}, headers=auth
        )
    add(client, auth, "alpha-app", "www.example.com")
    bob = user_in(client, auth, "bob", "beta", "member")

    status, problem = add(client, bob, "beta-app", "www.example.com")

    assert status == 409
    assert problem["detail"] == (
        "www.example.com is already a domain of another app on this Dockyard; its owner must remove it first"
    )
    assert "alpha" not in problem["detail"]


def test_a_viewer_lists_domains_but_cannot_change_them(
    client: TestClient, auth: dict[str, str], blog: str
) -> None:
    client.post("/api/v1/teams", json={"name": "alpha"}, headers=auth)
    client.post("/api/v1/apps", json={"name": "alpha-app", "repo_url": REPO, "team": "alpha"}, headers=auth)
    add(client, auth, "alpha-app", "www.example.com")
    viewer = user_in(client, auth, "victor", "alpha", "viewer")
    member = user_in(client, auth, "mia", "alpha", "member")

    listed = client.get("/api/v1/apps/alpha-app/domains", headers=viewer)
    refused_add = client.post(
        "/api/v1/apps/alpha-app/domains", json={"hostname": "api.example.com"}, headers=viewer
    )
    refused_remove = client.delete("/api/v1/apps/alpha-app/domains/www.example.com", headers=viewer)
    added_by_member = add(client, member, "alpha-app", "api.example.com")

    assert [domain["hostname"] for domain in listed.json()] == ["www.example.com"]
    assert (refused_add.status_code, refused_remove.status_code) == (403, 403)
    assert refused_add.json()["detail"].startswith("your role in team 'alpha' is viewer;")
    assert added_by_member[0] == 201
    # blog is in the site administrator's team, which neither of them is in.
    assert client.get("/api/v1/apps/blog/domains", headers=member).status_code == 404


def test_removing_a_domain_the_app_does_not_have_is_404(
    client: TestClient, auth: dict[str, str], blog: str
) -> None:
    response = client.delete(f"/api/v1/apps/{blog}/domains/www.example.com", headers=auth)

    assert response.status_code == 404
    assert response.json()["detail"] == (
        "app 'blog' has no domain 'www.example.com'; `GET /api/v1/apps/blog/domains` lists them"
    )


def test_a_domain_is_removed_by_any_spelling_of_its_name(
    client: TestClient, auth: dict[str, str], blog: str
) -> None:
    add(client, auth, blog, "bücher.example")

    response = client.delete(f"/api/v1/apps/{blog}/domains/B%C3%BCcher.Example", headers=auth)

    assert response.status_code == 204
    assert client.get(f"/api/v1/apps/{blog}/domains", headers=auth).json() == []


def test_a_deleted_apps_domains_are_free_for_another_app(
    client: TestClient, auth: dict[str, str], blog: str
) -> None:
    client.post("/api/v1/apps", json={"name": "shop", "repo_url": REPO}, headers=auth)
    add(client, auth, blog, "www.example.com")

    with session_scope() as session:  # what `DELETE /api/v1/apps/blog` does to the rows, without a proxy
        session.delete(session.scalar(select(App).where(App.name == blog)))

    assert add(client, auth, "shop", "www.example.com")[0] == 201


def test_with_https_the_app_and_domain_urls_are_https(
    client: TestClient, auth: dict[str, str], blog: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKYARD_HTTPS", "internal")
    monkeypatch.setenv("DOCKYARD_HTTPS_PORT", "443")
    get_settings.cache_clear()

    status, domain = add(client, auth, blog, "www.example.com")

    assert (status, domain["url"]) == (201, "https://www.example.com/")
    assert client.get(f"/api/v1/apps/{blog}", headers=auth).json()["url"] == "https://blog.localhost/"


def test_on_a_live_app_a_proxy_that_does_not_answer_is_a_503_that_says_the_domain_is_saved(
    client: TestClient, auth: dict[str, str], blog: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with session_scope() as session:
        app = session.scalar(select(App).where(App.name == blog))
        assert app is not None
        session.add(Deployment(app_id=app.id, trigger="push", status="live", image="test/blog:1"))
    monkeypatch.setenv("DOCKYARD_CADDY_ADMIN", f"127.0.0.1:{free_port()}")
    get_settings.cache_clear()

    response = client.post(f"/api/v1/apps/{blog}/domains", json={"hostname": "www.example.com"}, headers=auth)

    assert response.status_code == 503
    assert response.json()["detail"].startswith("the change is saved, but the proxy did not take it (Caddy")
    assert response.json()["detail"].endswith("the next reconcile pass applies it once Caddy answers")
    assert [d["hostname"] for d in client.get(f"/api/v1/apps/{blog}/domains", headers=auth).json()] == [
        "www.example.com"
    ]
