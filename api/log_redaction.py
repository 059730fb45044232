"""Keep secrets that travel in URLs out of the server's log: deploy hook tokens, and the API tokens that
browsers send as `?access_token=` on WebSocket upgrades (they cannot set headers there)."""

from __future__ import annotations

import logging
import re

# The token is the last path segment of a deploy hook URL.
HOOK_TOKEN = re.compile(r"(/hooks/deploy/[^/\s?]+/)[^/\s?\"]+")
ACCESS_TOKEN = re.compile(r"([?&]access_token=)[^&\s\"]+")
# uvicorn logs HTTP requests on its access logger, WebSocket handshakes on its error logger.
LOGGERS = ("uvicorn.access", "uvicorn.error")


def redact(text: str) -> str:
    """`text` with any deploy hook token or access token replaced by `***`."""
    return ACCESS_TOKEN.sub(r"\1***", HOOK_TOKEN.sub(r"\1***", text))


class RedactHookTokens(logging.Filter):
    """A filter for uvicorn's loggers, which log each request's path with its query."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        record.msg = redact(str(record.msg))
        return True


def install() -> None:
    """Redact the logs of this process (uvicorn configures its loggers before importing the app)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactHookTokens) for f in logger.filters):
            logger.addFilter(RedactHookTokens())
