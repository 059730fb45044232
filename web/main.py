"""The whole control plane as one ASGI app: the API with the web UI's pages on top (`dockyard server` runs
this). The API knows nothing of the pages; they call the same services."""

from __future__ import annotations

from pathlib import Path

from fastapi.staticfiles import StaticFiles

from api.main import create_app
from web import errors, headers
from web.routes import (
    app_overview,
    app_settings,
    apps_new,
    auth,
    dashboard,
    deliveries,
    deployments,
    github,
    invitations,
    runtime_logs,
    teams,
    tokens,
)

app = create_app()
errors.install(app)
headers.install(app)
app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
for module in (
    auth,
    dashboard,
    github,
    apps_new,  # /apps/new before /apps/{name}
    app_overview,
    deployments,
    runtime_logs,
    app_settings,
    deliveries,
    teams,
    tokens,
    invitations,
):
    app.include_router(module.router)

__all__ = ["app"]
