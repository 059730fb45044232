"""Deploy notifications: per-app outgoing webhooks posted when a deployment goes live or fails.

A target is a URL and a format: `json` (Dockyard's own body, signed with HMAC-SHA256 in
`X-Dockyard-Signature-256` using a per-target secret shown once) or `slack` (`{"text": …}`, which Slack,
Mattermost, Rocket.Chat and Discord's `/slack` endpoint accept). The URL often is the credential
(Slack's are), so it is stored encrypted and only ever shown masked, in responses and in logs.

Sending runs in the events worker, never in a deployment: a target gets 5 seconds, and a failure is
recorded on the target and logged, never raised.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import asdict, dataclass
from typing import Any, Literal, cast, get_args

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.services.github_status import deployment_log_url
from core import crypto
from core.db import session_scope
from core.errors import ConfigError, NotFound
from core.models import App, Deployment, NotificationTarget, utcnow
from core.settings import Settings

log = logging.getLogger(__name__)

Format = Literal["json", "slack"]
EVENTS = ("live", "failed")  # the deployment statuses a target can be told about
TIMEOUT_SECONDS = 5.0
SIGNATURE_HEADER = "X-Dockyard-Signature-256"
EVENT_HEADER = "X-Dockyard-Event"
MAX_URL_LENGTH = 2000
MAX_TARGETS = 20


@dataclass(frozen=True)
class Message:
    """What happened, the same for every target; `event` is deployment.live, deployment.failed or test."""

    event: str
    app: str
    app_url: str
    deployment: int | None = None
    status: str | None = None
    trigger: str | None = None
    ref: str | None = None
    commit: str | None = None
    error: str | None = None
    log_url: str | None = None


@dataclass(frozen=True)
class Outcome:
    """How one send went: `result` is what a user reads ("200 OK", "timed out after 5 s")."""

    ok: bool
    status_code: int | None
    result: str


@dataclass(frozen=True)
class _Send:
    """A target's delivery details, read so that the database session can close before the network."""

    target_id: int
    url: str
    url_masked: str
    format: str
    secret: str | None


def mask_url(url: str) -> str:
    """`url` without what may be secret: userinfo, query and every path segment after the first.

    `https://hooks.slack.com/services/T0/B0/xyz` → `https://hooks.slack.com/services/…`.
    """
    parts = httpx.URL(url)
    host = parts.netloc.decode()  # host and port, never the userinfo
    segments = [segment for segment in parts.path.split("/") if segment]
    shown = f"/{segments[0]}/" if len(segments) > 1 else "/"
    hidden = "…" if segments or parts.query else ""
    return f"{parts.scheme}://{host}{shown}{hidden}"


def validated_url(url: str) -> str:
    """`url` if it is an http(s) URL with a host; a ConfigError naming `url` otherwise."""
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise ConfigError(f"must be at most {MAX_URL_LENGTH} characters", where="url")
    if any(character.isspace() or not character.isprintable() for character in url):
        raise ConfigError("must not contain spaces or control characters", where="url")
    try:
        parts = httpx.URL(url)
    except httpx.InvalidURL as error:
        raise ConfigError(f"is not a valid URL ({error})", where="url") from error
    if parts.port is not None and not 0 < parts.port < 65536:
        raise ConfigError(f"port {parts.port} is not a TCP port", where="url")
    if parts.scheme not in ("http", "https") or not parts.host:
        raise ConfigError(
            "must start with https:// (or http://) and name a host, like a Slack incoming webhook URL",
            where="url",
        )
    return url


def validated_format(format: str) -> Format:
    """`format` if it is one Dockyard sends; a ConfigError naming `format` otherwise."""
    if format not in get_args(Format):
        raise ConfigError(
            "must be json (Dockyard's signed JSON body) or slack (a Slack-compatible incoming webhook)",
            where="format",
        )
    return cast(Format, format)


def validated_events(events: list[str] | None) -> list[str]:
    """The statuses asked for in canonical order; both when none are named."""
    if events is None:
        return list(EVENTS)
    unknown = sorted(set(events) - set(EVENTS))
    if unknown or not events:
        raise ConfigError(f"use one or both of {', '.join(EVENTS)}", where="events")
    return [event for event in EVENTS if event in events]


def create_target(
    session: Session,
    settings: Settings,
    *,
    app: App,
    url: str,
    format: Format,
    events: list[str] | None,
) -> tuple[NotificationTarget, str | None]:
    """Add a target to `app`; returns it and, for `json` targets, the signing secret in clear (shown once)."""
    url = validated_url(url)
    chosen = validated_events(events)
    if len(list_targets(session, app)) >= MAX_TARGETS:
        raise ConfigError(
            f"app {app.name!r} already has {MAX_TARGETS} notification targets: delete one first"
        )
    secret = crypto.new_token("whsec") if format == "json" else None
    key = settings.secret()
    target = NotificationTarget(
        app_id=app.id,
        format=format,
        url_encrypted=crypto.encrypt(key, url),
        url_masked=mask_url(url),
        signing_secret=crypto.encrypt(key, secret) if secret else None,
        events=chosen,
    )
    session.add(target)
    session.flush()
    return target, secret


def list_targets(session: Session, app: App) -> list[NotificationTarget]:
    """The app's targets, oldest first."""
    return list(
        session.scalars(
            select(NotificationTarget)
            .where(NotificationTarget.app_id == app.id)
            .order_by(NotificationTarget.id)
        )
    )


