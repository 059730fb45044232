"""API tokens: created once, shown once, stored hashed, scoped, expiring and revocable."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.services.access import ALL_SCOPES, Principal
from core import crypto
from core.errors import ConfigError, Forbidden, NotFound, Unauthorized
from core.models import ApiToken, User, utcnow

PREFIX_LENGTH = 10  # "dy_" and 7 characters: enough to tell tokens apart in a list, useless to an attacker


def validated_scopes(scopes: Iterable[str] | None) -> list[str]:
    """The scopes asked for in canonical order; all of them when none are named."""
    if scopes is None:
        return list(ALL_SCOPES)
    wanted = set(scopes)
    unknown = sorted(wanted - set(ALL_SCOPES))
    if unknown:
        raise ConfigError(
            f"unknown scope(s) {', '.join(unknown)}; use {', '.join(ALL_SCOPES)}", where="scopes"
        )
    if not wanted:
        raise ConfigError(f"name at least one scope of {', '.join(ALL_SCOPES)}", where="scopes")
    return [scope for scope in ALL_SCOPES if scope in wanted]


def create_token(
    session: Session,
    *,
    user: User,
    name: str,
    scopes: Iterable[str] | None = None,
    expires_in_days: int | None = None,
    granted_by: Principal | None = None,
) -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the token in clear, which is never shown again.

    A token made with another token cannot carry scopes that one lacks.
    """
    if not name.strip():
        raise ConfigError("must not be empty", where="name")
    chosen = validated_scopes(scopes)
    if granted_by is not None:
        beyond = [scope for scope in chosen if scope not in granted_by.scopes]
        if beyond:
            raise Forbidden(
                f"this token lacks {', '.join(beyond)}, so it cannot create a token that has them"
            )
    if expires_in_days is not None and expires_in_days < 1:
        raise ConfigError(
            "must be at least 1 day, or left out for a token that does not expire", where="expires_in_days"
        )
    clear = crypto.new_token("dy")
    token = ApiToken(
        user=user,
        name=name.strip(),
        token_hash=crypto.hash_token(clear),
        prefix=clear[:PREFIX_LENGTH],
        scopes=chosen,
        expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(token)
    session.flush()
    return token, clear


def authenticate(session: Session, clear: str) -> Principal:
    """The principal behind a token; 401 saying what to do when it is unknown, expired or revoked."""
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == crypto.hash_token(clear)))
    if token is None:
        raise Unauthorized("the bearer token is not valid: log in again with `dockyard login`")
    now = utcnow()
    if token.revoked_at is not None:
        raise Unauthorized(f"the token {token.name!r} was revoked: log in again or create a new token")
    if token.expires_at is not None and token.expires_at <= now:
        raise Unauthorized(f"the token {token.name!r} expired: log in again or create a new token")
    # Written at most once a minute, so that reads do not turn every request into a write.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
    return Principal(user=token.user, scopes=frozenset(token.scopes or ()))


def list_tokens(session: Session, user: User) -> list[ApiToken]:
    """The user's tokens, newest first, revoked ones included (marked)."""
    return list(
        session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc()))
    )


def revoke_token(session: Session, principal: Principal, token_id: int) -> ApiToken:
    """Revoke one of the caller's tokens (the site administrator may revoke anyone's)."""
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != principal.user.id and not principal.is_site_admin):
        raise NotFound(f"no token with id {token_id}; `GET /api/v1/tokens` lists yours")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token
