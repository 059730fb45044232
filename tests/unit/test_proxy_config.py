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


def test_app_route_balances_upstreams_and_keeps_streams_open_across_changes() -> None:
    assert app_route(
        route_id="dockyard-app-blog",
        hosts=["blog.localhost"],
        upstreams=["172.18.0.2:8000", "172.18.0.3:8000"],
    ) == {
        "@id": "dockyard-app-blog",
        "match": [{"host": ["blog.localhost"]}],
        "handle": [
            {
                "handler": "reverse_proxy",
                "upstreams": [{"dial": "172.18.0.2:8000"}, {"dial": "172.18.0.3:8000"}],
                "load_balancing": {
                    "selection_policy": {"policy": "round_robin"},
                    "try_duration": "5s",
                    "try_interval": "250ms",
                },
                "stream_close_delay": "8h",
                "transport": {"protocol": "http", "network_proxy": {"from": "none"}},
            }
        ],
        "terminal": True,
    }


def test_a_request_timeout_caps_only_the_wait_for_a_response() -> None:
    route = app_route(route_id="r", hosts=["h"], upstreams=["u:1"], request_timeout=90)

    assert route["handle"][0]["transport"] == {
        "protocol": "http",
        "network_proxy": {"from": "none"},
        "response_header_timeout": "90s",
    }


def test_route_id_is_scoped_by_instance() -> None:
    assert route_id("dockyard", "blog") == "dockyard-app-blog"
    assert route_id("test-ab12", "blog") == "test-ab12-app-blog"
