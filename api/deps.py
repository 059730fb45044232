"""FastAPI dependencies: the database session, settings and the authenticated user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import crypto
from core.db import session_scope
from core.errors import Unauthorized
from core.models import ApiToken, User, utcnow
from core.settings import Settings, get_settings


def get_session() -> Iterator[Session]:
    """A session per request, committed when the route returns without error."""
    with session_scope() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def current_user(request: Request, session: SessionDep) -> User:
    """The user behind the request's bearer token."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(
            "send `Authorization: Bearer <token>`; create a token with `dockyard token create`"
        )
    api_token = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == crypto.hash_token(token.strip()))
    )
    now = utcnow()
    if api_token is None:
        raise Unauthorized("the bearer token is not valid; create a new one with `dockyard token create`")
    if api_token.expires_at is not None and api_token.expires_at <= now:
        raise Unauthorized(f"the token {api_token.name!r} has expired; create a new one")
    return api_token.user


CurrentUser = Annotated[User, Depends(current_user)]
