"""Web UI sessions: a random cookie per signed-in browser, stored hashed, ending when idle or signed out.

A session acts with every permission its user's roles give (a browser is the person, not a scoped token);
CSRF tokens are derived from the cookie, so they need no storage and die with the session.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.services.access import ALL_SCOPES, Principal
from core import crypto
from core.errors import Unauthorized
from core.models import User, WebSession, utcnow

COOKIE_NAME = "dockyard_session"  # also accepted by the API's WebSockets, from this site only
IDLE_LIFETIME = timedelta(days=7)
_TOUCH_EVERY = timedelta(minutes=1)


def start_session(session: Session, user: User) -> str:
    """A new session for `user`; returns the cookie value, which is never stored in clear."""
    clear = crypto.new_token("dys")
    now = utcnow()
    session.add(
        WebSession(
            user=user, token_hash=crypto.hash_token(clear), created_at=now, expires_at=now + IDLE_LIFETIME
        )
    )
    # Sign-in is when expired sessions of anyone are swept, so the table stays small without a job.
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    session.flush()
    return clear


def principal_for(session: Session, clear: str) -> Principal:
    """The signed-in user behind a session cookie; Unauthorized when it is unknown, ended or idle too long."""
    row = session.scalar(select(WebSession).where(WebSession.token_hash == crypto.hash_token(clear)))
    now = utcnow()
    if row is None or row.expires_at <= now:
        raise Unauthorized("your session has ended: sign in again")
    if now - row.last_seen_at > _TOUCH_EVERY:
        row.last_seen_at = now
        row.expires_at = now + IDLE_LIFETIME
    return Principal(user=row.user, scopes=frozenset(ALL_SCOPES))


def end_session(session: Session, clear: str) -> None:
    """Sign a browser out: its cookie stops working at once."""
    session.execute(delete(WebSession).where(WebSession.token_hash == crypto.hash_token(clear)))


def end_all_sessions(session: Session, user: User) -> None:
    """Sign `user` out everywhere (after a password change)."""
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))


def csrf_token(secret_key: str, cookie: str) -> str:
    """The CSRF token forms of this browser must send back: an HMAC of its session (or anonymous) cookie."""
    return hmac.new(secret_key.encode(), f"csrf:{cookie}".encode(), hashlib.sha256).hexdigest()


def csrf_valid(secret_key: str, cookie: str, sent: str) -> bool:
    """Whether `sent` is this browser's CSRF token (compared in constant time)."""
    return bool(cookie) and hmac.compare_digest(csrf_token(secret_key, cookie), sent)


def trusted_origin(origin: str | None, host: str, public_url: str) -> bool:
    """Whether a browser's `Origin` is this site (the host it asked for, or PUBLIC_URL's); a request
    without one is not a browser's cross-site request (browsers send it on POSTs and WebSockets)."""
    if origin is None:
        return True
    return urlsplit(origin).netloc in {host, urlsplit(public_url).netloc}
