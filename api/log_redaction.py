"""Keep secrets that travel in URLs (deploy hook tokens) out of the access log."""

from __future__ import annotations

import logging
import re

# The token is the last path segment of a deploy hook URL.
HOOK_TOKEN = re.compile(r"(/hooks/deploy/[^/\s?]+/)[^/\s?\"]+")


def redact(text: str) -> str:
    """`text` with any deploy hook token replaced by `***`."""
    return HOOK_TOKEN.sub(r"\1***", text)


class RedactHookTokens(logging.Filter):
    """A filter for uvicorn's access logger, which logs each request's path."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        record.msg = redact(str(record.msg))
        return True


def install() -> None:
    """Redact the access log of this process (uvicorn configures its loggers before importing the app)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactHookTokens) for f in access.filters):
        access.addFilter(RedactHookTokens())
