"""Dockyard's settings: one object, read from `DOCKYARD_*` environment variables."""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("~/.local/share/dockyard")


class Settings(BaseSettings):
    """Every setting Dockyard reads; each is `DOCKYARD_<NAME>` in the environment."""

    model_config = SettingsConfigDict(env_prefix="DOCKYARD_", extra="ignore")

    data_dir: Path = Field(
        DEFAULT_DATA_DIR, description="Where the database, secret key and beat schedule live."
    )
    database_url: str = Field("", description="SQLAlchemy URL; empty means SQLite in the data directory.")
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Redis for Celery and live logs.")
    secret_key: SecretStr | None = Field(
        None, description="Encrypts stored secrets; generated once into the data directory when unset."
    )
    public_url: str = Field("http://localhost:8000", description="Where users and GitHub reach the API.")
    github_api_url: str = Field(
        "https://api.github.com",
        description="GitHub's REST API (GitHub Enterprise Server: https://HOST/api/v3).",
    )
    github_url: str = Field(
        "https://github.com", description="GitHub's web address, where apps are registered and installed."
    )
    apps_domain: str = Field("localhost", description="Apps are served at <name>.<apps_domain>.")
    http_port: int = Field(8080, description="Port the proxy listens on for app traffic.")
    https: Literal["off", "on", "internal"] = Field(
        "off",
        description="HTTPS for app hosts: off (plain HTTP), on (public certificates by ACME, Let's Encrypt) "
        "or internal (Caddy's local CA, for private networks and tests); HTTP then redirects to HTTPS.",
    )
    https_port: int = Field(8443, description="Port the proxy serves HTTPS on when HTTPS is on or internal.")
    acme_email: str = Field(
        "", description="Contact address given to the ACME CA (expiry and problem notices)."
    )
    caddy_admin: str = Field("127.0.0.1:2019", description="Address of Caddy's admin API.")
    base_image: str = Field("python:{version}-slim", description="Base image template for builds.")
    default_python_version: str = Field("3.13", description="Python version when the app names none.")
    python_versions: str = Field(
        "3.10,3.11,3.12,3.13,3.14",
        description="Python versions `requires-python` may pick from (the newest that satisfies it wins).",
    )
    build_ca_bundle: Path | None = Field(
        None, description="CA bundle injected into builds (for TLS-intercepting proxies)."
    )
    build_timeout: int = Field(900, description="Seconds a build may take before it is failed.")
    build_memory: str = Field("2g", description="Memory cap of each build step (Docker notation: 512m, 2g).")
    build_cpu_shares: int = Field(
        512, description="CPU weight of builds; running apps have 1024, so they win when CPU is short."
    )
    startup_timeout: int = Field(60, description="Seconds a new release has to answer its health check.")
    drain_seconds: int = Field(
        30, description="Seconds old web containers keep serving open connections after traffic moved."
    )
    stop_timeout: int = Field(30, description="Seconds a process has to exit after SIGTERM before SIGKILL.")
    release_timeout: int = Field(600, description="Seconds a release command (migrations) may run.")
    keep_releases: int = Field(5, description="Release images kept per app for instant rollbacks.")
    reconcile_interval: int = Field(15, description="Seconds between two reconcile passes.")
    network_pool: str = Field(
        "10.213.0.0/16", description="Private IPv4 range app networks take their /24 subnets from."
    )
    instance: str = Field(
        "dockyard", description="Label value that scopes every Docker object Dockyard owns."
    )

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("build_ca_bundle", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("instance")
    @classmethod
    def _instance_is_a_label(cls, value: str) -> str:
        if not value or not all(c.isalnum() or c == "-" for c in value) or value != value.lower():
            raise ValueError("must be lowercase letters, digits and dashes")
        return value

    @field_validator("network_pool")
    @classmethod
    def _private_range(cls, value: str) -> str:
        try:
            network = ipaddress.ip_network(value.strip())
        except ValueError as error:
            raise ValueError("must be an IPv4 range like 10.213.0.0/16") from error
        if network.version != 4 or not network.is_private or network.prefixlen > 24:
            raise ValueError("must be a private IPv4 range of /24 or larger, like 10.213.0.0/16")
        return str(network)

    @field_validator("build_memory")
    @classmethod
    def _memory_size(cls, value: str) -> str:
        if not re.fullmatch(r"[0-9]+[bkmgBKMG]?", value.strip()):
            raise ValueError("must be a size like 512m or 2g")
        return value.strip()

    @field_validator("python_versions")
    @classmethod
    def _versions(cls, value: str) -> str:
        versions = [v.strip() for v in value.split(",") if v.strip()]
        if not versions or not all(re.fullmatch(r"3\.[0-9]+", v) for v in versions):
            raise ValueError("must be comma-separated versions like 3.12,3.13")
        return ",".join(versions)

    @model_validator(mode="after")
    def _https_port_of_its_own(self) -> Settings:
        if self.https != "off" and self.https_port == self.http_port:
            raise ValueError("DOCKYARD_HTTPS_PORT must differ from DOCKYARD_HTTP_PORT, which redirects to it")
        return self

    @property
    def supported_python_versions(self) -> tuple[str, ...]:
        """The versions `requires-python` may resolve to."""
        return tuple(self.python_versions.split(","))

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL, defaulting to SQLite in the data directory."""
        return self.database_url or f"sqlite:///{self.data_dir / 'dockyard.db'}"

    def secret(self) -> str:
        """The secret key: from the environment, or generated once and kept in the data directory."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
        return path.read_text().strip()

    def app_host(self, app_name: str) -> str:
        """The host name an app is served at."""
        return f"{app_name}.{self.apps_domain}"

    def app_url(self, app_name: str) -> str:
        """The URL an app is served at through the proxy."""
        return self.host_url(self.app_host(app_name))

    def host_url(self, host: str) -> str:
        """The URL the proxy serves `host` at: https on the HTTPS port once HTTPS is on."""
        scheme, port, default = (
            ("http", self.http_port, 80) if self.https == "off" else ("https", self.https_port, 443)
        )
        return f"{scheme}://{host}{'' if port == default else f':{port}'}/"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings."""
    return Settings()
