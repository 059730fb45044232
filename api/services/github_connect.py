"""Connecting an app to its GitHub repository through an installation of the Dockyard GitHub App: its
builds then clone with installation tokens, its deploys are reported on GitHub, and the App's webhooks
deploy it (its own webhook secret keeps working too)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from api.services.github_app import RepoSummary, get_github_app, list_repositories
from core.errors import ConfigError, Conflict, DockyardError
from core.models import App, GitHubApp, GitHubInstallation
from core.settings import Settings

REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")


def connect_app(
    session: Session,
    settings: Settings,
    *,
    app: App,
    installation_id: int,
    repository: str,
    branch: str | None = None,
) -> App:
    """Connect `app` to `repository` ("owner/repo") through `installation_id`, after checking with GitHub
    that the installation sees it. A repository other than the app's also becomes its clone URL."""
    if app.preview_of is not None:
        raise Conflict(f"app {app.name!r} is a preview of {app.preview_of.name!r}: connect that app instead")
    if not REPOSITORY.match(repository):
        raise ConfigError("must be a GitHub repository as owner/repo", where="repository")
    if branch is not None and (not branch.strip() or branch.startswith("refs/")):
        raise ConfigError("must be a branch name such as main", where="branch")
    found = visible_repository(
        settings, get_github_app(session, settings), installation_id=installation_id, repository=repository
    )
    if app.repo_full_name.lower() != found.full_name.lower():
        app.repo_url, app.repo_full_name = found.clone_url, found.full_name
    if branch is not None:
        app.branch = branch.strip()
    for each in (app, *app.previews):
        each.github_installation_id = installation_id
    session.flush()
    return app


def disconnect_app(session: Session, *, app: App) -> App:
    """Stop using the GitHub App for `app`: it clones its URL as it is and keeps its own webhook secret."""
    for each in (app, *app.previews):
        each.github_installation_id = None
    session.flush()
    return app


def visible_repository(
    settings: Settings, github_app: GitHubApp, *, installation_id: int, repository: str
) -> RepoSummary:
    """Repository `repository` ("owner/repo") as installation `installation_id` sees it, asked of GitHub
    now; ConfigError saying how to grant access when the installation cannot see it."""
    visible = list_repositories(settings, github_app, installation_id=installation_id)
    found = next((repo for repo in visible if repo.full_name.lower() == repository.lower()), None)
    if found is None:
        raise ConfigError(
            f"installation {installation_id} of GitHub App {github_app.slug} cannot see {repository}: give "
            f"the app access to it on GitHub ({settings.github_url.rstrip('/')}/settings/installations/"
            f"{installation_id}), or pick the installation of the repository's owner",
            where="repository",
        )
    return found


@dataclass(frozen=True)
class InstallationRepositories:
    """An installation and the repositories it lets Dockyard see; `problem` says why GitHub listed none."""

    installation: GitHubInstallation
    repositories: tuple[RepoSummary, ...]
    problem: str | None = None


def installation_repositories(
    settings: Settings, github_app: GitHubApp, installations: Sequence[GitHubInstallation]
) -> list[InstallationRepositories]:
    """Each installation's repositories as GitHub lists them now; one failing installation (suspended,
    uninstalled meanwhile) does not hide the others. Asks GitHub once per installation."""
    listed = []
    for installation in installations:
        try:
            repositories = list_repositories(
                settings, github_app, installation_id=installation.installation_id
            )
        except DockyardError as error:
            listed.append(InstallationRepositories(installation, (), problem=error.detail))
        else:
            listed.append(InstallationRepositories(installation, tuple(repositories)))
    return listed


def matching_repositories(
    listed: Sequence[InstallationRepositories], query: str
) -> list[tuple[GitHubInstallation, RepoSummary]]:
    """(installation, repository) pairs whose owner/repo contains `query` (any case), by name."""
    wanted = query.strip().lower()
    pairs = [
        (entry.installation, repo)
        for entry in listed
        for repo in entry.repositories
        if wanted in repo.full_name.lower()
    ]
    return sorted(pairs, key=lambda pair: pair[1].full_name.lower())
