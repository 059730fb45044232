"""An app's source: fetch it with git, and read the small text files that detection looks at."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from builder.plans import FileTree
from core.errors import BuildError

FETCH_TIMEOUT = 300
SCHEMES = ("https", "http", "file")
SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".dockyard", "node_modules", "__pycache__", ".venv", "venv", ".tox", ".nox"}
)
MAX_FILE_BYTES = 1_000_000


def fetch(repo_url: str, ref: str | None, dest: Path, *, timeout: int = FETCH_TIMEOUT) -> str:
    """Clone `repo_url` into `dest` and check out `ref`; return the full sha checked out.

    `ref` is a branch, a tag or a (short) commit sha; None means the default branch.
    """
    where = f"{redact(repo_url)} at {ref}" if ref else redact(repo_url)
    if urlsplit(repo_url).scheme not in SCHEMES:
        raise BuildError(f"could not fetch {where}: Dockyard fetches {', '.join(SCHEMES)} URLs only")
    if ref is not None and (not ref.strip() or ref.startswith("-")):
        raise BuildError(f"could not fetch {where}: {ref!r} is not a branch, tag or commit")
    git = _Git(repo_url, where, deadline=time.monotonic() + timeout)
    git.run("clone", "--quiet", "--no-checkout", "--", repo_url, str(dest))
    git = git.inside(dest)
    sha = _resolve(git, ref)
    git.run("-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", sha)
    # The clone remembers its URL; drop any token from it so it never reaches a log or an image.
    git.run("remote", "set-url", "origin", _without_credentials(repo_url))
    return sha


@dataclass(frozen=True)
class CommitInfo:
    """Who made a commit (git's author name) and its subject line."""

    author: str
    subject: str


def describe_commit(checkout: Path, sha: str) -> CommitInfo | None:
    """The author and subject of commit `sha` in `checkout`; None when git cannot tell (never fatal)."""
    git = _Git(str(checkout), f"commit {sha}", deadline=time.monotonic() + 30, cwd=checkout)
    shown = git.run("log", "-1", "--format=%an%x00%s", sha, "--", check=False)
    author, separator, subject = shown.partition("\0")
    return CommitInfo(author=author, subject=subject) if separator else None


def _resolve(git: _Git, ref: str | None) -> str:
    """The commit `ref` names in the clone, fetching it specially when the clone lacks it."""
    candidates = ["HEAD"] if ref is None else [f"refs/remotes/origin/{ref}", f"refs/tags/{ref}", ref]
    for candidate in candidates:
        sha = git.run("rev-parse", "--verify", "--quiet", f"{candidate}^{{commit}}", check=False)
        if sha:
            return sha
    if ref is None:
        raise BuildError(f"could not fetch {git.where}: the repository has no commits")
    # Not a branch, tag or sha the clone has: perhaps a ref only the remote has (refs/pull/1/head, a sha
    # of an unmerged commit). Fetching it gives git's own reason when it does not exist.
    git.run("fetch", "--quiet", "origin", ref)
    return git.run("rev-parse", "--verify", "FETCH_HEAD^{commit}")


class _Git:
    """Runs git without prompts, within one deadline, and turns failures into BuildErrors."""

    def __init__(self, repo_url: str, where: str, *, deadline: float, cwd: Path | None = None) -> None:
        parts = urlsplit(repo_url)
        self.url = repo_url
        # `https://TOKEN@host/…` carries its token as the user name.
        self.token = parts.password or parts.username
        self.where = where
        self.deadline = deadline
        self.cwd = cwd

    def inside(self, checkout: Path) -> _Git:
        """The same runner, running in `checkout`."""
        return _Git(self.url, self.where, deadline=self.deadline, cwd=checkout)

    def run(self, *args: str, check: bool = True) -> str:
        """git's stdout, stripped; when `check` is false a failure gives an empty string."""
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
        try:
            result = subprocess.run(
                ["git", *args],
                capture_output=True,
                text=True,
                env=env,
                cwd=self.cwd,
                timeout=max(self.deadline - time.monotonic(), 1),
            )
        except subprocess.TimeoutExpired as error:
            raise BuildError(f"could not fetch {self.where}: git took longer than allowed") from error
        if result.returncode == 0:
            return result.stdout.strip()
        if not check:
            return ""
        raise BuildError(f"could not fetch {self.where}: {self._summary(result.stderr)}")

    def _summary(self, stderr: str) -> str:
        # git's first complaint names the cause; what follows is generic advice ("Please make sure …").
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        complaints = [line for line in lines if line.startswith(("fatal: ", "error: "))]
        summary = (complaints or lines[-1:] or ["git failed without saying why"])[0]
        summary = summary.removeprefix("fatal: ").removeprefix("error: ")
        # git may echo the URL it was given, token and all.
        summary = summary.replace(self.url, redact(self.url))
        return summary.replace(self.token, "***") if self.token else summary


def redact(url: str) -> str:
    """`url` fit to show: any user name or token replaced by `***`."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=f"***@{parts.netloc.rpartition('@')[2]}"))


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def read_tree(root: Path) -> FileTree:
    """The small text files under `root` for detection: no VCS, venvs, dependencies, binaries or big files."""
    tree: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames[:] = sorted(name for name in dirnames if not _is_skipped(here / name))
        for name in sorted(filenames):
            text = _small_text(here / name)
            if text is not None:
                tree[(here / name).relative_to(root).as_posix()] = text
    return tree


def _is_skipped(directory: Path) -> bool:
    # A virtualenv may have any name; its pyvenv.cfg gives it away.
    return directory.name in SKIPPED_DIRS or (directory / "pyvenv.cfg").exists()


def _small_text(path: Path) -> str | None:
    # A symlink may point outside the repository, at files of this host.
    if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
        return None
    data = path.read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
