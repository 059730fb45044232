"""`Server-Timing: app;dur=<ms>` on every page, so browsers' dev tools and `bench/web_pages.py` see how long
the server took, apart from the network."""

from __future__ import annotations

import time

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.errors import is_page


class ServerTiming:
    """Pure ASGI middleware (streaming API responses and WebSockets pass through untouched)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/") or not is_page(Request(scope)):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.append("Server-Timing", f"app;dur={(time.perf_counter() - started) * 1000:.1f}")
            await send(message)

        await self.app(scope, receive, timed)


def install(app: FastAPI) -> None:
    """Time each web page (not API calls, not static files) until its response headers."""
    app.add_middleware(ServerTiming)
