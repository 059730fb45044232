"""Pull request previews: each open pull request of an app's repository, aimed at the app's branch, runs as
its own app at `<app>-pr-<number>.<apps domain>`, and goes away when the pull request is closed.

A preview is an App row linked to its parent: same team, repository, settings, installation and env (a
copy made when it is created), its own containers, route and volumes. Only pull requests from branches of
the same repository get one: a fork's code must never run with the parent's secrets.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import redis
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.services import github_reports
from api.services.apps import live_deployment
from api.services.deployments import finish, newest_deployment, request_deployment
from api.services.operations import delete_app, engine
from core import crypto
from core.db import session_scope
from core.models import App, Deployment, DeploymentStatus, EnvVar, Service, Volume
from core.settings import Settings

TRIGGER = "pull_request"
DEPLOYING_ACTIONS = ("opened", "reopened", "synchronize")
NAME_LIMIT = 30  # a DNS label, like every app name
SHA = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class PullRequest:
    """What a `pull_request` delivery says about the pull request; `head_repo` is None for a deleted fork."""

    action: str
    number: int
    head_sha: str
    head_ref: str
    head_repo: str | None
    base_ref: str
    base_repo: str


@dataclass(frozen=True)
class Teardown:
    """A preview to remove, unless it was deployed again (a reopened pull request) after `last_deployment`."""

    app_id: int
    last_deployment: int


@dataclass(frozen=True)
class PreviewDecision:
    """What a pull request event did for one parent app, and why."""

    decision: str
    deployment: Deployment | None = None
    teardown: Teardown | None = None


def pull_request_of(payload: dict[str, Any]) -> PullRequest | None:
    """The pull request a delivery is about, or None when the payload does not describe one."""
    pull = payload.get("pull_request")
    if not isinstance(pull, dict):
        return None
    head, base = pull.get("head"), pull.get("base")
    if not isinstance(head, dict) or not isinstance(base, dict) or not isinstance(base.get("repo"), dict):
        return None
    head_repo = head.get("repo")
    return PullRequest(
        action=str(payload.get("action", "")),
        number=int(payload.get("number") or pull.get("number") or 0),
        head_sha=str(head.get("sha", "")),
        head_ref=str(head.get("ref", "")),
        head_repo=str(head_repo["full_name"]) if isinstance(head_repo, dict) else None,
        base_ref=str(base.get("ref", "")),
        base_repo=str(base["repo"].get("full_name", "")),
    )


def ignored_because(pull: PullRequest, *, branch: str) -> str | None:
    """Why a pull request event changes no preview of an app tracking `branch`, or None when it does."""
    if pull.action not in (*DEPLOYING_ACTIONS, "closed"):
        return f"ignored: `{pull.action}` pull request events change no preview"
    if pull.base_ref != branch:
        return f"ignored: pull request #{pull.number} targets `{pull.base_ref}`, app tracks `{branch}`"
    if pull.head_repo is None or pull.head_repo.lower() != pull.base_repo.lower():
        return (
            f"ignored: pull request #{pull.number} comes from the fork {pull.head_repo or '(deleted)'}; only "
            f"branches of {pull.base_repo} get previews, so the app's secrets never reach a fork's code"
        )
    if pull.action != "closed" and not SHA.match(pull.head_sha):
        return f"ignored: pull request #{pull.number} names no head commit"
    return None


def preview_name(parent: str, number: int) -> str:
    """The preview's app name: `<parent>-pr-<number>`, shortened with a hash of the parent's name to fit."""
    name = f"{parent}-pr-{number}"
    if len(name) <= NAME_LIMIT:
        return name
    suffix = f"-{hashlib.sha256(parent.encode()).hexdigest()[:4]}-pr-{number}"
    return parent[: NAME_LIMIT - len(suffix)].rstrip("-") + suffix


def handle_pull_request(
    session: Session, settings: Settings, *, parent: App, payload: dict[str, Any]
) -> PreviewDecision:
    """Create or redeploy the preview of an opened, reopened or updated pull request; on close, plan
    its removal."""
    pull = pull_request_of(payload)
    if pull is None:
        return PreviewDecision("ignored: the payload describes no pull request")
    ignored = ignored_because(pull, branch=parent.branch)
    if ignored is not None:
        return PreviewDecision(ignored)
    preview = find_preview(session, parent, pull.number)
    if pull.action == "closed":
        if preview is None:
            return PreviewDecision(f"ignored: pull request #{pull.number} has no preview")
        return PreviewDecision(
            f"removing preview {preview.name}: pull request #{pull.number} was closed",
            teardown=close_preview(session, preview),
        )
    if preview is None:
        name = preview_name(parent.name, pull.number)
        if session.scalar(select(App.id).where(App.name == name)) is not None:
            return PreviewDecision(
                f"ignored: pull request #{pull.number}'s preview would be {name}, a name another app has"
            )
        preview = create_preview(session, settings, parent=parent, pull=pull, name=name)
    preview.branch = pull.head_ref
    deployment = request_deployment(
        session, app=preview, trigger=TRIGGER, ref=pull.head_ref, commit=pull.head_sha
    )
    return PreviewDecision(
        f"deploying pull request #{pull.number} ({pull.head_sha[:7]}) to preview {preview.name} "
        f"as deployment {deployment.id}",
        deployment=deployment,
    )


def find_preview(session: Session, parent: App, number: int) -> App | None:
    """The preview of pull request `number` of `parent`, if it exists."""
    return session.scalar(select(App).where(App.preview_of_id == parent.id, App.pr_number == number))


def create_preview(session: Session, settings: Settings, *, parent: App, pull: PullRequest, name: str) -> App:
    """A preview app for `pull`: the parent's team, repository, settings, installation, env and volumes."""
    preview = App(
        name=name,
        team=parent.team,
        repo_url=parent.repo_url,
        repo_full_name=parent.repo_full_name,
        branch=pull.head_ref,
        # Never shown nor checked: webhooks reach previews only through their parent.
        webhook_secret=crypto.encrypt(settings.secret(), crypto.new_token("whsec")),
        config=dict(parent.config or {}),
        github_installation_id=parent.github_installation_id,
        preview_of=parent,
        pr_number=pull.number,
        services=[Service(name="web", replicas=1)],
        env_vars=[
            EnvVar(key=var.key, value_encrypted=var.value_encrypted, is_secret=var.is_secret)
            for var in parent.env_vars
        ],
        volumes=[Volume(name=v.name, mount_path=v.mount_path, process=v.process) for v in parent.volumes],
    )
    session.add(preview)
    session.flush()
    return preview


