"""Teams and the people in them: the viewer's teams, a team's members and invitations, and (for the site
administrator) every account on this Dockyard."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.deps import SessionDep, SettingsDep
from api.services import accounts, invitations, teams
from api.services.access import (
    ROLE_PERMISSIONS,
    Permission,
    authorize_team,
    require_site_admin,
    team_for,
)
from core.errors import DockyardError
from core.models import Role
from web.session import Viewer, ViewerDep, csrf_protect
from web.templating import form_error, redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])


def _teams_page(
    request: Request, session: Session, viewer: Viewer, *, status_code: int = 200, **context: Any
) -> Response:
    return render(
        request,
        "teams.html",
        viewer,
        status_code=status_code,
        nav="teams",
        summaries=teams.team_summaries(session, viewer.principal),
        **context,
    )


def _team_page(
    request: Request,
    session: Session,
    viewer: Viewer,
    name: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """Team `name` with its members, and its invitations when the viewer manages it; `context` carries a
    refused form (`error`, `error_form`, what was typed) or a link just made (`created`)."""
    team = team_for(session, viewer.principal, name, Permission.READ)
    mine = authorize_team(session, viewer.principal, team, Permission.READ)
    manages = Permission.MANAGE in ROLE_PERMISSIONS[mine]  # a browser session has every scope
    grantable = [role.value for role in Role if mine is Role.OWNER or role is not Role.OWNER]
    return render(
        request,
        "teams_team.html",
        viewer,
        status_code=status_code,
        nav="teams",
        team=team,
        my_role=mine.value,
        manages=manages,
        grantable=grantable,
        all_roles=[role.value for role in Role],
        members=teams.members(session, team),
        invitations=invitations.list_invitations(session, viewer.principal, team) if manages else [],
        **context,
    )


@router.get("/teams")
def teams_page(request: Request, session: SessionDep, viewer: ViewerDep) -> Response:
    """The viewer's teams, their role in each and how many people and apps each has."""
    return _teams_page(request, session, viewer)


@router.post("/teams")
def create_team(request: Request, session: SessionDep, viewer: ViewerDep, name: str = Form("")) -> Response:
    """A new team, with the site administrator as its owner."""
    try:
        require_site_admin(viewer.principal)
        team = teams.create_team(session, viewer.principal, name.strip())
    except DockyardError as error:
        return _teams_page(request, session, viewer, status_code=error.status, name=name, **form_error(error))
    return redirect(f"/teams/{team.name}", notice=f"Team {team.name} created; invite people to it below.")


@router.get("/teams/{team}")
def team_page(team: str, request: Request, session: SessionDep, viewer: ViewerDep) -> Response:
    """A team's members; owners and admins also change roles, remove people and invite."""
    return _team_page(request, session, viewer, team)


@router.post("/teams/{team}/members")
def add_member(
    team: str,
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    username: str = Form(""),
    role: str = Form("member"),
) -> Response:
    """Put an existing account in the team (site administrator; others invite)."""
    found = team_for(session, viewer.principal, team, Permission.READ)
    try:
        require_site_admin(viewer.principal)
        user = accounts.get_user(session, username)
        teams.set_member(session, viewer.principal, found, user, teams.parse_role(role))
    except DockyardError as error:
        return _team_page(
            request,
            session,
            viewer,
            team,
            status_code=error.status,
            error_form="add",
            add_username=username,
            add_role=role,
            **form_error(error),
        )
    return redirect(f"/teams/{team}", notice=f"{user.username} is now {role} in {team}.")


@router.post("/teams/{team}/members/{username}/role")
def change_role(
    team: str, username: str, request: Request, session: SessionDep, viewer: ViewerDep, role: str = Form("")
) -> Response:
    """Change a member's role (owners and admins; only owners touch the owner role; one owner stays)."""
    found = team_for(session, viewer.principal, team, Permission.READ)
    try:
        user = accounts.get_user(session, username)
        teams.set_member(session, viewer.principal, found, user, teams.parse_role(role))
    except DockyardError as error:
        return _team_page(
            request,
            session,
            viewer,
            team,
            status_code=error.status,
            error_form="members",
            **form_error(error),
        )
    return redirect(f"/teams/{team}", notice=f"{user.username} is now {role} in {team}.")


