"""Teams own apps; owners and admins manage who is in them and with which role."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.services.access import Permission, Principal, authorize_team, check_scope, team_for
from core.errors import ConfigError, Conflict, Forbidden
from core.models import App, Membership, Role, Team, User

TEAM_NAME = re.compile(r"^[a-z][a-z0-9-]{0,39}$")


def parse_role(value: str) -> Role:
    """The role named `value`; 422 naming the roles there are."""
    try:
        return Role(value)
    except ValueError as error:
        raise ConfigError(f"must be one of {', '.join(role.value for role in Role)}", where="role") from error


@dataclass(frozen=True)
class TeamSummary:
    """A team as the teams page lists it: the caller's role and how big it is."""

    team: Team
    role: Role
    members: int
    apps: int


def teams_of(session: Session, principal: Principal) -> list[tuple[Team, Role]]:
    """The caller's teams with their role in each (the site administrator sees every team, as owner)."""
    check_scope(principal, Permission.READ)
    if principal.is_site_admin:
        return [(team, Role.OWNER) for team in session.scalars(select(Team).order_by(Team.name))]
    rows = session.execute(
        select(Team, Membership.role)
        .join(Membership, Membership.team_id == Team.id)
        .where(Membership.user_id == principal.user.id)
        .order_by(Team.name)
    )
    return [(team, Role(role)) for team, role in rows]


def team_summaries(session: Session, principal: Principal) -> list[TeamSummary]:
    """The caller's teams with their role and member and app counts (three queries, whatever the size)."""
    mine = teams_of(session, principal)
    ids = [team.id for team, _ in mine]
    members: dict[int, int] = {
        team_id: count
        for team_id, count in session.execute(
            select(Membership.team_id, func.count())
            .where(Membership.team_id.in_(ids))
            .group_by(Membership.team_id)
        )
    }
    apps: dict[int, int] = {
        team_id: count
        for team_id, count in session.execute(
            select(App.team_id, func.count()).where(App.team_id.in_(ids)).group_by(App.team_id)
        )
    }
    return [
        TeamSummary(team=team, role=role, members=members.get(team.id, 0), apps=apps.get(team.id, 0))
        for team, role in mine
    ]


def create_team(session: Session, principal: Principal, name: str) -> Team:
    """A new team with the caller as its owner."""
    check_scope(principal, Permission.MANAGE)
    if not TEAM_NAME.match(name):
        raise ConfigError(
            "must be 1-40 lowercase letters, digits and dashes, starting with a letter", where="name"
        )
    if session.scalar(select(Team.id).where(Team.name == name)) is not None:
        raise Conflict(f"a team named {name!r} exists already; choose another name")
    team = Team(name=name)
    session.add_all([team, Membership(team=team, user=principal.user, role=Role.OWNER.value)])
    session.flush()
    return team


def team_for_new_app(session: Session, principal: Principal, name: str | None) -> Team:
    """The team a new app goes to: the named one, else the caller's only team where they may create apps."""
    if name is not None:
        return team_for(session, principal, name, Permission.MANAGE)
    check_scope(principal, Permission.MANAGE)
    candidates = [team for team, role in teams_of(session, principal) if role in (Role.OWNER, Role.ADMIN)]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise Forbidden("creating apps needs the owner or admin role in a team: ask a team owner")
    names = ", ".join(team.name for team in candidates)
    raise ConfigError(f"you are in several teams; name the one that owns the app: {names}", where="team")


def members(session: Session, team: Team) -> list[Membership]:
    """The team's memberships, by username."""
    return sorted(team.memberships, key=lambda membership: membership.user.username)


def _owners(session: Session, team: Team) -> int:
    return (
        session.scalar(
            select(func.count()).where(Membership.team_id == team.id, Membership.role == Role.OWNER.value)
        )
        or 0
    )


def set_member(session: Session, principal: Principal, team: Team, user: User, role: Role) -> Membership:
    """Add `user` to `team` or change their role; only owners grant or take away the owner role."""
    mine = authorize_team(session, principal, team, Permission.MANAGE)
    membership = session.scalar(
        select(Membership).where(Membership.team_id == team.id, Membership.user_id == user.id)
    )
    touches_owner = role is Role.OWNER or (membership is not None and membership.role == Role.OWNER.value)
    if touches_owner and mine is not Role.OWNER:
        raise Forbidden(f"only an owner of {team.name!r} can grant or take away the owner role")
    if membership is None:
        membership = Membership(team=team, user=user, role=role.value)
        session.add(membership)
    else:
        if membership.role == Role.OWNER.value and role is not Role.OWNER and _owners(session, team) == 1:
            raise Conflict(
                f"{user.username!r} is the last owner of {team.name!r}: make someone else owner first"
            )
        membership.role = role.value
    session.flush()
    return membership


def remove_member(session: Session, principal: Principal, team: Team, user: User) -> None:
    """Take `user` out of `team`; a team always keeps one owner."""
    mine = authorize_team(session, principal, team, Permission.MANAGE)
    membership = session.scalar(
        select(Membership).where(Membership.team_id == team.id, Membership.user_id == user.id)
    )
    if membership is None:
        return
    if membership.role == Role.OWNER.value:
        if mine is not Role.OWNER:
            raise Forbidden(f"only an owner of {team.name!r} can remove an owner")
        if _owners(session, team) == 1:
            raise Conflict(
                f"{user.username!r} is the last owner of {team.name!r}: make someone else owner first"
            )
    session.delete(membership)
    session.flush()


def delete_team(session: Session, principal: Principal, team: Team) -> None:
    """Delete an empty team (owners only); a team that still owns apps is refused with their names."""
    role = authorize_team(session, principal, team, Permission.MANAGE)
    if role is not Role.OWNER:
        raise Forbidden(f"only an owner of {team.name!r} can delete it")
    apps = list(session.scalars(select(App.name).where(App.team_id == team.id).order_by(App.name)))
    if apps:
        raise Conflict(f"team {team.name!r} still owns {', '.join(apps)}: delete or move them first")
    session.delete(team)
    session.flush()
