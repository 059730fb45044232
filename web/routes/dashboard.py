"""The dashboard: the apps of the viewer's teams, each with its newest deployment, optionally filtered."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from api.deps import SessionDep, SettingsDep
from api.services.access import Permission, check_scope
from api.services.app_overview import AppSummary, app_summaries
from core.settings import Settings
from web.session import Viewer, ViewerDep, csrf_protect
from web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
SEARCH_FROM = 8  # apps from which the dashboard offers a search box

SearchQuery = Query("", max_length=100, description="Part of an app's name, repository or team.")


def _matching(session: Session, settings: Settings, viewer: Viewer, q: str) -> tuple[list[AppSummary], int]:
    """The viewer's apps whose name, repository or team contains `q`, and how many apps they have in all."""
    check_scope(viewer.principal, Permission.READ)
    summaries = app_summaries(session, settings, viewer.principal)
    needle = q.strip().lower()
    found = [
        item
        for item in summaries
        if needle in f"{item.app.name} {item.app.repo_full_name} {item.app.team.name}".lower()
    ]
    return found, len(summaries)


@router.get("/")
def dashboard(
    request: Request, session: SessionDep, settings: SettingsDep, viewer: ViewerDep, q: str = SearchQuery
) -> Response:
    """Every app the viewer can see, by name, with its state at a glance."""
    apps, total = _matching(session, settings, viewer, q)
    return render(
        request,
        "dashboard.html",
        viewer,
        apps=apps,
        total=total,
        q=q.strip(),
        search=total >= SEARCH_FROM or q,
    )


@router.get("/fragments/apps")
def app_list(
    request: Request, session: SessionDep, settings: SettingsDep, viewer: ViewerDep, q: str = SearchQuery
) -> Response:
    """The dashboard's list alone, which the page fetches again every few seconds to stay current."""
    apps, total = _matching(session, settings, viewer, q)
    return render(request, "dashboard_list.html", viewer, apps=apps, total=total, q=q.strip())
