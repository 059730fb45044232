"""Telling GitHub how a deploy goes: commit statuses on the pushed commit, and GitHub deployments with
their statuses, posted as the Dockyard GitHub App's installation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

from githubkit import GitHub
from githubkit.utils import UNSET

from api.services.github_app import app_auth, github_client, github_errors
from core.models import GitHubApp
from core.settings import Settings

CommitState = Literal["pending", "success", "failure", "error"]
DeploymentState = Literal["queued", "in_progress", "success", "failure", "error", "inactive"]
DESCRIPTION_LIMIT = 140  # GitHub's limit for status descriptions


def status_context(app_name: str) -> str:
    """The context a commit status is posted under: one per app, so two apps on one repository differ."""
    return f"dockyard/{app_name}"


def deployment_log_url(settings: Settings, *, app_name: str, deployment_id: int) -> str:
    """Where a deployment's build and release log is read."""
    base = settings.public_url.rstrip("/")
    return f"{base}/api/v1/apps/{app_name}/deployments/{deployment_id}/logs"


def post_commit_status(
    settings: Settings,
    github_app: GitHubApp,
    *,
    installation_id: int,
    repo_full_name: str,
    sha: str,
    app_name: str,
    state: CommitState,
    log_url: str,
    description: str,
) -> None:
    """Mark commit `sha` with how the app's deploy of it goes, linking to the deployment's log."""
    owner, repo = repo_full_name.split("/", 1)
    with _repository_client(
        settings,
        github_app,
        installation_id=installation_id,
        repo=repo_full_name,
        permission="statuses: write",
        doing=f"post a commit status on {repo_full_name}@{sha[:7]}",
    ) as github:
        github.rest.repos.create_commit_status(
            owner,
            repo,
            sha,
            state=state,
            target_url=log_url,
            description=_short(description),
            context=status_context(app_name),
        )


def create_deployment(
    settings: Settings,
    github_app: GitHubApp,
    *,
    installation_id: int,
    repo_full_name: str,
    sha: str,
    app_name: str,
    preview: bool = False,
    description: str | None = None,
) -> int:
    """Open a GitHub deployment of commit `sha` to the environment named after the app (a pull request
    preview's is transient); returns GitHub's id for it."""
    owner, repo = repo_full_name.split("/", 1)
    with _repository_client(
        settings,
        github_app,
        installation_id=installation_id,
        repo=repo_full_name,
        permission="deployments: write",
        doing=f"create a deployment on {repo_full_name}",
    ) as github:
        created = github.rest.repos.create_deployment(
            owner,
            repo,
            ref=sha,
            auto_merge=False,  # deploy the commit that was pushed, never a merge GitHub makes
            required_contexts=[],  # Dockyard's own status is what is being decided
            environment=app_name,
            description=_short(description or f"Dockyard deploys {app_name}"),
            transient_environment=preview,
            production_environment=not preview,
        )
        return created.parsed_data.id


def create_deployment_status(
    settings: Settings,
    github_app: GitHubApp,
    *,
    installation_id: int,
    repo_full_name: str,
    deployment_id: int,
    state: DeploymentState,
    log_url: str,
    environment_url: str | None = None,
    description: str | None = None,
) -> None:
    """Record how a GitHub deployment goes; `environment_url` is where the app answers."""
    owner, repo = repo_full_name.split("/", 1)
    with _repository_client(
        settings,
        github_app,
        installation_id=installation_id,
        repo=repo_full_name,
        permission="deployments: write",
        doing=f"report on deployment {deployment_id} of {repo_full_name}",
    ) as github:
        github.rest.repos.create_deployment_status(
            owner,
            repo,
            deployment_id,
            state=state,
            log_url=log_url,
            environment_url=UNSET if environment_url is None else environment_url,
            description=UNSET if description is None else _short(description),
        )


@contextmanager
def _repository_client(
    settings: Settings, github_app: GitHubApp, *, installation_id: int, repo: str, permission: str, doing: str
) -> Iterator[GitHub[Any]]:
    """A client acting as the installation on `repo`, its failures translated."""
    not_found = (
        f"GitHub shows no {repo} to installation {installation_id} of GitHub App {github_app.slug}: "
        f"install the app on {repo.split('/')[0]} and give it access to the repository"
    )
    with (
        github_client(settings, app_auth(settings, github_app).as_installation(installation_id)) as github,
        github_errors(
            settings,
            doing=doing,
            github_app=github_app,
            installation_id=installation_id,
            not_found=not_found,
            permission=permission,
        ),
    ):
        yield github


def _short(text: str) -> str:
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "…"
