"""Headers on every page: `Server-Timing: app;dur=<ms>` (browsers' dev tools and `bench/web_pages.py` see how
long the server took, apart from the network) and the browser protections pages need: no framing by other
sites, scripts, styles and connections from this site only, no MIME sniffing, no full URLs in referrers."""

from __future__ import annotations

import time

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web.errors import is_page

PROTECTIONS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; object-src 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class PageHeaders:
    """Pure ASGI middleware (API responses, streams and WebSockets pass through untouched)."""

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
                for name, value in PROTECTIONS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, timed)


def install(app: FastAPI) -> None:
    """Time and protect each web page (not API calls, not static files)."""
    app.add_middleware(PageHeaders)
