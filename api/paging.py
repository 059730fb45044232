"""The HTTP half of paging: `?limit=&before=` on list routes and a `Link: <…>; rel="next"` header.

Any list route can page the same way: take `page: PageDep`, fetch with `keyset_page`, and put
`next_link(…)` in the response's headers.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Query, Request

from api.services.paging import DEFAULT_LIMIT, MAX_LIMIT, Page, PageRequest
from core.settings import Settings


def page_request(
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Rows per page."),
    before: int | None = Query(
        None,
        ge=1,
        description="Only rows with a smaller id: the cursor the `Link` header's next page carries.",
    ),
) -> PageRequest:
    """The page a list request asks for."""
    return PageRequest(limit=limit, before=before)


PageDep = Annotated[PageRequest, Depends(page_request)]


def next_link(request: Request, settings: Settings, page: Page[Any]) -> dict[str, str]:
    """Headers pointing at the next page (none on the last), with the request's other parameters kept.

    The URL is absolute and built on DOCKYARD_PUBLIC_URL, like webhook URLs, so it is right behind a proxy.
    """
    if page.next_before is None:
        return {}
    params = [(key, value) for key, value in request.query_params.multi_items() if key != "before"]
    query = urlencode([*params, ("before", str(page.next_before))])
    return {"Link": f'<{settings.public_url.rstrip("/")}{request.url.path}?{query}>; rel="next"'}
