"""Notification payloads and URL handling: what a target receives and what a user or a log may see."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from api.services.notifications import Message, mask_url, render, signature, slack_text, validated_url
from core.errors import ConfigError

FAILED = Message(
    event="deployment.failed",
    app="hello",
    app_url="http://hello.example.com/",
    deployment=12,
    status="failed",
    trigger="push",
    ref="main",
    commit="c0ffee" + "0" * 34,
    error="pip install failed: no <matching> distribution & more\nsecond line",
    log_url="https://dock.example.com/api/v1/apps/hello/deployments/12/logs",
)


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("https://hooks.slack.com/services/T0/B0/xyz", "https://hooks.slack.com/services/…"),
        ("https://discord.com/api/webhooks/1/token/slack", "https://discord.com/api/…"),
        ("https://user:pass@ci.example.com:8443/hook?token=abc", "https://ci.example.com:8443/…"),
        ("https://ci.example.com/secret-token", "https://ci.example.com/…"),
        ("https://ci.example.com?token=abc", "https://ci.example.com/…"),
        ("http://[::1]:9000/", "http://[::1]:9000/"),
    ],
)
def test_a_masked_url_keeps_only_scheme_host_and_first_segment(url: str, masked: str) -> None:
    assert mask_url(url) == masked


@pytest.mark.parametrize(
    ("url", "detail"),
    [
        ("ftp://example.com/x", "url: must start with https:// (or http://) and name a host"),
        ("https:///no-host", "url: must start with https:// (or http://) and name a host"),
        ("https://example.com/a b", "url: must not contain spaces or control characters"),
        ("https://example.com/\x00", "url: must not contain spaces or control characters"),
        ("https://example.com:70000/", "url: port 70000 is not a TCP port"),
        ("https://example.com/" + "a" * 2000, "url: must be at most 2000 characters"),
    ],
)
def test_bad_urls_are_refused_naming_the_fix(url: str, detail: str) -> None:
    with pytest.raises(ConfigError) as refused:
        validated_url(url)

    assert refused.value.detail.startswith(detail)


def test_a_slack_message_is_one_escaped_line_with_links() -> None:
    assert slack_text(FAILED) == (
        ":x: *hello*: deployment 12 (c0ffee0) failed: pip install failed: no &lt;matching&gt; distribution "
        "&amp; more · <https://dock.example.com/api/v1/apps/hello/deployments/12/logs|build log>"
    )
    assert render(FAILED, "slack") == {"text": slack_text(FAILED)}


def test_a_json_body_carries_every_field_and_when_it_was_sent() -> None:
    body = render(FAILED, "json")

    assert body.pop("sent_at").endswith("+00:00")
    assert body == {
        "event": "deployment.failed",
        "app": "hello",
        "app_url": "http://hello.example.com/",
        "deployment": 12,
        "status": "failed",
        "trigger": "push",
        "ref": "main",
        "commit": "c0ffee" + "0" * 34,
        "error": "pip install failed: no <matching> distribution & more\nsecond line",
        "log_url": "https://dock.example.com/api/v1/apps/hello/deployments/12/logs",
    }


def test_the_signature_is_github_style_hmac_sha256() -> None:
    body = b'{"event": "test"}'

    expected = hmac.new(b"whsec_k", body, hashlib.sha256).hexdigest()
    assert signature("whsec_k", body) == f"sha256={expected}"
