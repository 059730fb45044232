"""FastAPI dependencies: the database session, settings and the authenticated caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.services.access import Principal
from api.services.tokens import authenticate
from core.db import session_scope
from core.errors import Unauthorized
from core.settings import Settings, get_settings


def get_session() -> Iterator[Session]:
    """A session per request, committed when the route returns without error."""
    with session_scope() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def bearer_token(request: Request) -> str:
    """The request's bearer token (WebSockets may also use `?access_token=`, see `api/routes/streams.py`)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    raise Unauthorized(
        "send `Authorization: Bearer <token>`: log in with `dockyard login`, "
        "or create a token with `POST /api/v1/tokens`"
    )


def current_principal(request: Request, session: SessionDep) -> Principal:
    """The user behind the request's bearer token, with the token's scopes."""
    return authenticate(session, bearer_token(request))


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
