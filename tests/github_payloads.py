"""Real GitHub payload shapes (tests/fixtures/github) and signing them as GitHub does."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import uuid
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "github"


def payload(name: str) -> dict[str, Any]:
    """A stored payload, e.g. `with-new-branch` for push/with-new-branch.payload.json."""
    return json.loads((FIXTURES / f"{name}.payload.json").read_text())


def push_for(full_name: str, *, branch: str, after: str, base: str = "with-new-branch") -> dict[str, Any]:
    """A real push payload rewritten for our repository, branch and commit."""
    body = copy.deepcopy(payload(base))
    owner, repo = full_name.split("/")
    body["ref"] = f"refs/heads/{branch}"
    body["after"] = after
    body["repository"]["full_name"] = full_name
    body["repository"]["name"] = repo
    body["repository"]["owner"]["login"] = owner
    return body


def signed_headers(secret: str, body: bytes, *, event: str, delivery: str | None = None) -> dict[str, str]:
    """The headers GitHub sends with a delivery signed by `secret`."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": f"sha256={digest}",
    }
