"""The viewer's own things: API tokens (created with scopes and an expiry, shown once, revocable) and their
account (teams, password)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.deps import SessionDep, SettingsDep
from api.services import accounts, tokens, web_sessions
from api.services.access import ALL_SCOPES
from core.errors import ConfigError, DockyardError
from core.models import utcnow
from web.session import Viewer, ViewerDep, csrf_protect, set_session_cookie
from web.templating import check_typed_twice, form_error, redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

MAX_EXPIRY_DAYS = 3650  # as the API allows
DEFAULT_SCOPES = ("read", "deploy", "write", "manage")
SCOPE_HELP = {
    "read": "see apps, deployments and logs",
    "deploy": "deploy, roll back, restart, scale, run commands",
    "write": "change env vars and app settings",
    "manage": "create and delete apps, manage team members",
    "admin": "site administration (users, teams, GitHub)",
}


def _expiry(days: str) -> int | None:
    """The expiry field: empty for a token that does not expire, else whole days within the API's bounds."""
    if not days.strip():
        return None
    try:
        value = int(days)
    except ValueError as error:
        raise ConfigError("must be a whole number of days, or empty", where="expires_in_days") from error
    if not 1 <= value <= MAX_EXPIRY_DAYS:
        raise ConfigError(
            f"must be 1 to {MAX_EXPIRY_DAYS} days, or empty for a token that does not expire",
            where="expires_in_days",
        )
    return value


def _tokens_page(
    request: Request, session: Session, viewer: Viewer, *, status_code: int = 200, **context: Any
) -> Response:
    scopes = [scope for scope in ALL_SCOPES if scope != "admin" or viewer.user.is_admin]
    context.setdefault("form", {"name": "", "scopes": list(DEFAULT_SCOPES), "expires_in_days": "90"})
    return render(
        request,
        "tokens.html",
        viewer,
        status_code=status_code,
        nav="tokens",
        tokens=tokens.list_tokens(session, viewer.user),
        scopes=[(scope, SCOPE_HELP[scope]) for scope in scopes],
        now=utcnow(),
        **context,
    )


@router.get("/tokens")
def tokens_page(request: Request, session: SessionDep, viewer: ViewerDep) -> Response:
    """The viewer's API tokens, and a form to create one."""
    return _tokens_page(request, session, viewer)


@router.post("/tokens")
def create_token(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    name: str = Form(""),
    scopes: list[str] = Form([]),
    expires_in_days: str = Form(""),
) -> Response:
    """A new token, shown on this page only (a reload does not show it again)."""
    try:
        token, clear = tokens.create_token(
            session,
            user=viewer.user,
            name=name,
            scopes=scopes,
            expires_in_days=_expiry(expires_in_days),
            granted_by=viewer.principal,
        )
    except DockyardError as error:
        form = {"name": name, "scopes": scopes, "expires_in_days": expires_in_days}
        return _tokens_page(
            request, session, viewer, status_code=error.status, form=form, **form_error(error)
        )
    return _tokens_page(
        request,
        session,
        viewer,
        status_code=201,
        created=token,
        created_clear=clear,
        public_url=settings.public_url.rstrip("/"),
    )


@router.post("/tokens/{token_id}/revoke")
def revoke_token(token_id: int, request: Request, session: SessionDep, viewer: ViewerDep) -> Response:
    """Revoke one of the viewer's tokens: it answers 401 from now on."""
    try:
        token = tokens.revoke_token(session, viewer.principal, token_id)
    except DockyardError as error:
        return _tokens_page(request, session, viewer, status_code=error.status, **form_error(error))
    return redirect("/tokens", notice=f"Token {token.name} revoked: it no longer works.")


def _account_page(
    request: Request, session: Session, viewer: Viewer, *, status_code: int = 200, **context: Any
) -> Response:
    memberships = sorted(viewer.user.memberships, key=lambda membership: membership.team.name)
    return render(
        request, "account.html", viewer, status_code=status_code, memberships=memberships, **context
    )


@router.get("/account")
def account_page(request: Request, session: SessionDep, viewer: ViewerDep) -> Response:
    """The viewer's account: who they are, their teams, and changing their password."""
    return _account_page(request, session, viewer)


@router.post("/account/password")
def change_password(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    current_password: str = Form(""),
    new_password: str = Form(""),
    new_password_again: str = Form(""),
) -> Response:
    """Change the password; every other browser signed in as this user is signed out."""
    try:
        check_typed_twice(new_password, new_password_again, where="new_password_again")
        accounts.change_password(session, viewer.user, current=current_password, new=new_password)
    except DockyardError as error:
        where = error.where if isinstance(error, ConfigError) else "current_password"
        if where == "password":  # the service names the new password "password"
            where = "new_password"
        return _account_page(
            request, session, viewer, status_code=error.status, error=error.detail, error_field=where
        )
    response = redirect(
        "/account", notice="Password changed. Every other browser signed in as you has been signed out."
    )
    # The password change ended every session, this one too: this browser gets a fresh one.
    set_session_cookie(response, settings, web_sessions.start_session(session, viewer.user))
    return response
