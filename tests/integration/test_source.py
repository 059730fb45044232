"""Fetching source with the real git, from a local repository served as a file:// URL."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from builder.source import CommitInfo, describe_commit, fetch, read_tree
from core.errors import BuildError

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Repo:
    url: str
    first: str
    second: str


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    """A repository with two commits on `main`, the first tagged v1, and a `feature` branch at the first."""
    root = tmp_path_factory.mktemp("origin")
    git(root, "init", "--quiet", "--initial-branch=main")
    (root / "main.py").write_text("VERSION = 1\n")
    git(root, "add", ".")
    git(root, "commit", "--quiet", "-m", "first")
    first = git(root, "rev-parse", "HEAD")
    git(root, "tag", "-a", "v1", "-m", "version 1")
    git(root, "branch", "feature")
    (root / "main.py").write_text("VERSION = 2\n")
    git(root, "commit", "--quiet", "-am", "second")
    return Repo(url=root.as_uri(), first=first, second=git(root, "rev-parse", "HEAD"))


def test_fetch_a_branch(repo: Repo, tmp_path: Path) -> None:
    sha = fetch(repo.url, "main", tmp_path / "src")

    assert sha == repo.second
    assert (tmp_path / "src" / "main.py").read_text() == "VERSION = 2\n"


def test_describe_commit_names_its_author_and_subject(repo: Repo, tmp_path: Path) -> None:
    checkout = tmp_path / "src"
    fetch(repo.url, "feature", checkout)

    assert describe_commit(checkout, repo.first) == CommitInfo(author="Test", subject="first")
    assert describe_commit(checkout, repo.second) == CommitInfo(author="Test", subject="second")
    assert describe_commit(checkout, "f" * 40) is None  # never fatal: the deployment just lacks it


def test_fetch_the_default_branch(repo: Repo, tmp_path: Path) -> None:
    assert fetch(repo.url, None, tmp_path / "src") == repo.second


@pytest.mark.parametrize("ref", ["feature", "v1"])
def test_fetch_another_branch_or_a_tag(repo: Repo, tmp_path: Path, ref: str) -> None:
    assert fetch(repo.url, ref, tmp_path / "src") == repo.first


@pytest.mark.parametrize("length", [40, 7])
def test_fetch_a_full_or_short_sha(repo: Repo, tmp_path: Path, length: int) -> None:
    sha = fetch(repo.url, repo.first[:length], tmp_path / "src")

    assert sha == repo.first
    assert (tmp_path / "src" / "main.py").read_text() == "VERSION = 1\n"
    assert git(tmp_path / "src", "rev-parse", "HEAD") == repo.first


def test_a_bad_ref_says_what_git_said(repo: Repo, tmp_path: Path) -> None:
    with pytest.raises(BuildError) as raised:
        fetch(repo.url, "no-such-branch", tmp_path / "src")

    assert (
        raised.value.detail
        == f"could not fetch {repo.url} at no-such-branch: couldn't find remote ref no-such-branch"
    )


def test_a_missing_repository(tmp_path: Path) -> None:
    url = (tmp_path / "nothing").as_uri()

    with pytest.raises(
        BuildError, match=rf"^could not fetch {url}: .*does not appear to be a git repository"
    ):
        fetch(url, None, tmp_path / "src")


def test_credentials_never_appear_in_messages(tmp_path: Path) -> None:
    # Nothing listens on port 1, so git fails at once, after being handed the token.
    with pytest.raises(BuildError) as raised:
        fetch("http://user:s3cr3t@127.0.0.1:1/app.git", "main", tmp_path / "src", timeout=30)

    assert raised.value.detail.startswith("could not fetch http://***@127.0.0.1:1/app.git at main: ")
    assert "s3cr3t" not in raised.value.detail


@pytest.mark.parametrize(
    ("url", "ref", "reason"),
    [
        ("ext::sh -c touch% /tmp/pwned", None, "Dockyard fetches https, http, file URLs only"),
        ("file:///srv/app.git", "--upload-pack=touch /tmp/pwned", "'--upload-pack=touch /tmp/pwned' is not"),
    ],
)
def test_urls_and_refs_that_could_run_commands_are_refused(url: str, ref: str | None, reason: str) -> None:
    with pytest.raises(BuildError, match=reason):
        fetch(url, ref, Path("/nonexistent"))


def test_read_tree_keeps_small_text_files_only(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text("app = 1\n")
    (tmp_path / "requirements.txt").write_text("fastapi\n")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (tmp_path / "big.json").write_text("x" * 1_000_001)
    (tmp_path / "passwd").symlink_to("/etc/passwd")
    for skipped in (".git", "node_modules", "__pycache__", "env"):
        (tmp_path / skipped).mkdir()
        (tmp_path / skipped / "main.py").write_text("x = 1\n")
    (tmp_path / "env" / "pyvenv.cfg").write_text("home = /usr/bin\n")

    assert read_tree(tmp_path) == {"app/main.py": "app = 1\n", "requirements.txt": "fastapi\n"}