def close_preview(session: Session, preview: App) -> Teardown:
    """Supersede the preview's queued deployments and say what to remove once the transaction commits."""
    reason = f"pull request #{preview.pr_number} was closed"
    last = 0
    for deployment in session.scalars(select(Deployment).where(Deployment.app_id == preview.id)):
        last = max(last, deployment.id)
        if deployment.status == DeploymentStatus.QUEUED.value:
            finish(deployment, DeploymentStatus.SUPERSEDED, reason)
    session.flush()
    return Teardown(app_id=preview.id, last_deployment=last)


def teardown(settings: Settings, plan: Teardown, *, redis_client: redis.Redis) -> str:
    """Remove a closed pull request's preview (containers, route, images, volumes, rows); says what it did.

    Conflict while one of its deployments runs: the caller retries later.
    """
    with session_scope() as session:
        found = _to_remove(session, plan)
        last = session.scalar(select(func.max(Deployment.id)).where(Deployment.app_id == plan.app_id))
    if isinstance(found, str):
        return found
    if last is not None:
        # Before the rows go: it reads the app's GitHub connection.
        github_reports.retire_environment(settings, last, redis_client=redis_client)
    with session_scope() as session:
        # Reopened meanwhile: it stays, and its new deployment makes GitHub's environment active again.
        preview = _to_remove(session, plan)
        if isinstance(preview, str):
            return preview
        name = preview.name
        with engine(settings) as runtime:
            delete_app(
                session, runtime, settings=settings, redis_client=redis_client, app=preview, volumes=True
            )
    return f"removed preview {name}"


def _to_remove(session: Session, plan: Teardown) -> App | str:
    """The preview to remove, or why it stays (gone already, or its pull request was reopened)."""
    preview = session.get(App, plan.app_id)
    if preview is None or preview.preview_of_id is None:
        return f"app {plan.app_id} is gone already"
    newer = session.scalar(
        select(Deployment.id).where(Deployment.app_id == preview.id, Deployment.id > plan.last_deployment)
    )
    if newer is not None:
        return f"kept preview {preview.name}: its pull request was reopened (deployment {newer})"
    return preview


def list_previews(parent: App) -> list[App]:
    """The parent's previews, by pull request number."""
    return list(parent.previews)


@dataclass(frozen=True)
class PreviewSummary:
    """A preview as its parent's pages show it: where it answers, its live release and newest deployment."""

    app: App
    url: str
    live: Deployment | None
    newest: Deployment | None


def preview_summaries(session: Session, settings: Settings, parent: App) -> list[PreviewSummary]:
    """Each of the parent's previews, by pull request number."""
    return [
        PreviewSummary(
            app=preview,
            url=settings.app_url(preview.name),
            live=live_deployment(session, preview),
            newest=newest_deployment(session, preview),
        )
        for preview in list_previews(parent)
    ]
