"""Desired state: whole ServiceSpecs from web_service()."""

from __future__ import annotations

from scheduler.desired import ServiceSpec, app_network, volume_name, web_service


def test_web_service_derives_every_name_and_label() -> None:
    spec = web_service(
        instance="dockyard",
        app="blog",
        release=7,
        image="dockyard/blog:7",
        env={"DEBUG": "0"},
        volumes={"media": "/app/media"},
        command="gunicorn site.wsgi --bind 0.0.0.0:$PORT",
    )

    assert spec == ServiceSpec(
        instance="dockyard",
        app="blog",
        service="web",
        release=7,
        replica=1,
        image="dockyard/blog:7",
        command="gunicorn site.wsgi --bind 0.0.0.0:$PORT",
        env={"DEBUG": "0", "PORT": "8000"},
        port=8000,
        volumes={"dockyard-blog-media": "/app/media"},
        network="dockyard-blog",
        name="dockyard-blog-web-7-1",
        labels={
            "dockyard.instance": "dockyard",
            "dockyard.app": "blog",
            "dockyard.service": "web",
            "dockyard.release": "7",
        },
    )


def test_web_service_keeps_image_cmd_and_overrides_a_user_port() -> None:
    spec = web_service(
        instance="test-1", app="api", release=1, image="img:1", env={"PORT": "5000"}, volumes={}
    )

    assert spec == ServiceSpec(
        instance="test-1",
        app="api",
        service="web",
        release=1,
        replica=1,
        image="img:1",
        command=None,
        env={"PORT": "8000"},
        port=8000,
        volumes={},
        network="test-1-api",
        name="test-1-api-web-1-1",
        labels={
            "dockyard.instance": "test-1",
            "dockyard.app": "api",
            "dockyard.service": "web",
            "dockyard.release": "1",
        },
    )


def test_names_are_scoped_by_instance_and_app() -> None:
    assert app_network("dockyard", "blog") == "dockyard-blog"
    assert volume_name("dockyard", "blog", "data") == "dockyard-blog-data"