def get_target(session: Session, app: App, target_id: int) -> NotificationTarget:
    """One of `app`'s targets, or NotFound."""
    target = session.get(NotificationTarget, target_id)
    if target is None or target.app_id != app.id:
        raise NotFound(
            f"app {app.name!r} has no notification target {target_id}; "
            f"`GET /api/v1/apps/{app.name}/notifications` lists them"
        )
    return target


def delete_target(session: Session, app: App, target_id: int) -> None:
    """Stop notifying a target."""
    session.delete(get_target(session, app, target_id))


def deployment_message(settings: Settings, app: App, deployment: Deployment, status: str) -> Message:
    """What to tell targets about `deployment` taking `status`."""
    return Message(
        event=f"deployment.{status}",
        app=app.name,
        app_url=settings.app_url(app.name),
        deployment=deployment.id,
        status=status,
        trigger=deployment.trigger,
        ref=deployment.ref,
        commit=deployment.commit,
        error=deployment.error if status == "failed" else None,
        log_url=deployment_log_url(settings, app_name=app.name, deployment_id=deployment.id),
    )


def test_message(settings: Settings, app: App) -> Message:
    """A message that checks a target works; it says it is a test."""
    return Message(event="test", app=app.name, app_url=settings.app_url(app.name))


def slack_text(message: Message) -> str:
    """One line in Slack's mrkdwn: what happened, with links to the app and the log."""
    app = f"*{_slack_escape(message.app)}*"
    commit = f" ({message.commit[:7]})" if message.commit else ""
    log_link = f" · <{message.log_url}|build log>" if message.log_url else ""
    if message.event == "deployment.live":
        return (
            f":white_check_mark: {app}: deployment {message.deployment}{commit} is live at "
            f"<{message.app_url}|{_slack_escape(message.app_url)}>{log_link}"
        )
    if message.event == "deployment.failed":
        reason = (message.error or "no reason recorded").strip().splitlines()[0][:300]
        return f":x: {app}: deployment {message.deployment}{commit} failed: {_slack_escape(reason)}{log_link}"
    return f":wave: {app}: a test notification from Dockyard; deploy outcomes will appear here"


def _slack_escape(text: str) -> str:
    # Slack's three control characters in mrkdwn.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render(message: Message, format: str) -> dict[str, Any]:
    """The JSON body a target of `format` receives."""
    if format == "slack":
        return {"text": slack_text(message)}
    return {**asdict(message), "sent_at": utcnow().isoformat()}


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex>`: the HMAC-SHA256 of the body with the target's secret, as GitHub signs webhooks."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send_test(settings: Settings, app: App, target: NotificationTarget) -> Outcome:
    """Post a test message to `target` now and record how it went."""
    outcome = _post(_prepared(settings, target), test_message(settings, app))
    _record(target, outcome)
    return outcome


def notify(settings: Settings, deployment_id: int, status: str) -> None:
    """Post `deployment_id`'s new `status` to its app's targets that want it (live and failed only).

    The events worker's entry point: failures are recorded on each target and logged, never raised.
    """
    if status not in EVENTS:
        return
    with session_scope() as session:
        deployment = session.get(Deployment, deployment_id)
        if deployment is None:
            return  # the app was deleted meanwhile
        wanted = [target for target in list_targets(session, deployment.app) if status in target.events]
        message = deployment_message(settings, deployment.app, deployment, status)
        sends = []
        for target in wanted:
            try:
                sends.append(_prepared(settings, target))
            except ConfigError as error:
                _record(target, Outcome(ok=False, status_code=None, result=error.detail))
                log.warning("notification target %s of %s skipped: %s", target.id, message.app, error.detail)
    # The session is closed while waiting on the network; results are written afterwards.
    outcomes = {send.target_id: _post(send, message) for send in sends}
    if not outcomes:
        return
    with session_scope() as session:
        for target_id, outcome in outcomes.items():
            row = session.get(NotificationTarget, target_id)
            if row is not None:  # not deleted meanwhile
                _record(row, outcome)


def _prepared(settings: Settings, target: NotificationTarget) -> _Send:
    key = settings.secret()
    return _Send(
        target_id=target.id,
        url=crypto.decrypt(key, target.url_encrypted),
        url_masked=target.url_masked,
        format=target.format,
        secret=crypto.decrypt(key, target.signing_secret) if target.signing_secret else None,
    )


def _post(send: _Send, message: Message) -> Outcome:
    body = json.dumps(render(message, send.format)).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "Dockyard-Notifications"}
    if send.format == "json":
        headers[EVENT_HEADER] = message.event
    if send.secret:
        headers[SIGNATURE_HEADER] = signature(send.secret, body)
    try:
        response = httpx.post(send.url, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
    except httpx.TimeoutException:
        outcome = Outcome(ok=False, status_code=None, result=f"timed out after {TIMEOUT_SECONDS:g} s")
    except httpx.HTTPError as error:
        # Transport errors can quote the URL; only its masked form may reach a log or a response.
        reason = (str(error) or type(error).__name__).replace(send.url, send.url_masked)
        outcome = Outcome(ok=False, status_code=None, result=f"could not connect: {reason}"[:300])
    else:
        outcome = Outcome(
            ok=response.is_success,
            status_code=response.status_code,
            result=f"{response.status_code} {response.reason_phrase}".strip(),
        )
    if not outcome.ok:
        log.warning(
            "%s notification of %s to %s failed: %s",
            message.event,
            message.app,
            send.url_masked,
            outcome.result,
        )
    return outcome


def _record(target: NotificationTarget, outcome: Outcome) -> None:
    target.last_sent_at = utcnow()
    target.last_result = outcome.result[:300]
