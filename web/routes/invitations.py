"""Opening an invitation link: join the team signed in, or create an account with the link; a used,
revoked, expired or unknown link says which and what to do."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import SessionDep, SettingsDep
from api.services import invitations, web_sessions
from api.services.access import role_in
from core.errors import DockyardError, NotFound, Unauthorized
from core.models import User
from core.settings import Settings
from web.session import SESSION_COOKIE, Viewer, ViewerDep, csrf_protect, set_session_cookie, signed_in
from web.templating import check_typed_twice, form_error, redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

CLOSED_STATUS = 410  # Gone: the link existed but works no more


def _viewer_or_none(request: Request, session: Session, settings: Settings) -> Viewer | None:
    try:
        return signed_in(request, session, settings)
    except Unauthorized:
        return None


def _invite_page(
    request: Request,
    session: Session,
    viewer: Viewer | None,
    token: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """The page for link `token`: what it invites to and how to accept, or why it no longer works."""
    try:
        invitation = invitations.find_invitation(session, token)
    except NotFound as error:
        return render(
            request, "invite_closed.html", viewer, status_code=404, state="unknown", detail=error.detail
        )
    try:
        invitations.check_usable(invitation)
    except DockyardError as error:
        return render(
            request,
            "invite_closed.html",
            viewer,
            status_code=CLOSED_STATUS,
            state=invitation.state(),
            detail=error.detail,
            invitation=invitation,
        )
    current_role = role_in(session, viewer.user, invitation.team) if viewer else None
    account_exists = invitation.username is not None and (
        session.scalar(select(User.id).where(User.username == invitation.username)) is not None
    )
    context.setdefault("username", invitation.username or "")
    return render(
        request,
        "invite.html",
        viewer,
        status_code=status_code,
        token=token,
        invitation=invitation,
        current_role=current_role.value if current_role else None,
        account_exists=account_exists,
        **context,
    )


@router.get("/invite/{token}")
def invite_page(token: str, request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """What the link invites to: a Join button when signed in, else a new account or sign in first."""
    return _invite_page(request, session, _viewer_or_none(request, session, settings), token)


@router.post("/invite/{token}/accept")
def accept(token: str, request: Request, session: SessionDep, viewer: ViewerDep) -> Response:
    """Join the team as the signed-in user."""
    try:
        membership = invitations.accept_invitation(session, viewer.user, token)
    except DockyardError as error:
        return _invite_page(request, session, viewer, token, status_code=error.status, **form_error(error))
    return _joined(membership.team.name, membership.role)


@router.post("/invite/{token}/signup")
def sign_up(
    token: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: str = Form(""),
    password: str = Form(""),
    password_again: str = Form(""),
) -> Response:
    """Create an account with the link, join the team and sign in."""
    try:
        check_typed_twice(password, password_again, where="password_again")
        user = invitations.sign_up_with_invitation(session, token, username=username, password=password)
    except DockyardError as error:
        return _invite_page(
            request, session, None, token, status_code=error.status, username=username, **form_error(error)
        )
    invitation = invitations.find_invitation(session, token)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        web_sessions.end_session(session, old)
    response = _joined(invitation.team.name, invitation.role, welcome=user.username)
    set_session_cookie(response, settings, web_sessions.start_session(session, user))
    return response


def _joined(team: str, role: str, welcome: str | None = None) -> Response:
    greeting = f"Welcome, {welcome}: you" if welcome else "You"
    return redirect("/", notice=f"{greeting} joined team {team} as {role}.")
