"""Settings a user relies on: the secret key survives restarts, URLs follow the documented shapes."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from core.settings import Settings


def test_the_secret_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path).secret()
    again = Settings(data_dir=tmp_path).secret()

    assert first == again
    assert len(first) >= 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_a_secret_key_from_the_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKYARD_SECRET_KEY", "from-the-environment")

    assert Settings(data_dir=tmp_path).secret() == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_app_urls_follow_the_settings(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, apps_domain="apps.example.com", http_port=80)

    assert settings.app_url("blog") == "http://blog.apps.example.com/"
    assert Settings(data_dir=tmp_path).app_url("blog") == "http://blog.localhost:8080/"
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path / 'dockyard.db'}"


def test_instance_must_be_a_label_value(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="lowercase letters, digits and dashes"):
        Settings(data_dir=tmp_path, instance="My Instance")


def test_build_limits_and_python_versions_are_checked(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, python_versions=" 3.12, 3.13 ", build_memory="512m")

    assert settings.supported_python_versions == ("3.12", "3.13")
    with pytest.raises(ValidationError, match="a size like 512m or 2g"):
        Settings(data_dir=tmp_path, build_memory="lots")
    with pytest.raises(ValidationError, match=r"versions like 3\.12,3\.13"):
        Settings(data_dir=tmp_path, python_versions="3.12,latest")
