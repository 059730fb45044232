"""Who is using the browser: the session cookie, signing in and out, and CSRF checks on every change.

Pages take `ViewerDep`; a browser that is not signed in is sent to the sign-in page (or to first-run setup).
Every POST must carry the CSRF token of this browser (`csrf_token` form field or `X-CSRF-Token` header) and,
when the browser says where it comes from, an `Origin` of this site.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy.orm import Session

from api.deps import SessionDep, SettingsDep
from api.services import web_sessions
from api.services.access import Principal
from core import crypto
from core.errors import Forbidden, Unauthorized
from core.models import User
from core.settings import Settings

SESSION_COOKIE = web_sessions.COOKIE_NAME
ANONYMOUS_COOKIE = "dockyard_anon"  # ties the sign-in and first-run forms' CSRF token to this browser
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class Viewer:
    """The signed-in person looking at a page, and the CSRF token their forms carry."""

    principal: Principal
    csrf: str

    @property
    def user(self) -> User:
        return self.principal.user


def _secure(settings: Settings) -> bool:
    return settings.public_url.startswith("https://")


def set_session_cookie(response: Response, settings: Settings, clear: str) -> None:
    """Hand the browser its session: HttpOnly, SameSite=Lax, Secure behind HTTPS."""
    response.set_cookie(
        SESSION_COOKIE,
        clear,
        max_age=int(web_sessions.IDLE_LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=_secure(settings),
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    """Forget the session in the browser."""
    response.delete_cookie(SESSION_COOKIE, path="/")


def anonymous_cookie(request: Request) -> str:
    """This browser's anonymous cookie, made up now when it has none (`ensure_anonymous_cookie` sets it)."""
    existing = request.cookies.get(ANONYMOUS_COOKIE)
    if existing:
        return existing
    made: str = request.state.__dict__.setdefault("anonymous_cookie", crypto.new_token("dya"))
    return made


def ensure_anonymous_cookie(request: Request, response: Response, settings: Settings) -> None:
    """Set the anonymous cookie a page's CSRF token was derived from, if the browser did not have it."""
    made = request.state.__dict__.get("anonymous_cookie")
    if made and not request.cookies.get(ANONYMOUS_COOKIE):
        response.set_cookie(
            ANONYMOUS_COOKIE, made, httponly=True, samesite="lax", secure=_secure(settings), path="/"
        )


def csrf_for(request: Request, settings: Settings) -> str:
    """The CSRF token this browser's forms carry: tied to its session, or to its anonymous cookie."""
    cookie = request.cookies.get(SESSION_COOKIE) or anonymous_cookie(request)
    return web_sessions.csrf_token(settings.secret(), cookie)


def signed_in(request: Request, session: SessionDep, settings: SettingsDep) -> Viewer:
    """The signed-in viewer; Unauthorized (sent to the sign-in page) when the browser has no live session."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise Unauthorized("sign in to continue")
    principal = web_sessions.principal_for(session, cookie)
    return Viewer(principal=principal, csrf=web_sessions.csrf_token(settings.secret(), cookie))


ViewerDep = Annotated[Viewer, Depends(signed_in)]


async def csrf_protect(request: Request, settings: SettingsDep) -> None:
    """Refuse a change that did not come from one of this site's own forms."""
    if request.method not in UNSAFE_METHODS:
        return
    if not web_sessions.trusted_origin(
        request.headers.get("origin"), request.headers.get("host", ""), settings.public_url
    ):
        raise Forbidden("this form was sent from another site; open Dockyard and try again")
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else ""
    cookie = request.cookies.get(SESSION_COOKIE) or request.cookies.get(ANONYMOUS_COOKIE) or ""
    if not web_sessions.csrf_valid(settings.secret(), cookie, sent):
        raise Forbidden("this form has expired (or cookies are blocked); reload the page and try again")


def sign_out(session: Session, request: Request, response: Response) -> None:
    """End the browser's session on the server and in the browser."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        web_sessions.end_session(session, cookie)
    clear_session_cookie(response)
