"""API tokens: created once, shown once, stored hashed."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import crypto
from core.errors import ConfigError
from core.models import ApiToken, User

ADMIN = "admin"


def create_token(session: Session, *, name: str, username: str = ADMIN) -> str:
    """A new token for `username` (the admin is created on first use); returns it in clear, once."""
    if not name.strip():
        raise ConfigError("must not be empty", where="name")
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username, is_admin=username == ADMIN)
        session.add(user)
    token = crypto.new_token("dy")
    session.add(ApiToken(user=user, name=name.strip(), token_hash=crypto.hash_token(token)))
    session.flush()
    return token
