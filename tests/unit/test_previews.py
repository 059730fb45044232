"""Which pull request events change a preview, and what previews are called, on GitHub's own payloads."""

from __future__ import annotations

from api.services.previews import PullRequest, ignored_because, preview_name, pull_request_of
from tests.github_payloads import payload, pull_request_for

SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"


def test_githubs_opened_payload_reads_as_a_pull_request() -> None:
    assert pull_request_of(payload("pull_request/opened")) == PullRequest(
        action="opened",
        number=2,
        head_sha=SHA,
        head_ref="changes",
        head_repo="Codertocat/Hello-World",
        base_ref="master",
        base_repo="Codertocat/Hello-World",
    )
    assert pull_request_of(payload("with-new-branch")) is None  # a push


def test_a_same_repository_pull_request_on_the_tracked_branch_changes_its_preview() -> None:
    for action in ("opened", "reopened", "synchronize", "closed"):
        pull = pull_request_of(payload(f"pull_request/{action}"))
        assert pull is not None and ignored_because(pull, branch="master") is None, action


def test_what_gets_no_preview_says_why() -> None:
    def why(branch: str = "main", **changes: str) -> str | None:
        body = pull_request_for("octo/hello", action="opened", number=4, head="fix", sha=SHA)
        pull = pull_request_of(body)
        assert pull is not None
        return ignored_because(PullRequest(**{**pull.__dict__, **changes}), branch=branch)

    assert why(base_ref="dev") == "ignored: pull request #4 targets `dev`, app tracks `main`"
    assert why(head_repo="mallory/hello") == (
        "ignored: pull request #4 comes from the fork mallory/hello; only branches of octo/hello get "
        "previews, so the app's secrets never reach a fork's code"
    )
    fork_gone = pull_request_of(pull_request_for("octo/hello", action="opened", number=4, head="x", sha=SHA))
    assert fork_gone is not None
    assert ignored_because(PullRequest(**{**fork_gone.__dict__, "head_repo": None}), branch="main") == (
        "ignored: pull request #4 comes from the fork (deleted); only branches of octo/hello get previews, "
        "so the app's secrets never reach a fork's code"
    )
    assert why(action="edited") == "ignored: `edited` pull request events change no preview"
    assert why(head_sha="") == "ignored: pull request #4 names no head commit"
    assert why(head_repo="Octo/Hello") is None  # GitHub's names ignore case


def test_preview_names_are_dns_labels_of_30_characters_at_most() -> None:
    assert preview_name("hello", 7) == "hello-pr-7"
    assert preview_name("a" * 16 + "-bcdefgh", 12) == "a" * 16 + "-bcdefgh-pr-12"  # 30 exactly
    long_a, long_b = preview_name("x" * 25 + "-aaaa", 123), preview_name("x" * 25 + "-bbbb", 123)
    assert len(long_a) == len(long_b) == 30
    assert long_a != long_b  # the hash of the parent's name keeps them apart
    assert long_a.startswith("x" * 16) and long_a.endswith("-pr-123")
    cut_at_a_dash = preview_name("x" * 19 + "-" + "y" * 10, 1)
    assert "--" not in cut_at_a_dash and cut_at_a_dash.startswith("x" * 19 + "-")
