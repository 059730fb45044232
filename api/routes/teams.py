"""/api/v1/teams: teams own apps; owners and admins decide who is in them and with which role, and invite
people with single-use links."""

from __future__ import annotations

from typing import Annotated, Literal, cast

from fastapi import APIRouter, Path, Response, status
from sqlalchemy.orm import Session

from api.deps import CurrentPrincipal, SessionDep, SettingsDep
from api.openapi import errors
from api.schemas import (
    InvitationCreate,
    InvitationCreated,
    InvitationPublic,
    MemberPublic,
    MemberSet,
    TeamCreate,
    TeamPublic,
)
from api.services import accounts, invitations, teams
from api.services.access import Permission, authorize_team, team_for
from core.models import Invitation, Role, Team

InvitationId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The invitation's id, from the list.")]
InvitationState = Literal["pending", "accepted", "revoked", "expired"]

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
        session, principal, found, accounts.get_user(session, username), teams.parse_role(body.role)
    )
    return MemberPublic(username=membership.user.username, role=membership.role)


@router.delete("/{team}/members/{username}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
def remove_member(team: str, username: str, session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Take a user out of the team; the last owner stays."""
    found = team_for(session, principal, team, Permission.READ)
    teams.remove_member(session, principal, found, accounts.get_user(session, username))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def invitation_public(invitation: Invitation) -> InvitationPublic:
    """An invitation as lists show it: never its token."""
    return InvitationPublic(
        id=invitation.id,
        team=invitation.team.name,
        role=invitation.role,
        username=invitation.username,
        note=invitation.note,
        state=cast(InvitationState, invitation.state()),
        created_by=invitation.created_by.username if invitation.created_by else None,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
        accepted_by=invitation.accepted_by.username if invitation.accepted_by else None,
        accepted_at=invitation.accepted_at,
        revoked_at=invitation.revoked_at,
    )


@router.post(
    "/{team}/invitations",
    status_code=status.HTTP_201_CREATED,
    response_model=InvitationCreated,
    responses=errors(409),
)
def create_invitation(
    team: str, body: InvitationCreate, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal
) -> InvitationCreated:
    """Invite someone to the team with a role (owners and admins; only owners invite owners).

    Answers with a single-use link, valid for 7 days, shown only here. 409 when the named user is in the
    team already.
    """
    found = team_for(session, principal, team, Permission.READ)
    invitation, clear = invitations.create_invitation(
        session,
        principal,
        found,
        role=teams.parse_role(body.role),
        username=body.username,
        note=body.note,
    )
    return InvitationCreated(
        **invitation_public(invitation).model_dump(),
        token=clear,
        url=invitations.invitation_url(settings.public_url, clear),
    )


@router.get("/{team}/invitations", response_model=list[InvitationPublic])
def list_invitations(team: str, session: SessionDep, principal: CurrentPrincipal) -> list[InvitationPublic]:
    """The team's invitations, newest first, with their state (owners and admins); links are not shown."""
    found = team_for(session, principal, team, Permission.READ)
    return [invitation_public(item) for item in invitations.list_invitations(session, principal, found)]


@router.delete(
    "/{team}/invitations/{invitation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=errors(409),
)
def revoke_invitation(
    team: str, invitation_id: InvitationId, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """Revoke an invitation: its link stops working (409 once it was accepted)."""
    found = team_for(session, principal, team, Permission.READ)
    invitations.revoke_invitation(session, principal, found, invitation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
