"""Generic deploy hooks: a secret URL that CI systems and other forges POST to, to deploy an app.

The URL carries the app's name and a random token; only the token's SHA-256 is stored, so the URL is
shown once and a new one replaces it. A wrong token, a disabled hook and an unknown app all answer the
same 404, and the token is compared in constant time. Accepted and rejected calls go to the app's
delivery log, like GitHub's deliveries.
"""

from __future__ import annotations

import hmac
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.services.deliveries import record_delivery
from api.services.deployments import Trigger, request_deployment
from core import crypto
from core.errors import ConfigError, NotFound
from core.models import App, Deployment
from core.settings import Settings

EVENT = "deploy-hook"
# Compared against when the app is unknown or has no hook, so every call takes the same path.
_NO_HOOK = crypto.hash_token("")


def hook_url(settings: Settings, app: App, token: str) -> str:
    """The URL that deploys `app` when POSTed to."""
    return f"{settings.public_url.rstrip('/')}/hooks/deploy/{app.name}/{token}"


def create_hook(app: App) -> str:
    """Give `app` a new hook token, replacing any earlier one; returns it in clear, once."""
    token = crypto.new_token("dh")
    app.deploy_hook_hash = crypto.hash_token(token)
    return token


def disable_hook(app: App) -> None:
    """Make the app's hook URL answer 404 until a new one is created."""
    app.deploy_hook_hash = None


def hook_ref(ref: str | None) -> str | None:
    """`ref` checked as a branch, tag or commit; other forges' `refs/heads/x` and `refs/tags/x` are x."""
    if ref is None:
        return None
    ref = ref.strip().removeprefix("refs/heads/").removeprefix("refs/tags/")
    if (
        not ref
        or len(ref) > 255
        or ref.startswith("-")
        or any(c.isspace() or not c.isprintable() for c in ref)
    ):
        raise ConfigError("must be a branch, tag or commit, such as main or v1.2", where="ref")
    return ref


def call_hook(session: Session, *, app_name: str, token: str, ref: str | None) -> Deployment:
    """Queue a deployment of `ref` (default: the app's branch) when `token` is the app's hook token.

    A rejected call is committed to the delivery log before NotFound is raised; enqueue an accepted
    deployment after the commit.
    """
    app = session.scalar(select(App).where(App.name == app_name))
    stored = app.deploy_hook_hash if app is not None and app.deploy_hook_hash else _NO_HOOK
    matches = hmac.compare_digest(crypto.hash_token(token), stored)
    delivery_id = str(uuid.uuid4())
    if app is None or app.deploy_hook_hash is None or not matches:
        if app is not None:
            reason = "wrong token (an old or mistyped URL)" if app.deploy_hook_hash else "no deploy hook"
            record_delivery(
                session,
                app=app,
                delivery_id=delivery_id,
                event=EVENT,
                signature_ok=False,
                decision=f"rejected: {reason}",
            )
            session.commit()  # the delivery log keeps rejections although the request fails
        raise NotFound(
            "no such deploy hook: `POST /api/v1/apps/{name}/deploy-hook` creates one and shows its URL"
        )
    deployment = request_deployment(session, app=app, trigger=Trigger.HOOK, ref=hook_ref(ref))
    record_delivery(
        session,
        app=app,
        delivery_id=delivery_id,
        event=EVENT,
        signature_ok=True,
        decision=f"deploy {deployment.ref} → deployment {deployment.id}",
        deployment=deployment,
    )
    return deployment