@router.post("/teams/{team}/members/{username}/remove")
def remove_member(
    team: str, username: str, request: Request, session: SessionDep, viewer: ViewerDep
) -> Response:
    """Take someone out of the team (one owner always stays)."""
    found = team_for(session, viewer.principal, team, Permission.READ)
    try:
        user = accounts.get_user(session, username)
        teams.remove_member(session, viewer.principal, found, user)
    except DockyardError as error:
        return _team_page(
            request,
            session,
            viewer,
            team,
            status_code=error.status,
            error_form="members",
            **form_error(error),
        )
    if user.id == viewer.user.id and not viewer.principal.is_site_admin:
        return redirect("/teams", notice=f"You left {team}.")
    return redirect(f"/teams/{team}", notice=f"{user.username} is no longer in {team}.")


@router.post("/teams/{team}/invitations")
def invite(
    team: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    role: str = Form("member"),
    username: str = Form(""),
    note: str = Form(""),
) -> Response:
    """Make an invitation link and show it, this once."""
    found = team_for(session, viewer.principal, team, Permission.READ)
    try:
        invitation, clear = invitations.create_invitation(
            session, viewer.principal, found, role=teams.parse_role(role), username=username, note=note
        )
    except DockyardError as error:
        return _team_page(
            request,
            session,
            viewer,
            team,
            status_code=error.status,
            error_form="invite",
            invite_role=role,
            invite_username=username,
            invite_note=note,
            **form_error(error),
        )
    return _team_page(
        request,
        session,
        viewer,
        team,
        status_code=201,
        created=invitation,
        created_url=invitations.invitation_url(settings.public_url, clear),
    )


@router.post("/teams/{team}/invitations/{invitation_id}/revoke")
def revoke_invitation(
    team: str, invitation_id: int, request: Request, session: SessionDep, viewer: ViewerDep
) -> Response:
    """Make an invitation's link stop working."""
    found = team_for(session, viewer.principal, team, Permission.READ)
    try:
        invitations.revoke_invitation(session, viewer.principal, found, invitation_id)
    except DockyardError as error:
        return _team_page(
            request,
            session,
            viewer,
            team,
            status_code=error.status,
            error_form="invitations",
            **form_error(error),
        )
    return redirect(f"/teams/{team}", notice="Invitation revoked: its link no longer works.")


def _users_page(
    request: Request, session: Session, viewer: Viewer, *, status_code: int = 200, **context: Any
) -> Response:
    return render(
        request,
        "users.html",
        viewer,
        status_code=status_code,
        nav="teams",
        users=accounts.all_users(session, viewer.principal),
        **context,
    )


@router.get("/users")
def users_page(request: Request, session: SessionDep, viewer: ViewerDep) -> Response:
    """Every account on this Dockyard (site administrator)."""
    return _users_page(request, session, viewer, username="", is_admin=False)


@router.post("/users")
def create_user(
    request: Request,
    session: SessionDep,
    viewer: ViewerDep,
    username: str = Form(""),
    password: str = Form(""),
    is_admin: bool = Form(False),
) -> Response:
    """A new account (site administrator); they join teams from a team's page."""
    try:
        require_site_admin(viewer.principal)
        user = accounts.create_user(session, username=username, password=password, is_admin=is_admin)
    except DockyardError as error:
        return _users_page(
            request,
            session,
            viewer,
            status_code=error.status,
            username=username,
            is_admin=is_admin,
            **form_error(error),
        )
    return redirect(
        "/users",
        notice=f"Account {user.username} created. Add them to a team from the team's page "
        "(Add an existing user), and give them their password.",
    )


@router.post("/users/{username}/delete")
def delete_user(username: str, request: Request, session: SessionDep, viewer: ViewerDep) -> Response:
    """Delete an account, its tokens and sessions (site administrator; not their own)."""
    try:
        accounts.delete_user(session, viewer.principal, username)
    except DockyardError as error:
        return _users_page(
            request,
            session,
            viewer,
            status_code=error.status,
            username="",
            is_admin=False,
            **form_error(error),
        )
    return redirect("/users", notice=f"Account {username} deleted.")
