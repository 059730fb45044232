"""HTTPS and custom domains in the Caddy config: whole dicts as sent to the admin API, and the URLs apps
are announced at."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from api.services.routing import app_hosts, app_route, tls_policy
from core.settings import Settings
from scheduler.proxy import (
    INTERNAL_ISSUER,
    NOT_FOUND_BODY,
    acme_issuer,
    redirect_server_config,
    tls_server_config,
)
from scheduler.proxy import app_route as proxy_app_route


def settings(tmp_path: Path, **values: object) -> Settings:
    return Settings(data_dir=tmp_path, instance="dockyard", **values)  # type: ignore[arg-type]


def test_the_https_server_always_speaks_tls_and_leaves_redirects_to_dockyard() -> None:
    assert tls_server_config(https_port=8443) == {
        "listen": [":8443"],
        "automatic_https": {"disable_redirects": True},
        "tls_connection_policies": [{}],
        "routes": [
            {
                "handle": [
                    {
                        "handler": "static_response",
                        "status_code": 404,
                        "headers": {"Content-Type": ["text/plain; charset=utf-8"]},
                        "body": NOT_FOUND_BODY,
                    }
                ],
                "terminal": True,
            }
        ],
    }


@pytest.mark.parametrize(
    ("https_port", "location"),
    [
        (443, "https://{http.request.host}{http.request.uri}"),
        (8443, "https://{http.request.host}:8443{http.request.uri}"),
    ],
)
def test_the_http_server_redirects_every_request_to_the_same_url_over_https(
    https_port: int, location: str
) -> None:
    assert redirect_server_config(http_port=80, https_port=https_port) == {
        "listen": [":80"],
        "automatic_https": {"disable": True},
        "routes": [
            {
                "handle": [
                    {"handler": "static_response", "status_code": 308, "headers": {"Location": [location]}}
                ],
                "terminal": True,
            }
        ],
    }


def test_the_acme_issuer_gives_the_contact_and_where_challenges_arrive() -> None:
    assert acme_issuer(email="ops@example.com", http_port=8080, https_port=8443) == {
        "module": "acme",
        "email": "ops@example.com",
        "challenges": {"http": {"alternate_port": 8080}, "tls-alpn": {"alternate_port": 8443}},
    }
    assert "email" not in acme_issuer(email="", http_port=80, https_port=443)


def test_the_tls_policy_is_a_catch_all_with_the_issuer_https_names(tmp_path: Path) -> None:
    internal = settings(tmp_path, https="internal")
    public = settings(tmp_path, https="on", http_port=80, https_port=443, acme_email="ops@example.com")

    assert tls_policy(internal) == {"@id": "dockyard-tls", "issuers": [INTERNAL_ISSUER]}
    assert INTERNAL_ISSUER == {"module": "internal"}
    assert tls_policy(public) == {
        "@id": "dockyard-tls",
        "issuers": [
            {
                "module": "acme",
                "email": "ops@example.com",
                "challenges": {"http": {"alternate_port": 80}, "tls-alpn": {"alternate_port": 443}},
            }
        ],
    }


def test_an_apps_route_matches_its_own_host_first_then_its_domains_in_order(tmp_path: Path) -> None:
    configured = settings(tmp_path, apps_domain="apps.example.com")

    route = app_route(
        configured, "blog", ["10.213.0.2:8000"], domains=["www.example.com", "blog.example.org"]
    )

    assert route == proxy_app_route(
        route_id="dockyard-app-blog",
        hosts=["blog.apps.example.com", "blog.example.org", "www.example.com"],
        upstreams=["10.213.0.2:8000"],
    )
    assert route["match"] == [{"host": ["blog.apps.example.com", "blog.example.org", "www.example.com"]}]
    assert app_hosts(configured, "blog") == ["blog.apps.example.com"]


@pytest.mark.parametrize(
    ("values", "app_url", "domain_url"),
    [
        ({}, "http://blog.localhost:8080/", "http://www.example.com:8080/"),
        ({"http_port": 80}, "http://blog.localhost/", "http://www.example.com/"),
        ({"https": "internal"}, "https://blog.localhost:8443/", "https://www.example.com:8443/"),
        (
            {"https": "on", "http_port": 80, "https_port": 443},
            "https://blog.localhost/",
            "https://www.example.com/",
        ),
    ],
)
def test_urls_follow_the_scheme_and_port_apps_are_served_on(
    tmp_path: Path, values: dict[str, object], app_url: str, domain_url: str
) -> None:
    configured = settings(tmp_path, **values)

    assert configured.app_url("blog") == app_url
    assert configured.host_url("www.example.com") == domain_url


def test_https_needs_a_port_of_its_own(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="DOCKYARD_HTTPS_PORT must differ from DOCKYARD_HTTP_PORT"):
        settings(tmp_path, https="on", http_port=8443, https_port=8443)
    with pytest.raises(ValidationError, match="https"):
        settings(tmp_path, https="yes")
