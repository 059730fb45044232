"""Deploys of apps connected through the GitHub App, told to GitHub: a commit status on the deployed commit
(linking to the deployment's log) and a GitHub deployment whose statuses follow it, queued → in_progress →
success or failure, with the app's URL.

Reports run in the events worker, one task per status change, possibly late, twice or out of order: each
reports the deployment's status as the database has it now and remembers (in Redis, per deployment) what
GitHub was already told, so a stale or repeated task posts nothing. GitHub's refusals are logged, never
raised: a report never changes how a deployment went.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import redis
from sqlalchemy import select

from api.services.github_status import (
    CommitState,
    DeploymentState,
    create_deployment,
    create_deployment_status,
    deployment_log_url,
    post_commit_status,
)
from core.db import session_scope
from core.errors import DockyardError
from core.models import Deployment, DeploymentStatus, GitHubApp
from core.settings import Settings

log = logging.getLogger(__name__)

MEMORY_SECONDS = 30 * 24 * 3600  # what was reported is kept this long after the last report


@dataclass(frozen=True)
class Report:
    """What GitHub should show for a deployment; None where nothing is to be posted."""

    commit_state: CommitState | None
    deployment_state: DeploymentState | None
    description: str


@dataclass(frozen=True)
class Subject:
    """What a report needs to know about the deployment, read in one short transaction."""

    deployment_id: int
    app_name: str
    preview: bool
    installation_id: int
    repository: str
    commit: str
    status: DeploymentStatus
    started: bool
    error: str | None


def planned_report(subject: Subject, *, app_url: str) -> Report:
    """What GitHub should show for the deployment's current status."""
    status = subject.status
    if status is DeploymentStatus.QUEUED:
        return Report("pending", "queued", f"Queued as deployment {subject.deployment_id}")
    if status is DeploymentStatus.BUILDING:
        return Report("pending", "in_progress", f"Building deployment {subject.deployment_id}")
    if status is DeploymentStatus.DEPLOYING:
        return Report("pending", "in_progress", f"Releasing deployment {subject.deployment_id}")
    if status is DeploymentStatus.LIVE:
        return Report("success", "success", f"Live at {app_url}")
    if status is DeploymentStatus.FAILED:
        # A deploy that ran and failed is the commit's failure; one that never ran (the queue was down, the
        # worker died) is Dockyard's error.
        failed = f"Failed: {subject.error or 'see the deployment log'}"
        return Report("failure", "failure", failed) if subject.started else Report("error", "error", failed)
    if not subject.started:  # superseded before it ran: a newer commit is deployed instead
        return Report(
            "success", "inactive", f"Not deployed: {subject.error or 'a newer deployment replaced it'}"
        )
    # Superseded after it was live: GitHub already shows it as replaced by the newer deployment.
    return Report(None, None, "")


def report(settings: Settings, deployment_id: int, *, redis_client: redis.Redis | None = None) -> None:
    """Post the deployment's current status to GitHub, if its app is connected through the GitHub App."""
    found = _subject(deployment_id)
    if found is None:
        return
    github_app, subject = found
    planned = planned_report(subject, app_url=settings.app_url(subject.app_name))
    client = redis_client or redis.Redis.from_url(settings.redis_url)
    key = f"dockyard:{settings.instance}:github-report:{deployment_id}"
    with client.lock(f"{key}:lock", timeout=120, blocking_timeout=120):
        told = {name.decode(): value.decode() for name, value in client.hgetall(key).items()}
        try:
            _post(settings, github_app, subject, planned, told, remember=lambda k, v: client.hset(key, k, v))
        except DockyardError as error:
            log.warning(
                "could not report deployment %s of %s to GitHub (%s): %s",
                deployment_id,
                subject.app_name,
                subject.status.value,
                error.detail,
            )
        finally:
            client.expire(key, MEMORY_SECONDS)


def retire_environment(settings: Settings, deployment_id: int, *, redis_client: redis.Redis) -> None:
    """Mark the GitHub deployment of a preview's last release `inactive` before the preview is removed,
    so the pull request stops linking to a host that no longer answers. Call it while the app still exists."""
    found = _subject(deployment_id)
    key = f"dockyard:{settings.instance}:github-report:{deployment_id}"
    github_deployment = redis_client.hget(key, "deployment")
    if found is None or github_deployment is None:
        return  # not connected through the App, or GitHub never heard of this release
    github_app, subject = found
    try:
        create_deployment_status(
            settings,
            github_app,
            installation_id=subject.installation_id,
            repo_full_name=subject.repository,
            deployment_id=int(github_deployment),
            state="inactive",
            log_url=deployment_log_url(settings, app_name=subject.app_name, deployment_id=deployment_id),
            description="The pull request was closed; its preview was removed",
        )
    except DockyardError as error:
        log.warning("could not retire the GitHub environment of %s: %s", subject.app_name, error.detail)
    redis_client.hset(key, "state", "inactive")


def _post(
    settings: Settings,
    github_app: GitHubApp,
    subject: Subject,
    planned: Report,
    told: dict[str, str],
    *,
    remember: Callable[[str, str], object],
) -> None:
    log_url = deployment_log_url(settings, app_name=subject.app_name, deployment_id=subject.deployment_id)
    if planned.commit_state is not None and told.get("commit") != planned.commit_state + planned.description:
        post_commit_status(
            settings,
            github_app,
            installation_id=subject.installation_id,
            repo_full_name=subject.repository,
            sha=subject.commit,
            app_name=subject.app_name,
            state=planned.commit_state,
            log_url=log_url,
            description=planned.description,
        )
        remember("commit", planned.commit_state + planned.description)
    if planned.deployment_state is None or told.get("state") == planned.deployment_state:
        return
    github_deployment = told.get("deployment")
    if github_deployment is None:
        github_deployment = str(
            create_deployment(
                settings,
                github_app,
                installation_id=subject.installation_id,
                repo_full_name=subject.repository,
                sha=subject.commit,
                app_name=subject.app_name,
                preview=subject.preview,
                description=f"Dockyard deployment {subject.deployment_id} of {subject.app_name}",
            )
        )
        remember("deployment", github_deployment)
    create_deployment_status(
        settings,
        github_app,
        installation_id=subject.installation_id,
        repo_full_name=subject.repository,
        deployment_id=int(github_deployment),
        state=planned.deployment_state,
        log_url=log_url,
        environment_url=settings.app_url(subject.app_name),
        description=planned.description,
    )
    remember("state", planned.deployment_state)


def _subject(deployment_id: int) -> tuple[GitHubApp, Subject] | None:
    """The GitHub App and what to report, or None when there is nothing to report (yet)."""
    with session_scope() as session:
        deployment = session.get(Deployment, deployment_id)
        installation_id = deployment.app.github_installation_id if deployment is not None else None
        if deployment is None or installation_id is None:
            return None
        github_app = session.scalar(select(GitHubApp))
        if github_app is None or not deployment.commit:
            return None  # no App to report as, or the commit is known only once the build fetched it
        app = deployment.app
        return github_app, Subject(
            deployment_id=deployment.id,
            app_name=app.name,
            preview=app.preview_of_id is not None,
            installation_id=installation_id,
            repository=app.repo_full_name,
            commit=deployment.commit,
            status=DeploymentStatus(deployment.status),
            started=deployment.started_at is not None,
            error=deployment.error,
        )
