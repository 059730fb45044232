"""The dashboard: the apps of the viewer's teams, each with its newest deployment."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.deps import SessionDep, SettingsDep
from api.services.access import Permission, check_scope
from api.services.app_overview import app_summaries
from web.session import ViewerDep, csrf_protect
from web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])


@router.get("/")
def dashboard(request: Request, session: SessionDep, settings: SettingsDep, viewer: ViewerDep) -> Response:
    """Every app the viewer can see, by name, with its state at a glance."""
    check_scope(viewer.principal, Permission.READ)
    return render(request, "dashboard.html", viewer, apps=app_summaries(session, settings, viewer.principal))


@router.get("/fragments/apps")
def app_list(request: Request, session: SessionDep, settings: SettingsDep, viewer: ViewerDep) -> Response:
    """The dashboard's list alone, which the page fetches again every few seconds to stay current."""
    check_scope(viewer.principal, Permission.READ)
    return render(
        request, "dashboard_list.html", viewer, apps=app_summaries(session, settings, viewer.principal)
    )
