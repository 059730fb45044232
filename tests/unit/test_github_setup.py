"""The signed state of the GitHub App setup: accepted as issued for an hour, refused otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.services.github_setup import STATE_TTL, Registration, read_state, sign_state
from core.errors import Unauthorized
from core.settings import Settings

NOW = 1_800_000_000.0


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, secret_key="test-secret")


def test_a_state_names_what_the_admin_asked_for_for_an_hour(settings: Settings) -> None:
    asked = Registration(name="Dockyard <ACME>", organization="octo-org")
    state = sign_state(settings, asked, now=NOW)

    assert read_state(settings, state, now=NOW + STATE_TTL - 1) == asked
    with pytest.raises(Unauthorized, match="has expired"):
        read_state(settings, state, now=NOW + STATE_TTL + 1)


def test_a_state_from_elsewhere_is_refused(settings: Settings, tmp_path: Path) -> None:
    state = sign_state(settings, Registration(name="Dockyard"), now=NOW)
    other_key = Settings(data_dir=tmp_path, secret_key="another-secret")
    body, signature = state.split(".")
    forged_body = sign_state(settings, Registration(name="Evil"), now=NOW).split(".")[0]

    for bad in (f"{forged_body}.{signature}", f"{body}.", body, "", "..", f"{body}.{signature}x"):
        with pytest.raises(Unauthorized):
            read_state(settings, bad, now=NOW)
    with pytest.raises(Unauthorized):
        read_state(other_key, state, now=NOW)
