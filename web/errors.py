"""Errors on web pages as pages: not signed in goes to sign-in, others get a readable page with what to do.

The API's handlers (problem+json) stay in charge of `/api/`, `/webhooks/` and `/github/` and anything that
asked for JSON; this only wraps them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import cast
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from api.services.accounts import setup_needed
from core.db import session_scope
from core.errors import DockyardError, Unauthorized
from web.templating import render

API_PREFIXES = ("/api/", "/webhooks/", "/github/", "/metrics", "/healthz", "/docs", "/openapi.json")

Handler = Callable[[Request, Exception], Awaitable[Response]]


def is_page(request: Request) -> bool:
    """Whether the request is for the web UI rather than the API."""
    if request.url.path.startswith(API_PREFIXES):
        return False
    return "application/json" not in request.headers.get("accept", "")


def _sign_in_redirect(request: Request) -> RedirectResponse:
    with session_scope() as session:
        if setup_needed(session):
            return RedirectResponse("/setup", status_code=303)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def _page_for(request: Request, error: Exception) -> Response:
    if isinstance(error, Unauthorized):
        return _sign_in_redirect(request)
    if isinstance(error, DockyardError):
        status, title, detail = error.status, error.title, error.detail
    elif isinstance(error, HTTPException):
        status = error.status_code
        title = "Page not found" if status == 404 else str(error.detail)
        detail = "There is nothing at this address." if status == 404 else str(error.detail)
    else:
        status, title = 500, "Something went wrong"
        detail = "Dockyard failed unexpectedly; the server log has the details."
    return render(request, "error.html", status_code=status, title=title, detail=detail)


def install(app: FastAPI) -> None:
    """Answer web pages' errors with pages, delegating everything else to the handlers already there."""
    for kind in (DockyardError, HTTPException, Exception):
        api_handler = cast(Handler, app.exception_handlers[kind])

        async def handle(request: Request, error: Exception, api_handler: Handler = api_handler) -> Response:
            if is_page(request):
                return _page_for(request, error)
            return await api_handler(request, error)

        app.add_exception_handler(kind, handle)
