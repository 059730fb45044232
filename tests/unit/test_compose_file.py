"""docker-compose.yml against the settings: every setting reaches the containers, one way or another."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from core.settings import Settings

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
# What the compose setup decides itself; DOCKYARD_BUILD_CA_BUNDLE is a host file it mounts for builds.
FIXED = {"DOCKYARD_DATA_DIR", "DOCKYARD_REDIS_URL", "DOCKYARD_CADDY_ADMIN"}
MOUNTED = {"DOCKYARD_BUILD_CA_BUNDLE"}


def services() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text())["services"])


def test_every_setting_is_passed_on_or_fixed_in_each_dockyard_service() -> None:
    settings = {f"DOCKYARD_{name.upper()}" for name in Settings.model_fields}
    for name in ("api", "worker", "beat"):
        environment = services()[name]["environment"]
        passed_on = {key for key, value in environment.items() if value is None}
        fixed = {key for key, value in environment.items() if value is not None}
        assert fixed == FIXED, name
        assert passed_on | FIXED | MOUNTED == settings, name


def test_each_service_has_an_explicit_command_and_restarts_on_its_own() -> None:
    for name, service in services().items():
        assert service["command"], name
        assert service["restart"] == "unless-stopped", name


def test_the_containers_that_join_app_networks_never_route_between_them() -> None:
    joining = {
        name
        for name, service in services().items()
        if service.get("labels", {}).get("dockyard.joins_app_networks") == "true"
    }
    assert joining == {"caddy", "worker"}
    for name in joining:
        assert services()[name]["sysctls"] == {"net.ipv4.ip_forward": "0"}
