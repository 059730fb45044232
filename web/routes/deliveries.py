"""An app's webhook delivery log: every push or hook call it received and what Dockyard decided, and why."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.deps import SessionDep, SettingsDep
from api.paging import PageDep
from api.services.deliveries import list_deliveries, started_deployments
from web.pages import app_page
from web.session import ViewerDep, csrf_protect
from web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])


@router.get("/apps/{name}/deliveries")
def deliveries_page(
    name: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    viewer: ViewerDep,
    paging: PageDep,
) -> Response:
    """A page of the delivery log, newest first, with an "Older" link like the API's `Link` header."""
    page = app_page(session, viewer, name)
    found = list_deliveries(session, page.app, paging)
    older = None
    if found.next_before is not None:
        older = f"/apps/{name}/deliveries?before={found.next_before}" + (
            f"&limit={paging.limit}" if "limit" in request.query_params else ""
        )
    return render(
        request,
        "deliveries.html",
        viewer,
        app=page.app,
        page=page,
        tab="deliveries",
        deliveries=found.items,
        deployments=started_deployments(session, found.items),
        older=older,
        newest=f"/apps/{name}/deliveries" if paging.before is not None else None,
        webhook_url=f"{settings.public_url.rstrip('/')}/webhooks/github",
    )
