"""/api/v1/teams: teams own apps; owners and admins decide who is in them and with which role."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlalchemy.orm import Session

from api.deps import CurrentPrincipal, SessionDep
from api.schemas import MemberPublic, MemberSet, TeamCreate, TeamPublic
from api.services import accounts, teams
from api.services.access import Permission, authorize_team, team_for
from core.errors import ConfigError
from core.models import Role, Team

router = APIRouter(prefix="/api/v1/teams", tags=["teams"])


def team_public(session: Session, team: Team, role: Role) -> TeamPublic:
    """A team with its apps and members, and the caller's role in it."""
    return TeamPublic(
        name=team.name,
        role=role.value,
        apps=sorted(app.name for app in team.apps),
        members=[
            MemberPublic(username=membership.user.username, role=membership.role)
            for membership in teams.members(session, team)
        ],
        created_at=team.created_at,
    )


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError as error:
        raise ConfigError(f"must be one of {', '.join(role.value for role in Role)}", where="role") from error


@router.get("", response_model=list[TeamPublic])
def list_teams(session: SessionDep, principal: CurrentPrincipal) -> list[TeamPublic]:
    """Your teams and your role in each."""
    return [team_public(session, team, role) for team, role in teams.teams_of(session, principal)]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TeamPublic)
def create_team(body: TeamCreate, session: SessionDep, principal: CurrentPrincipal) -> TeamPublic:
    """A new team, with you as its owner."""
    return team_public(session, teams.create_team(session, principal, body.name), Role.OWNER)


@router.get("/{team}", response_model=TeamPublic)
def get_team(team: str, session: SessionDep, principal: CurrentPrincipal) -> TeamPublic:
    """One of your teams."""
    found = team_for(session, principal, team, Permission.READ)
    return team_public(session, found, authorize_team(session, principal, found, Permission.READ))


@router.delete("/{team}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def delete_team(team: str, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Delete a team that owns no apps (owners only)."""
    teams.delete_team(session, principal, team_for(session, principal, team, Permission.READ))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/{team}/members/{username}", response_model=MemberPublic)
def set_member(
    team: str, username: str, body: MemberSet, session: SessionDep, principal: CurrentPrincipal
) -> MemberPublic:
    """Add a user to the team or change their role (owners and admins; only owners touch the owner role)."""
    found = team_for(session, principal, team, Permission.READ)
    membership = teams.set_member(
        session, principal, found, accounts.get_user(session, username), _role(body.role)
    )
    return MemberPublic(username=membership.user.username, role=membership.role)


@router.delete("/{team}/members/{username}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def remove_member(team: str, username: str, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Take a user out of the team; the last owner stays."""
    found = team_for(session, principal, team, Permission.READ)
    teams.remove_member(session, principal, found, accounts.get_user(session, username))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
