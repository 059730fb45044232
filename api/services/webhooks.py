"""GitHub webhooks: verify, decide, record — and say why for every delivery."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from githubkit.webhooks import verify
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.services.deliveries import record_delivery
from api.services.deployments import Trigger, request_deployment
from core import crypto
from core.errors import DockyardError, NotFound, Unauthorized
from core.models import App, Deployment, WebhookDelivery
from core.settings import Settings


class BadWebhook(DockyardError):
    """A delivery GitHub should not have sent this way (form-encoded, not JSON)."""

    status = 400
    title = "Bad webhook"


@dataclass
class AppDecision:
    """What one delivery meant for one app."""

    app: str
    decision: str
    deployment: int | None = None


@dataclass
class WebhookOutcome:
    """The answer to a delivery; `deployments` are the ids to enqueue after the commit."""

    event: str
    delivery: str
    results: list[AppDecision] = field(default_factory=list)

    @property
    def deployments(self) -> list[int]:
        return [result.deployment for result in self.results if result.deployment is not None]


def push_decision(payload: dict, *, branch: str) -> str | None:
    """Why a push is ignored for an app tracking `branch`, or None when it should deploy."""
    ref = str(payload.get("ref", ""))
    if payload.get("deleted"):
        return f"ignored: `{ref}` was deleted"
    if not ref.startswith("refs/heads/"):
        return f"ignored: push to `{ref}` is not a branch, app tracks `{branch}`"
    pushed = ref.removeprefix("refs/heads/")
    if pushed != branch:
        return f"ignored: push to `{pushed}`, app tracks `{branch}`"
    if not payload.get("after") or set(str(payload["after"])) == {"0"}:
        return "ignored: the push names no commit"
    return None


def handle_github_delivery(
    session: Session,
    *,
    settings: Settings,
    event: str,
    delivery_id: str,
    signature_256: str | None,
    signature_1: str | None,
    body: bytes,
) -> WebhookOutcome:
    """Verify a delivery against the secrets of the apps tracking its repository and act on it."""
    if not signature_256:
        hint = "only a SHA-1 signature was sent; " if signature_1 else ""
        raise Unauthorized(
            f"{hint}X-Hub-Signature-256 is missing: set the webhook's secret to the one Dockyard showed "
            "when the app was created"
        )
    try:
        payload = json.loads(body)
    except ValueError as error:
        raise BadWebhook(
            "the body is not JSON: set the webhook's content type to application/json"
        ) from error
    repository = payload.get("repository") if isinstance(payload, dict) else None
    full_name = str(repository.get("full_name", "")) if isinstance(repository, dict) else ""
    if not full_name:
        raise BadWebhook("the payload names no repository; Dockyard handles repository webhooks")
    apps = list(session.scalars(select(App).where(App.repo_full_name.ilike(full_name)).order_by(App.name)))
    apps = [app for app in apps if app.repo_full_name.lower() == full_name.lower()]
    if not apps:
        raise NotFound(f"no app tracks {full_name}; create one with this repository's URL first")

    signed = [
        app
        for app in apps
        if verify(crypto.decrypt(settings.secret(), app.webhook_secret), body, signature_256)
    ]
    if not signed:
        for app in apps:
            record_delivery(
                session,
                app=app,
                delivery_id=delivery_id,
                event=event,
                signature_ok=False,
                decision="rejected: bad signature",
            )
        session.commit()  # the delivery log keeps rejections although the request fails
        raise Unauthorized(f"the signature matches no app tracking {full_name}: check the webhook's secret")

    outcome = WebhookOutcome(event=event, delivery=delivery_id)
    for app in signed:
        outcome.results.append(_decide(session, app, event=event, delivery_id=delivery_id, payload=payload))
    return outcome


def _decide(session: Session, app: App, *, event: str, delivery_id: str, payload: dict) -> AppDecision:
    earlier = session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.delivery_id == delivery_id,
            WebhookDelivery.app_id == app.id,
            WebhookDelivery.signature_ok.is_(True),
        )
    )
    if earlier is not None:
        decision = f"duplicate: delivery {delivery_id} was already handled ({earlier.decision})"
        record_delivery(
            session, app=app, delivery_id=delivery_id, event=event, signature_ok=True, decision=decision
        )
        return AppDecision(app=app.name, decision=decision)

    deployment: Deployment | None = None
    if event == "ping":
        decision = "pong: the webhook reaches Dockyard and its signature is valid"
    elif event == "push":
        ignored = push_decision(payload, branch=app.branch)
        if ignored is None:
            commit = str(payload["after"])
            deployment = request_deployment(
                session, app=app, trigger=Trigger.PUSH, ref=app.branch, commit=commit
            )
            decision = f"deploying {commit[:7]} as deployment {deployment.id}"
        else:
            decision = ignored
    else:
        decision = f"ignored: `{event}` events do not deploy"
    record_delivery(
        session,
        app=app,
        delivery_id=delivery_id,
        event=event,
        signature_ok=True,
        decision=decision,
        deployment=deployment,
    )
    return AppDecision(app=app.name, decision=decision, deployment=deployment.id if deployment else None)


def forget_delivery(session: Session, delivery_id: str) -> None:
    """Drop a delivery's records, so that GitHub's redelivery of it is handled as new."""
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.delivery_id == delivery_id))
