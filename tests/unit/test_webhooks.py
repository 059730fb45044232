"""Webhook signatures and push matching, on GitHub's own test vector and payload shapes."""

from __future__ import annotations

from githubkit.webhooks import verify

from api.services.apps import repo_full_name
from api.services.webhooks import push_decision
from tests.github_payloads import payload, push_for, signed_headers

GITHUB_SECRET = "It's a Secret to Everybody"
GITHUB_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_githubs_documented_test_vector_verifies() -> None:
    assert verify(GITHUB_SECRET, b"Hello, World!", GITHUB_SIGNATURE)
    assert (
        signed_headers(GITHUB_SECRET, b"Hello, World!", event="ping")["X-Hub-Signature-256"]
        == GITHUB_SIGNATURE
    )


def test_a_changed_body_or_secret_fails_verification() -> None:
    assert not verify(GITHUB_SECRET, b"Hello, World?", GITHUB_SIGNATURE)
    assert not verify("another secret", b"Hello, World!", GITHUB_SIGNATURE)


def test_push_to_the_tracked_branch_deploys() -> None:
    body = push_for("octo/hello", branch="main", after="a" * 40)

    assert push_decision(body, branch="main") is None


def test_push_to_another_branch_says_why_it_is_ignored() -> None:
    body = push_for("octo/hello", branch="dev", after="a" * 40)

    assert push_decision(body, branch="main") == "ignored: push to `dev`, app tracks `main`"


def test_githubs_new_branch_payload_deploys_its_after_commit_on_master() -> None:
    body = payload("with-new-branch")

    assert push_decision(body, branch="master") is None
    assert push_decision(body, branch="main") == "ignored: push to `master`, app tracks `main`"


def test_tag_deletions_in_real_payloads_are_ignored() -> None:
    for name in ("push", "1", "with-installation", "with-organization"):
        body = payload(name)
        assert body["deleted"] is True
        assert push_decision(body, branch="simple-tag") == "ignored: `refs/tags/simple-tag` was deleted"


def test_a_pushed_tag_is_not_a_branch() -> None:
    body = push_for("octo/hello", branch="main", after="b" * 40)
    body["ref"] = "refs/tags/v1"

    assert (
        push_decision(body, branch="main")
        == "ignored: push to `refs/tags/v1` is not a branch, app tracks `main`"
    )


def test_branch_deletion_is_ignored() -> None:
    body = push_for("octo/hello", branch="main", after="0" * 40)
    body["deleted"] = True

    assert push_decision(body, branch="main") == "ignored: `refs/heads/main` was deleted"


def test_repository_names_come_from_clone_urls() -> None:
    assert repo_full_name("https://github.com/Octo/Hello.git") == "Octo/Hello"
    assert repo_full_name("https://github.com/octo/hello") == "octo/hello"
    assert repo_full_name("git@github.com:octo/hello.git") == "octo/hello"
    assert repo_full_name("file:///srv/git/octo/hello.git") == "octo/hello"
    assert repo_full_name("https://github.com/octo/hello/") == "octo/hello"
