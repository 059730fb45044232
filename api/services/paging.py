"""Keyset paging for lists, newest first: at most `limit` rows whose id is below the `before` cursor.

Ids rather than offsets: a page stays right while new rows arrive at the top, and each page is one
index range scan however deep the client reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True)
class PageRequest:
    """Which page a client asked for."""

    limit: int = DEFAULT_LIMIT
    before: int | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows; `next_before` is the next page's cursor, None on the last page."""

    items: list[T]
    next_before: int | None


def keyset_page(
    session: Session, statement: Select[T], key: InstrumentedAttribute[int], request: PageRequest
) -> Page[T]:
    """The page of `statement`'s rows that `request` asks for, ordered by `key` descending."""
    if request.before is not None:
        statement = statement.where(key < request.before)
    # One row more than asked tells whether a next page exists without counting.
    rows = list(session.scalars(statement.order_by(key.desc()).limit(request.limit + 1)))
    items = rows[: request.limit]
    more = len(rows) > request.limit
    return Page(items=items, next_before=getattr(items[-1], key.key) if more else None)
