"""Registering the Dockyard GitHub App from the browser: a signed `state` ties GitHub's redirect back to
the site administrator who started the flow, and a page posts the manifest form to GitHub for them.

GitHub's redirects carry no bearer token, so the state is what authenticates the callback: it is signed
with the secret key, names the app and organization the administrator chose, and expires within an hour
(as GitHub's code does).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.services.github_app import app_manifest, manifest_form_url
from core.errors import ConfigError, Conflict, Unauthorized
from core.models import GitHubApp
from core.settings import Settings

STATE_TTL = 3600
SETUP_PATH = "/github/setup"
APP_NAME_LIMIT = 34  # GitHub's limit for an app's name


@dataclass(frozen=True)
class Registration:
    """What the administrator asked for: the app's name on GitHub and, optionally, the organization."""

    name: str
    organization: str | None = None


def start_setup(settings: Settings, request: Registration, *, now: float | None = None) -> dict[str, Any]:
    """The signed state, the page that posts the manifest to GitHub, and the form's URL and manifest."""
    name = request.name.strip()
    if not name or len(name) > APP_NAME_LIMIT:
        raise ConfigError(f"must be 1-{APP_NAME_LIMIT} characters, unique on GitHub", where="name")
    checked = Registration(name=name, organization=request.organization or None)
    state = sign_state(settings, checked, now=now)
    return {
        "state": state,
        "setup_url": f"{settings.public_url.rstrip('/')}{SETUP_PATH}?state={state}",
        "form_url": manifest_form_url(settings, organization=checked.organization, state=state),
        "manifest": app_manifest(settings, name=checked.name),
    }


def start_registration(session: Session, settings: Settings, request: Registration) -> dict[str, Any]:
    """`start_setup`, refused (Conflict) when Dockyard has its GitHub App already."""
    existing = session.scalar(select(GitHubApp))
    if existing is not None:
        raise Conflict(f"Dockyard already has the GitHub App {existing.slug} ({existing.html_url})")
    return start_setup(settings, request)


def sign_state(settings: Settings, request: Registration, *, now: float | None = None) -> str:
    """A state naming `request` that `read_state` accepts for an hour."""
    expires = int((now if now is not None else time.time()) + STATE_TTL)
    body = json.dumps({"name": request.name, "org": request.organization, "exp": expires}).encode()
    encoded = base64.urlsafe_b64encode(body).decode().rstrip("=")
    return f"{encoded}.{_signature(settings, encoded)}"


def read_state(settings: Settings, state: str, *, now: float | None = None) -> Registration:
    """The request a state was issued for; Unauthorized when it was not issued here or has expired."""
    refused = Unauthorized(
        "this setup link was not issued by this Dockyard or has expired (links last an hour): start again "
        "with POST /api/v1/github/setup"
    )
    encoded, _, signature = state.partition(".")
    if not encoded or not hmac.compare_digest(signature, _signature(settings, encoded)):
        raise refused
    try:
        body = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
        name, organization, expires = str(body["name"]), body["org"], int(body["exp"])
    except (ValueError, KeyError, TypeError) as error:
        raise refused from error
    if expires < (now if now is not None else time.time()):
        raise refused
    return Registration(name=name, organization=str(organization) if organization else None)


def manifest_page(settings: Settings, state: str) -> str:
    """An HTML page that posts the manifest form to GitHub (GitHub takes the manifest only that way)."""
    request = read_state(settings, state)
    action = manifest_form_url(settings, organization=request.organization, state=state)
    manifest = json.dumps(app_manifest(settings, name=request.name))
    return (
        "<!doctype html>\n<html><head><meta charset='utf-8'><title>Register the Dockyard GitHub App</title>"
        "</head>\n<body onload='document.forms[0].submit()'>\n"
        f"<form method='post' action='{html.escape(action, quote=True)}'>\n"
        f"<input type='hidden' name='manifest' value='{html.escape(manifest, quote=True)}'>\n"
        f"<p>Registering {html.escape(request.name)} on GitHub… "
        "<button type='submit'>Continue to GitHub</button></p>\n</form>\n</body></html>\n"
    )


def _signature(settings: Settings, encoded: str) -> str:
    key = hashlib.sha256(f"dockyard-github-setup:{settings.secret()}".encode()).digest()
    return hmac.new(key, encoded.encode(), hashlib.sha256).hexdigest()
