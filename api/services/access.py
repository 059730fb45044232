"""Who may do what: team roles and token scopes, checked on every route that touches an app or team.

An app outside the caller's teams is answered exactly like an app that does not exist (404), so names
of other teams' apps do not leak. Inside a team, the role and the token's scopes must both allow it (403).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from core.errors import Forbidden, NotFound
from core.models import App, Membership, Role, Team, User


class Permission(enum.StrEnum):
    """What an action needs; token scopes use the same names."""

    READ = "read"  # see apps, deployments, logs, the delivery log
    DEPLOY = "deploy"  # deploy, roll back, restart, scale, stop/start, run one-off commands
    WRITE = "write"  # change env, config, volumes, domains, hooks and notifications
    MANAGE = "manage"  # create and delete apps, manage a team's members
    ADMIN = "admin"  # site administration: users, teams, the GitHub App


ALL_SCOPES: tuple[str, ...] = tuple(permission.value for permission in Permission)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset({Permission.READ}),
    Role.MEMBER: frozenset({Permission.READ, Permission.DEPLOY, Permission.WRITE}),
    Role.ADMIN: frozenset({Permission.READ, Permission.DEPLOY, Permission.WRITE, Permission.MANAGE}),
    Role.OWNER: frozenset({Permission.READ, Permission.DEPLOY, Permission.WRITE, Permission.MANAGE}),
}

_VERBS = {
    Permission.READ: "reading",
    Permission.DEPLOY: "deploying and operating apps",
    Permission.WRITE: "changing app settings",
    Permission.MANAGE: "creating and deleting apps and managing members",
    Permission.ADMIN: "site administration",
}


@dataclass(frozen=True)
class Principal:
    """The user behind a request and the scopes their credential carries."""

    user: User
    scopes: frozenset[str]

    @property
    def is_site_admin(self) -> bool:
        return self.user.is_admin and Permission.ADMIN.value in self.scopes


def roles_allowing(permission: Permission) -> list[str]:
    """The role names that carry `permission`, least powerful first."""
    return [role.value for role in reversed(Role) if permission in ROLE_PERMISSIONS[role]]


def check_scope(principal: Principal, permission: Permission) -> None:
    """Refuse when the token was created without the scope `permission` needs."""
    if permission.value not in principal.scopes:
        granted = ", ".join(sorted(principal.scopes)) or "none"
        raise Forbidden(
            f"this token's scopes are {granted}; {_VERBS[permission]} needs the `{permission.value}` scope: "
            "create a token that has it"
        )


def role_in(session: Session, user: User, team: Team) -> Role | None:
    """The user's role in `team`, None when they are not a member."""
    role = session.scalar(
        select(Membership.role).where(Membership.team_id == team.id, Membership.user_id == user.id)
    )
    return Role(role) if role else None


def check_role(role: Role, team: Team, permission: Permission) -> None:
    """Refuse when `role` in `team` lacks `permission`, naming the roles that have it."""
    if permission not in ROLE_PERMISSIONS[role]:
        allowed = " or ".join(roles_allowing(permission))
        raise Forbidden(
            f"your role in team {team.name!r} is {role.value}; {_VERBS[permission]} needs {allowed}: "
            "ask a team owner or admin"
        )


def authorize_team(session: Session, principal: Principal, team: Team, permission: Permission) -> Role:
    """The caller's effective role in `team` once `permission` is checked; 404 when they are not in it.

    The site administrator acts as an owner of every team.
    """
    check_scope(principal, permission)
    if principal.is_site_admin:
        return Role.OWNER
    role = role_in(session, principal.user, team)
    if role is None:
        raise NotFound(f"no team named {team.name!r}")
    check_role(role, team, permission)
    return role


def permissions_in(session: Session, principal: Principal, team: Team) -> frozenset[Permission]:
    """What the caller may do in `team` (role and scopes together): pages show only the actions allowed."""
    role = Role.OWNER if principal.is_site_admin else role_in(session, principal.user, team)
    if role is None:
        return frozenset()
    allowed = {permission for permission in ROLE_PERMISSIONS[role] if permission.value in principal.scopes}
    if principal.is_site_admin:
        allowed.add(Permission.ADMIN)
    return frozenset(allowed)


def app_for(session: Session, principal: Principal, name: str, permission: Permission) -> App:
    """The app named `name` if the caller may do `permission` on it; 404 if it is not theirs to see."""
    app = session.scalar(select(App).where(App.name == name))
    missing = NotFound(f"no app named {name!r}; `GET /api/v1/apps` lists yours")
    if app is None:
        raise missing
    if principal.is_site_admin:
        check_scope(principal, permission)
        return app
    role = role_in(session, principal.user, app.team)
    if role is None:
        raise missing
    check_scope(principal, permission)
    check_role(role, app.team, permission)
    return app


def team_for(session: Session, principal: Principal, name: str, permission: Permission) -> Team:
    """The team named `name` if the caller may do `permission` in it; 404 if they are not a member."""
    team = session.scalar(select(Team).where(Team.name == name))
    if team is None:
        raise NotFound(f"no team named {name!r}; `GET /api/v1/teams` lists yours")
    authorize_team(session, principal, team, permission)
    return team


def visible_apps(principal: Principal) -> Select[App]:
    """A query for the apps the caller can see."""
    statement = select(App)
    if principal.is_site_admin:
        return statement
    teams = select(Membership.team_id).where(Membership.user_id == principal.user.id)
    return statement.where(App.team_id.in_(teams))


def require_site_admin(principal: Principal) -> None:
    """Refuse anything but the site administrator with an admin-scoped token."""
    if not principal.user.is_admin:
        raise Forbidden("only the site administrator can do this")
    check_scope(principal, Permission.ADMIN)
