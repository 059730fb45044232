"""docker-compose.yml against the settings: every setting reaches the containers, one way or another; and
deploy/compose.postgres.yml against docker-compose.yml."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from core.settings import Settings

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
POSTGRES = COMPOSE.parent / "deploy" / "compose.postgres.yml"
DOCKYARD = ("api", "worker", "beat")
# What the compose setup decides itself; DOCKYARD_BUILD_CA_BUNDLE is a host file it mounts for builds.
FIXED = {"DOCKYARD_DATA_DIR", "DOCKYARD_REDIS_URL", "DOCKYARD_CADDY_ADMIN"}
MOUNTED = {"DOCKYARD_BUILD_CA_BUNDLE"}


def services(path: Path = COMPOSE) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text())["services"])


def test_every_setting_is_passed_on_or_fixed_in_each_dockyard_service() -> None:
    settings = {f"DOCKYARD_{name.upper()}" for name in Settings.model_fields}
    for name in DOCKYARD:
        environment = services()[name]["environment"]
        passed_on = {key for key, value in environment.items() if value is None}
        fixed = {key for key, value in environment.items() if value is not None}
        assert fixed == FIXED, name
        assert passed_on | FIXED | MOUNTED == settings, name


def test_each_service_has_an_explicit_command_and_restarts_on_its_own() -> None:
    for name, service in (services(POSTGRES) | services()).items():
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


def test_the_postgresql_override_gives_dockyard_the_database_it_creates_once_it_is_ready() -> None:
    postgres = services(POSTGRES)["postgres"]
    user, database = postgres["environment"]["POSTGRES_USER"], postgres["environment"]["POSTGRES_DB"]
    assert postgres["volumes"] == ["postgres:/var/lib/postgresql/data"]
    assert postgres["healthcheck"]["test"][-4:] == ["-U", user, "-d", database]
    for name in DOCKYARD:
        override = services(POSTGRES)[name]
        # Only what docker-compose.yml passes on from the shell, so nothing it fixes is overridden.
        assert list(override["environment"]) == ["DOCKYARD_DATABASE_URL"]
        assert services()[name]["environment"]["DOCKYARD_DATABASE_URL"] is None
        # As Compose makes it: the password in place of its variable.
        template = override["environment"]["DOCKYARD_DATABASE_URL"]
        url = urlsplit(re.sub(r"\$\{POSTGRES_PASSWORD:\?[^}]*\}", "pw", template))
        assert (url.scheme, url.username, url.hostname, url.path) == (
            "postgresql+psycopg",
            user,
            "postgres",
            f"/{database}",
        )
        assert override["depends_on"] == {"postgres": {"condition": "service_healthy"}}
