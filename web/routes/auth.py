"""First run (the administrator's account), signing in and out."""

from __future__ import annotations

import redis
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from api.deps import SessionDep, SettingsDep
from api.services import accounts, sign_in_throttle, web_sessions
from core.errors import DockyardError, Unauthorized
from web.session import csrf_protect, set_session_cookie, sign_out, signed_in
from web.templating import check_typed_twice, form_error, redirect, render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (never `//evil.example`)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/setup")
def setup_page(request: Request, session: SessionDep) -> Response:
    """First run: create the administrator (only while none exists)."""
    if not accounts.setup_needed(session):
        return redirect("/login")
    return render(request, "setup.html", username="admin")


@router.post("/setup")
def setup(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: str = Form(""),
    password: str = Form(""),
    password_again: str = Form(""),
) -> Response:
    """Create the administrator, sign them in, and go on to connecting GitHub."""
    try:
        check_typed_twice(password, password_again, where="password_again")
        user = accounts.create_first_admin(session, username=username, password=password)
    except DockyardError as error:
        return render(request, "setup.html", status_code=error.status, username=username, **form_error(error))
    response = redirect(
        "/settings/github?welcome=1", notice=f"Welcome, {user.username}: you are the administrator."
    )
    set_session_cookie(response, settings, web_sessions.start_session(session, user))
    return response


@router.get("/login")
def login_page(request: Request, session: SessionDep, next: str | None = None) -> Response:
    """The sign-in form (first run goes to setup instead)."""
    if accounts.setup_needed(session):
        return redirect("/setup")
    return render(request, "login.html", next=_safe_next(next), username="")


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
) -> Response:
    """Check the password (throttled like the API's sign-in) and start a session."""
    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=1.0, socket_timeout=1.0)
    try:
        sign_in_throttle.check(client, settings, username)
        try:
            user = accounts.sign_in(session, username=username, password=password)
        except Unauthorized:
            sign_in_throttle.record_failure(client, settings, username)
            raise
        sign_in_throttle.clear(client, settings, username)
    except DockyardError as error:
        return render(
            request,
            "login.html",
            status_code=error.status,
            next=_safe_next(next),
            username=username,
            **form_error(error),
        )
    finally:
        client.close()
    response = redirect(_safe_next(next))
    set_session_cookie(response, settings, web_sessions.start_session(session, user))
    return response


@router.post("/logout", dependencies=[Depends(signed_in)])
def logout(request: Request, session: SessionDep) -> Response:
    """End this browser's session."""
    response = redirect("/login", notice="You are signed out.")
    sign_out(session, request, response)
    return response
