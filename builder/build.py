"""Build an app's image with the low-level Docker SDK, streaming the engine's log as it comes."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import requests

from builder.dockerfile import render_dockerfile
from builder.plans import BuildPlan
from core.errors import BuildError

DOCKERFILE = ".dockyard/Dockerfile"
CA_BUNDLE = ".dockyard/ca.crt"
# What the engine says when FROM cannot get its image (mirror without it, no network, a typo'd tag).
PULL_FAILURES = ("pull access denied", "no such host", "manifest unknown", "not found", "does not exist")
# The classic builder paints a RUN step's stderr red; a log shown elsewhere wants plain text.
COLOURS = re.compile(r"\x1b\[[0-9;]*m")
NON_ZERO_CODE = re.compile(r"returned a non-zero code: (\d+)")
# pip's `ERROR: …`, a shell's `error: …`, and the last line of a Python traceback (`ValueError: …`).
ERROR_LINE = re.compile(r"^(ERROR|error)\b|^[A-Za-z_.]*(Error|Exception): ")
MAX_ERROR_LINES = 3


def build_image(
    api: docker.APIClient,
    *,
    context: Path,
    plan: BuildPlan,
    base_image: str,
    ca_bundle: Path | None,
    tag: str,
    labels: dict[str, str],
    on_line: Callable[[str], None],
    timeout: int,
) -> str:
    """Build `plan` from the source in `context` as `tag`; return the image id.

    Every log line goes to `on_line` as it arrives. The Dockerfile and CA bundle are written under
    `context/.dockyard/`, so a repository's own Dockerfile is left alone. A failure raises BuildError.
    """
    dockerfile = render_dockerfile(plan, base_image=base_image, ca_bundle=CA_BUNDLE if ca_bundle else None)
    _prepare_context(context, dockerfile, ca_bundle)
    log = _Log(on_line)
    try:
        chunks = api.build(
            path=str(context),
            dockerfile=DOCKERFILE,
            tag=tag,
            labels=labels,
            rm=True,
            forcerm=True,
            decode=True,
            timeout=timeout,  # between two chunks; the deadline below bounds the whole build
        )
        image_id = _follow(chunks, log, base_image=base_image, deadline=time.monotonic() + timeout)
    except (requests.exceptions.RequestException, docker.errors.DockerException) as error:
        log.flush()
        raise BuildError(f"the Docker engine did not finish the build: {error}") from error
    return image_id or api.inspect_image(tag)["Id"]


def _prepare_context(context: Path, dockerfile: str, ca_bundle: Path | None) -> None:
    """Write Dockyard's own files under `context/.dockyard/`, replacing whatever the source put there."""
    directory = context / ".dockyard"
    # A repository could make these paths symlinks to write outside the context: replace, never follow.
    if directory.is_symlink() or (directory.exists() and not directory.is_dir()):
        directory.unlink()
    directory.mkdir(exist_ok=True)
    for name in (DOCKERFILE, CA_BUNDLE):
        (context / name).unlink(missing_ok=True)
    (context / DOCKERFILE).write_text(dockerfile)
    if ca_bundle is not None:
        shutil.copyfile(ca_bundle, context / CA_BUNDLE)


def _follow(chunks: Iterator[dict[str, Any]], log: _Log, *, base_image: str, deadline: float) -> str | None:
    """Feed the build's chunks to `log`; the image id if the engine named it, BuildError on failure."""
    image_id = None
    for chunk in chunks:
        if "stream" in chunk:
            log.feed(chunk["stream"])
        elif "status" in chunk and "progress" not in chunk:  # pulls report each byte count: skip those
            log.emit(f"{chunk['id']}: {chunk['status']}" if "id" in chunk else chunk["status"])
        elif "aux" in chunk:
            image_id = chunk["aux"].get("ID", image_id)
        if "error" in chunk or "errorDetail" in chunk:
            log.flush()
            # The engine ends the stream after an error; reading to its end releases the connection.
            for _ in chunks:
                pass
            raise _failure(chunk, log, base_image=base_image)
        if time.monotonic() > deadline:
            log.flush()
            raise BuildError("the build took longer than allowed (DOCKYARD_BUILD_TIMEOUT)")
    log.flush()
    return image_id


def _failure(chunk: dict[str, Any], log: _Log, *, base_image: str) -> BuildError:
    message = str(chunk.get("error") or chunk.get("errorDetail", {}).get("message", "")).strip()
    if log.step.split(" : ", 1)[-1].startswith("FROM ") and any(m in message.lower() for m in PULL_FAILURES):
        return BuildError(
            f"base image {base_image} could not be pulled: {message}; "
            "check DOCKYARD_BASE_IMAGE or the Python version"
        )
    exit_code = NON_ZERO_CODE.search(message)
    if exit_code and log.errors:
        # The engine only says that a command failed; the tool's own ERROR lines say why.
        command = log.step.split(" : ", 1)[-1]
        reasons = "; ".join(log.errors[-MAX_ERROR_LINES:])
        message = f"`{command}` failed (exit {exit_code.group(1)}): {reasons}"
    if log.saw_untrusted_certificate:
        message += (
            "; the build could not verify a TLS certificate: behind a TLS-intercepting proxy, "
            "set DOCKYARD_BUILD_CA_BUNDLE to its CA bundle"
        )
    return BuildError(message or "the build failed")


class _Log:
    """Turns the engine's output, which may split or join lines at random, into one call per line."""

    def __init__(self, on_line: Callable[[str], None]) -> None:
        self.on_line = on_line
        self.partial = ""
        self.step = ""  # the last `Step N/M : …` line, to tell what a failure was about
        self.errors: list[str] = []  # error lines the current step printed
        self.saw_untrusted_certificate = False

    def feed(self, text: str) -> None:
        """Take a piece of output; emit every line it completes."""
        *lines, self.partial = (self.partial + text).split("\n")
        for line in lines:
            self.emit(line)

    def flush(self) -> None:
        """Emit the last line even though no newline ended it."""
        if self.partial:
            self.emit(self.partial)
            self.partial = ""

    def emit(self, line: str) -> None:
        """Pass one line on; blank lines are dropped."""
        line = COLOURS.sub("", line).rstrip()
        if not line:
            return
        if line.startswith("Step "):
            self.step = line
            self.errors = []
        elif ERROR_LINE.match(line):
            self.errors.append(line)
        self.saw_untrusted_certificate |= "CERTIFICATE_VERIFY_FAILED" in line
        self.on_line(line)
