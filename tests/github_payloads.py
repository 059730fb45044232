"""Real GitHub payload shapes (tests/fixtures/github), rewritten for a test's repository, and signing
them as GitHub does."""

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
    """A stored payload: `with-new-branch` for push/with-new-branch.payload.json, `pull_request/opened`."""
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


def pull_request_for(
    full_name: str,
    *,
    action: str,
    number: int,
    head: str,
    sha: str,
    base: str = "main",
    head_repo: str | None = None,
) -> dict[str, Any]:
    """A real pull_request payload (`action` picks the file) rewritten for our repository and branches;
    `head_repo` names a fork the head branch comes from."""
    body = copy.deepcopy(payload(f"pull_request/{action}"))
    pull = body["pull_request"]
    body["number"] = pull["number"] = number
    for repository in (body["repository"], pull["base"]["repo"], pull["head"]["repo"]):
        repository["full_name"] = full_name
        repository["name"] = full_name.split("/")[1]
        repository["owner"]["login"] = full_name.split("/")[0]
    if head_repo is not None:
        pull["head"]["repo"]["full_name"] = head_repo
        pull["head"]["repo"]["fork"] = True
    pull["head"].update(ref=head, sha=sha, label=f"{(head_repo or full_name).split('/')[0]}:{head}")
    pull["base"]["ref"] = base
    return body


def installation_for(event: str, *, action: str, installation_id: int, account: str) -> dict[str, Any]:
    """A real installation or installation_repositories payload, rewritten for our installation."""
    body = copy.deepcopy(payload(f"{event}/{action}"))
    body["installation"]["id"] = installation_id
    body["installation"]["account"]["login"] = account
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
