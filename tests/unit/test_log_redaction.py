"""Deploy hook tokens never reach the access log."""

from __future__ import annotations

import logging

from api.log_redaction import RedactHookTokens, redact


def test_the_token_segment_is_replaced() -> None:
    assert redact("POST /hooks/deploy/blog/dh_s3cr3t?ref=main HTTP/1.1") == (
        "POST /hooks/deploy/blog/***?ref=main HTTP/1.1"
    )
    assert redact("GET /api/v1/apps/blog") == "GET /api/v1/apps/blog"


def test_uvicorns_access_record_is_redacted() -> None:
    # uvicorn logs: '%s - "%s %s HTTP/%s" %d' with the path as an argument.
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "POST", "/hooks/deploy/blog/dh_s3cr3t", "1.1", 202),
        None,
    )

    assert RedactHookTokens().filter(record)
    assert "dh_s3cr3t" not in record.getMessage()
