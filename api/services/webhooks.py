"""GitHub webhooks: verify, decide, record — and say why for every delivery.

A delivery is signed either with the Dockyard GitHub App's webhook secret (for the apps connected through
the App, and the App's own `installation` events) or with one app's own secret (a webhook set up by hand on
the repository). Deliveries about no app in particular land in the GitHub App's delivery log.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from githubkit.webhooks import verify
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.services.deliveries import record_delivery
from api.services.deployments import Trigger, request_deployment
from api.services.github_installations import apply_installation_event, apply_repositories_event
from api.services.paging import Page, PageRequest, keyset_page
from api.services.previews import Teardown, handle_pull_request
from core import crypto
from core.errors import DockyardError, NotFound, Unauthorized
from core.models import App, Deployment, GitHubApp, WebhookDelivery
from core.settings import Settings

INSTALLATION_EVENTS: dict[str, Callable[[Session, dict[str, Any]], str]] = {
    "installation": apply_installation_event,
    "installation_repositories": apply_repositories_event,
}


class BadWebhook(DockyardError):
    """A delivery GitHub should not have sent this way (form-encoded, not JSON)."""

    status = 400
    title = "Bad webhook"


@dataclass
class AppDecision:
    """What one delivery meant for one app; `teardown` is a preview to remove after the commit."""

    app: str
    decision: str
    deployment: int | None = None
    teardown: Teardown | None = None


@dataclass
class WebhookOutcome:
    """The answer to a delivery; `deployments` and `teardowns` are the work to enqueue after the commit.

    `decision` says what a delivery about no app in particular (installation, the App's ping) did.
    """

    event: str
    delivery: str
    results: list[AppDecision] = field(default_factory=list)
    decision: str | None = None

    @property
    def deployments(self) -> list[int]:
        return [result.deployment for result in self.results if result.deployment is not None]

    @property
    def teardowns(self) -> list[Teardown]:
        return [result.teardown for result in self.results if result.teardown is not None]


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
    """Verify a delivery against the GitHub App's secret, else the secrets of the apps tracking its
    repository, and act on it."""
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
    if not isinstance(payload, dict):
        raise BadWebhook("the body is not a JSON object, as GitHub's deliveries are")
    github_app = session.scalar(select(GitHubApp))
    if github_app is not None and verify(
        crypto.decrypt(settings.secret(), github_app.webhook_secret), body, signature_256
    ):
        return _from_github_app(session, settings, event=event, delivery_id=delivery_id, payload=payload)

    full_name = _repository(payload)
    apps = _tracking(session, full_name) if full_name else []
    if not apps and github_app is not None:
        tracking = f"an app tracking {full_name}" if full_name else "any app"
        decision = f"rejected: bad signature, matching neither the GitHub App's secret nor that of {tracking}"
        _record_unrouted(session, delivery_id, event, decision, signature_ok=False)
        session.commit()  # the delivery log keeps rejections although the request fails
        raise Unauthorized(
            f"the signature matches neither GitHub App {github_app.slug}'s webhook secret nor an app "
            "tracking the repository: check the webhook's secret"
        )
    if not full_name:
        raise BadWebhook("the payload names no repository; Dockyard handles repository webhooks")
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
        outcome.results.append(
            _decide(session, settings, app, event=event, delivery_id=delivery_id, payload=payload)
        )
    return outcome


def _from_github_app(
    session: Session, settings: Settings, *, event: str, delivery_id: str, payload: dict[str, Any]
) -> WebhookOutcome:
    """A delivery signed by the GitHub App: about its installations, or a connected app's repository."""
    outcome = WebhookOutcome(event=event, delivery=delivery_id)
    if event in INSTALLATION_EVENTS:
        outcome.decision = _unrouted(
            session, delivery_id, event, lambda: INSTALLATION_EVENTS[event](session, payload)
        )
        return outcome
    full_name = _repository(payload)
    apps = _tracking(session, full_name, connected=True) if full_name else []
    if apps:
        for app in apps:
            outcome.results.append(
                _decide(session, settings, app, event=event, delivery_id=delivery_id, payload=payload)
            )
        return outcome
    if event == "ping":
        decision = "pong: the GitHub App's webhook reaches Dockyard and its signature is valid"
    elif full_name:
        decision = (
            f"ignored: no app is connected to {full_name} through the GitHub App; connect one with "
            "PUT /api/v1/apps/{name}/github"
        )
    else:
        decision = f"ignored: `{event}` events about no repository change nothing"
    outcome.decision = _unrouted(session, delivery_id, event, lambda: decision)
    return outcome


def _decide(
    session: Session, settings: Settings, app: App, *, event: str, delivery_id: str, payload: dict
) -> AppDecision:
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
    teardown: Teardown | None = None
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
    elif event == "pull_request":
        preview = handle_pull_request(session, settings, parent=app, payload=payload)
        decision, deployment, teardown = preview.decision, preview.deployment, preview.teardown
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
    return AppDecision(
        app=app.name,
        decision=decision,
        deployment=deployment.id if deployment else None,
        teardown=teardown,
    )


def _unrouted(session: Session, delivery_id: str, event: str, act: Callable[[], str]) -> str:
    """Act on a delivery about no app once (a redelivery is recorded as a duplicate) and log it."""
    earlier = session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.delivery_id == delivery_id,
            WebhookDelivery.app_id.is_(None),
            WebhookDelivery.signature_ok.is_(True),
        )
    )
    if earlier is not None:
        decision = f"duplicate: delivery {delivery_id} was already handled ({earlier.decision})"
    else:
        decision = act()
    _record_unrouted(session, delivery_id, event, decision, signature_ok=True)
    return decision


def _record_unrouted(
    session: Session, delivery_id: str, event: str, decision: str, *, signature_ok: bool
) -> None:
    session.add(
        WebhookDelivery(
            delivery_id=delivery_id, app_id=None, event=event, signature_ok=signature_ok, decision=decision
        )
    )
    session.flush()


def _repository(payload: dict[str, Any]) -> str:
    repository = payload.get("repository")
    return str(repository.get("full_name") or "") if isinstance(repository, dict) else ""


def _tracking(session: Session, full_name: str, *, connected: bool = False) -> list[App]:
    """The apps (never previews: they follow their parent) tracking repository `full_name`."""
    query = select(App).where(App.repo_full_name.ilike(full_name), App.preview_of_id.is_(None))
    if connected:
        query = query.where(App.github_installation_id.is_not(None))
    apps = session.scalars(query.order_by(App.name))
    return [app for app in apps if app.repo_full_name.lower() == full_name.lower()]


def github_app_deliveries(session: Session, page: PageRequest) -> Page[WebhookDelivery]:
    """A page of the GitHub App's delivery log (deliveries about no app in particular), newest first."""
    return keyset_page(
        session, select(WebhookDelivery).where(WebhookDelivery.app_id.is_(None)), WebhookDelivery.id, page
    )


def forget_delivery(session: Session, delivery_id: str) -> None:
    """Drop a delivery's records, so that GitHub's redelivery of it is handled as new."""
    session.execute(delete(WebhookDelivery).where(WebhookDelivery.delivery_id == delivery_id))
