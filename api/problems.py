"""Every error as `application/problem+json` (RFC 9457), validation included."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException

from core.errors import ConfigError, DockyardError

PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    """A problem+json response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(part) for part in loc if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def install(app: FastAPI) -> None:
    """Register the handlers that turn errors into problem details."""

    @app.exception_handler(DockyardError)
    async def _dockyard_error(_request: Request, error: DockyardError) -> JSONResponse:
        extra = {"where": error.where} if isinstance(error, ConfigError) and error.where else {}
        return problem(error.status, error.title, error.detail, **extra)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, error: RequestValidationError) -> JSONResponse:
        errors = [{"where": _location(item["loc"]), "message": item["msg"]} for item in error.errors()]
        detail = "; ".join(f"{item['where']}: {item['message']}" for item in errors)
        return problem(422, "Invalid request", detail, errors=errors)

    @app.exception_handler(DataError)
    async def _data_error(_request: Request, _error: DataError) -> JSONResponse:
        # PostgreSQL refuses what SQLite keeps: text with NUL characters, text longer than its column,
        # numbers beyond its integers. Inputs that reach the database unchecked are the client's to fix.
        return problem(
            422,
            "Invalid request",
            "a value does not fit: it is too long, out of range, or contains a NUL character; correct it",
        )

    @app.exception_handler(Exception)
    async def _unexpected_error(_request: Request, error: Exception) -> JSONResponse:
        # Uvicorn still logs the traceback; the client gets problem details, not a bare text page.
        return problem(500, "Internal error", "Dockyard failed unexpectedly; the server log has the details")

    @app.exception_handler(HTTPException)
    async def _http_error(_request: Request, error: HTTPException) -> JSONResponse:
        detail = error.detail if isinstance(error.detail, str) else str(error.detail)
        response = problem(error.status_code, detail, detail)
        if error.headers:
            response.headers.update(error.headers)
        return response
