"""The control plane's ASGI app."""

from __future__ import annotations

from fastapi import FastAPI

from api import log_redaction, openapi, problems
from api.routes import (
    accounts,
    apps,
    deliveries,
    deploy_hooks,
    deployments,
    domains,
    github,
    metrics,
    notifications,
    operations,
    streams,
    teams,
    tokens,
    webhooks,
)

app = FastAPI(
    title="Dockyard",
    summary="Run Python apps as persistent processes: push, build, serve.",
    version="0.1.0",
)
problems.install(app)
openapi.install(app)
log_redaction.install()
app.include_router(apps.router)
app.include_router(deployments.router)
app.include_router(operations.router)
app.include_router(streams.router)
app.include_router(webhooks.router)
app.include_router(github.router)
app.include_router(deliveries.router)
app.include_router(deploy_hooks.router)
app.include_router(metrics.router)
app.include_router(notifications.router)
app.include_router(accounts.router)
app.include_router(teams.router)
app.include_router(tokens.router)
app.include_router(domains.router)


@app.get("/healthz", tags=["health"])
def healthz() -> dict[str, str]:
    """Liveness: the API process answers."""
    return {"status": "ok"}
