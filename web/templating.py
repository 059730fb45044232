"""Rendering pages: the Jinja2 environment, its filters, flash notices and redirects after a form."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from core.errors import ConfigError, DockyardError
from core.settings import get_settings
from web.session import Viewer, csrf_for, ensure_anonymous_cookie

NOTICE_COOKIE = "dockyard_notice"
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """'3 min ago' for a past moment; '' for none."""
    if moment is None:
        return ""
    seconds = int(((now or datetime.now(UTC)) - moment).total_seconds())
    if seconds < 45:
        return "just now"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


def duration(start: datetime | None, end: datetime | None) -> str:
    """'1 min 5 s' between two moments; '' when either is missing."""
    if start is None or end is None:
        return ""
    seconds = max(0, int((end - start).total_seconds()))
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def iso(moment: datetime | None) -> str:
    """The moment as ISO 8601 UTC (for `<time datetime>`)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else ""


templates.env.filters.update(ago=ago, duration=duration, iso=iso, short=lambda sha: (sha or "")[:7])


def render(
    request: Request,
    template: str,
    viewer: Viewer | None = None,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """A page: `template` with the viewer, this browser's CSRF token and any pending notice."""
    settings = get_settings()
    notice = request.cookies.get(NOTICE_COOKIE)
    response = templates.TemplateResponse(
        request,
        template,
        {
            "viewer": viewer,
            "csrf": viewer.csrf if viewer else csrf_for(request, settings),
            "notice": unquote(notice) if notice else None,
            **context,
        },
        status_code=status_code,
    )
    if notice:
        response.delete_cookie(NOTICE_COOKIE, path="/")
    ensure_anonymous_cookie(request, response, settings)
    return response


def redirect(url: str, notice: str | None = None) -> RedirectResponse:
    """Go to `url` after a form (303, so the browser GETs it), showing `notice` there once."""
    response = RedirectResponse(url, status_code=303)
    if notice:
        response.set_cookie(NOTICE_COOKIE, quote(notice), max_age=60, httponly=True, samesite="lax", path="/")
    return response


def form_error(error: DockyardError) -> dict[str, Any]:
    """Template context for a refused form: the message, and the field it is about when known."""
    where = error.where if isinstance(error, ConfigError) else None
    detail = error.detail.removeprefix(f"{where}: ") if where else error.detail  # shown next to the field
    return {"error": detail, "error_field": where}


def check_typed_twice(password: str, again: str, *, where: str) -> None:
    """Refuse a new password whose confirmation differs (ConfigError on the confirmation field `where`)."""
    if password != again:
        raise ConfigError("the two passwords differ; type the same password twice", where=where)
