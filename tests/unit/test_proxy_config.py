"""Caddy config builders: whole dicts as sent to the admin API."""

from __future__ import annotations

from scheduler.proxy import NOT_FOUND_BODY, app_route, route_id, server_config


def test_server_config_is_plain_http_with_only_the_404_fallback() -> None:
    assert server_config(http_port=8080) == {
        "listen": [":8080"],
        "automatic_https": {"disable": True},
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


def test_app_route_proxies_hosts_to_the_upstream_and_keeps_streams_open_across_changes() -> None:
    assert app_route(route_id="dockyard-app-blog", hosts=["blog.localhost"], upstream="172.18.0.2:8000") == {
        "@id": "dockyard-app-blog",
        "match": [{"host": ["blog.localhost"]}],
        "handle": [
            {
                "handler": "reverse_proxy",
                "upstreams": [{"dial": "172.18.0.2:8000"}],
                "stream_close_delay": "8h",
                "transport": {"protocol": "http", "network_proxy": {"from": "none"}},
            }
        ],
        "terminal": True,
    }


def test_route_id_is_scoped_by_instance() -> None:
    assert route_id("dockyard", "blog") == "dockyard-app-blog"
    assert route_id("test-ab12", "blog") == "test-ab12-app-blog"
