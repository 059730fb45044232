"""(being written)"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from web.session import csrf_protect

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_protect)])
