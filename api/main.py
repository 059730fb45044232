"""The control plane's ASGI app."""

from __future__ import annotations

from fastapi import FastAPI

from api import problems
from api.routes import apps, deployments, operations, webhooks

app = FastAPI(
    title="Dockyard",
    summary="Run Python apps as persistent processes: push, build, serve.",
    version="0.1.0",
)
problems.install(app)
app.include_router(apps.router)
app.include_router(deployments.router)
app.include_router(operations.router)
app.include_router(webhooks.router)


@app.get("/healthz", tags=["health"])
def healthz() -> dict[str, str]:
    """Liveness: the API process answers."""
    return {"status": "ok"}
