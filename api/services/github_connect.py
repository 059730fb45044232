"""Connecting an app to its GitHub repository through an installation of the Dockyard GitHub App: its
builds then clone with installation tokens, its deploys are reported on GitHub, and the App's webhooks
deploy it (its own webhook secret keeps working too)."""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from api.services.github_app import get_github_app, list_repositories
from core.errors import ConfigError, Conflict
from core.models import App
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
    github_app = get_github_app(session, settings)
    visible = list_repositories(settings, github_app, installation_id=installation_id)
    found = next((repo for repo in visible if repo.full_name.lower() == repository.lower()), None)
    if found is None:
        raise ConfigError(
            f"installation {installation_id} of GitHub App {github_app.slug} cannot see {repository}: give "
            f"the app access to it on GitHub ({settings.github_url.rstrip('/')}/settings/installations/"
            f"{installation_id}), or pick the installation of the repository's owner",
            where="repository",
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
