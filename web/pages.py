"""What every page about one app needs: the app (if the viewer may see it) and what the viewer may do."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from api.services.access import Permission, app_for, permissions_in
from core.models import App
from web.session import Viewer


@dataclass(frozen=True)
class AppPage:
    """An app and the viewer's permissions on it; templates ask `page.can("deploy")`."""

    app: App
    allowed: frozenset[Permission]

    def can(self, permission: str) -> bool:
        """Whether the viewer may do `permission` (read, deploy, write, manage, admin) on this app."""
        return Permission(permission) in self.allowed


def app_page(
    session: Session, viewer: Viewer, name: str, permission: Permission = Permission.READ
) -> AppPage:
    """App `name` when the viewer may do `permission` on it (404 like a missing app when not theirs)."""
    app = app_for(session, viewer.principal, name, permission)
    return AppPage(app=app, allowed=permissions_in(session, viewer.principal, app.team))
