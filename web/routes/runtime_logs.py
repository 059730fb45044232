"""An app's runtime logs: a live tail of what its processes write, per process and filtered by text."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api.deps import SessionDep, SettingsDep
from api.services import operations, runtime_logs
from core.errors import ConfigError, TemporaryError
from web.pages import app_page
from web.session import ViewerDep, csrf_protect
from web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])

TAIL = 200  # lines rendered with the page; the live tail goes on after the last of them


@router.get("/apps/{name}/logs")
def logs_page(
    request: Request,
    name: str,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    process: str = Query(""),
    filter: str = Query("", max_length=200),
) -> Response:
    """The last lines of the app's containers (all, or one process), then a live tail in the browser."""
    page = app_page(session, viewer, name)
    processes = operations.process_names(session, page.app)
    chosen = process or None
    error = error_field = None
    status_code = 200
    lines: list[str] = []
    since = ""
    if chosen is not None:
        try:
            operations.check_process(session, page.app, chosen)
        except ConfigError as refused:
            error, error_field, chosen = refused.detail, "process", None
            status_code = refused.status
    if error is None:
        try:
            with operations.engine(settings) as runtime:
                found = runtime_logs.read_lines(runtime, name, process=chosen, tail=TAIL)
        except TemporaryError as down:
            error = f"Cannot read the logs: {down.detail}. The live tail below reconnects on its own."
        else:
            since = found[-1].time if found else ""
            needle = filter.lower()
            lines = [
                text for text in (f"{line.source} | {line.text}" for line in found) if needle in text.lower()
            ]
    return render(
        request,
        "runtime_logs.html",
        viewer,
        status_code=status_code,
        page=page,
        app=page.app,
        tab="logs",
        processes=processes,
        process=chosen or "",
        filter=filter,
        lines=lines,
        since=since,
        error=error,
        error_field=error_field,
    )
