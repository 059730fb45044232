"""Installations of the Dockyard GitHub App as GitHub announces them: `installation` and
`installation_repositories` deliveries keep the stored rows current between two syncs.

Apps keep their installation id whatever happens here (an uninstall must not touch them): their next
clone or report says what GitHub refused, and the decision recorded here names the apps affected.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import App, GitHubInstallation


def apply_installation_event(session: Session, payload: dict[str, Any]) -> str:
    """Record an `installation` delivery (created, deleted, suspend, unsuspend, new_permissions_accepted)."""
    installation = payload.get("installation")
    if not isinstance(installation, dict) or not isinstance(installation.get("id"), int):
        return "ignored: the payload names no installation"
    action = str(payload.get("action", ""))
    installation_id = installation["id"]
    login = _login(installation)
    if action == "deleted":
        row = _row(session, installation_id)
        if row is not None:
            session.delete(row)
            session.flush()
        return f"uninstalled from {login}{_stranded(session, installation_id)}"
    if action not in ("created", "suspend", "unsuspend", "new_permissions_accepted"):
        return f"ignored: `{action}` installation events change nothing here"
    row = _upsert(session, installation)
    if action == "created":
        repositories = [str(repo.get("full_name")) for repo in payload.get("repositories") or []]
        seen = "all repositories" if row.repository_selection == "all" else ", ".join(repositories) or "none"
        return f"installed on {login} ({row.account_type}); repositories: {seen}"
    if action == "suspend":
        return f"suspended on {login}{_stranded(session, installation_id, until='it is unsuspended')}"
    if action == "unsuspend":
        return f"unsuspended on {login}"
    return f"{login} accepted the app's new permissions"


def apply_repositories_event(session: Session, payload: dict[str, Any]) -> str:
    """Record an `installation_repositories` delivery: repositories added to or removed from one."""
    installation = payload.get("installation")
    if not isinstance(installation, dict) or not isinstance(installation.get("id"), int):
        return "ignored: the payload names no installation"
    installation = {**installation, "repository_selection": payload.get("repository_selection")}
    row = _upsert(session, installation)
    added = [str(repo.get("full_name")) for repo in payload.get("repositories_added") or []]
    removed = [str(repo.get("full_name")) for repo in payload.get("repositories_removed") or []]
    parts = []
    if added:
        parts.append(f"added {', '.join(added)}")
    if removed:
        parts.append(f"removed {', '.join(removed)}")
        losing = _connected_apps(session, row.installation_id, repositories=removed)
        if losing:
            parts.append(
                f"{', '.join(losing)} can no longer clone or report until the repository is added back"
            )
    return f"installation on {row.account_login}: {'; '.join(parts) or 'no change'}"


def _upsert(session: Session, installation: dict[str, Any]) -> GitHubInstallation:
    row = _row(session, installation["id"]) or GitHubInstallation(installation_id=installation["id"])
    account = installation.get("account")
    account = account if isinstance(account, dict) else {}
    row.account_login = _login(installation)
    row.account_type = str(account.get("type") or installation.get("target_type") or "User")
    row.repository_selection = str(installation.get("repository_selection") or row.repository_selection or "")
    row.suspended_at = _timestamp(installation.get("suspended_at"))
    session.add(row)
    session.flush()
    return row


def _row(session: Session, installation_id: int) -> GitHubInstallation | None:
    return session.scalar(
        select(GitHubInstallation).where(GitHubInstallation.installation_id == installation_id)
    )


def _login(installation: dict[str, Any]) -> str:
    account = installation.get("account")
    if isinstance(account, dict):
        # A user or an organization has a login; an enterprise, a slug.
        return str(account.get("login") or account.get("slug") or installation["id"])
    return str(installation["id"])


def _connected_apps(
    session: Session, installation_id: int, *, repositories: list[str] | None = None
) -> list[str]:
    apps = session.scalars(
        select(App)
        .where(App.github_installation_id == installation_id, App.preview_of_id.is_(None))
        .order_by(App.name)
    )
    wanted = {name.lower() for name in repositories} if repositories is not None else None
    return [app.name for app in apps if wanted is None or app.repo_full_name.lower() in wanted]


def _stranded(
    session: Session, installation_id: int, *, until: str = "connected to another installation"
) -> str:
    apps = _connected_apps(session, installation_id)
    return f"; {', '.join(apps)} can no longer clone or report until {until}" if apps else ""


def _timestamp(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
