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


def create_app() -> FastAPI:
    """A new instance of the control plane's API (the web UI builds its own on top of one)."""
    api = FastAPI(
        title="Dockyard",
        summary="Run Python apps as persistent processes: push, build, serve.",
        version="0.1.0",
    )
    problems.install(api)
    openapi.install(api)
    log_redaction.install()
    for module in (
        apps,
        deployments,
        operations,
        streams,
        webhooks,
        github,
        deliveries,
        deploy_hooks,
        metrics,
        notifications,
        accounts,
        teams,
        tokens,
        domains,
    ):
        api.include_router(module.router)
    api.add_api_route("/healthz", healthz, methods=["GET"], tags=["health"])
    return api


def healthz() -> dict[str, str]:
    """Liveness: the API process answers."""
    return {"status": "ok"}


app = create_app()
