"""Build an app's image with the low-level Docker SDK, streaming the engine's log as it comes."""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import requests

from builder.dockerfile import CA_FILE, Phase, render_dockerfile
from builder.plans import BuildPlan
from core import labels as label
from core.errors import BuildError

DOCKERFILE = ".dockyard/Dockerfile"
DOCKERIGNORE = ".dockerignore"
# What the engine says when FROM cannot get its image (mirror without it, no network, a typo'd tag).
PULL_FAILURES = ("pull access denied", "no such host", "manifest unknown", "not found", "does not exist")
# The classic builder paints a RUN step's stderr red; a log shown elsewhere wants plain text.
COLOURS = re.compile(r"\x1b\[[0-9;]*m")
# The classic builder's bookkeeping, which tells a user nothing.
NOISE = re.compile(
    r"^ ---> ([0-9a-f]{12}$|Running in )|^Removing intermediate container |^Successfully built "
)
STEP = re.compile(r"^Step (\d+)/\d+ : ")
NON_ZERO_CODE = re.compile(r"returned a non-zero code: (\d+)")
# pip's `ERROR: …`, a shell's `error: …`, and the last line of a Python traceback (`ValueError: …`).
ERROR_LINE = re.compile(r"^(ERROR|error)\b|^[A-Za-z_.]*(Error|Exception): ")
OUT_OF_MEMORY = "137"  # the kernel's SIGKILL, which the memory cap sends
MAX_ERROR_LINES = 3


@dataclass(frozen=True)
class BuildLimits:
    """What one build may use: memory (bytes, no swap beyond it), CPU weight, and wall-clock seconds."""

    memory: int
    cpu_shares: int
    timeout: int


def build_release(
    api: docker.APIClient,
    *,
    checkout: Path,
    plan: BuildPlan,
    base_image_template: str,
    ca_bundle: Path | None,
    instance: str,
    tag: str,
    labels: Mapping[str, str],
    on_line: Callable[[str], None],
    on_phase: Callable[[str], None],
    limits: BuildLimits,
) -> str:
    """Build the app in `checkout` (the repository) as `plan` says; return the image id.

    Gets the base image first, so a Python version without an image fails with its name, and the CA
    image when builds need a CA bundle.
    """
    base_image = ca_image = None
    if plan.python_version is not None:
        base_image = base_image_template.format(version=plan.python_version)
        on_phase(f"Building from {base_image}")
        ensure_base_image(api, base_image, python_version=plan.python_version)
        if ca_bundle is not None:
            ca_image = ensure_ca_image(api, ca_bundle, instance=instance)
    return build_image(
        api,
        context=checkout / plan.root if plan.root else checkout,
        plan=plan,
        base_image=base_image,
        ca_image=ca_image,
        tag=tag,
        labels=labels,
        on_line=on_line,
        on_phase=on_phase,
        limits=limits,
    )


def build_image(
    api: docker.APIClient,
    *,
    context: Path,
    plan: BuildPlan,
    base_image: str | None,
    ca_image: str | None,
    tag: str,
    labels: Mapping[str, str],
    on_line: Callable[[str], None],
    on_phase: Callable[[str], None],
    limits: BuildLimits,
) -> str:
    """Build `plan` from the app's source in `context` (the app root) as `tag`; return the image id.

    Engine output goes to `on_line` line by line as it arrives, and `on_phase` announces each part of the
    build. For a plan of Dockyard's own, the generated Dockerfile and files go under `context/.dockyard/`;
    an app's own Dockerfile is built as it is. A failure raises BuildError ending with what to do.
    """
    if plan.dockerfile is not None:
        dockerfile, phases, buildargs = plan.dockerfile, {}, _port_arg(context / plan.dockerfile, plan.port)
        on_phase(f"Building the app's own {plan.dockerfile}")
    else:
        assert base_image is not None, "a plan Dockyard builds needs a base image"
        # Only labels that stay the same from build to build: a commit label would defeat the layer cache.
        stable = {key: value for key, value in labels.items() if key in (label.INSTANCE, label.APP)}
        rendered = render_dockerfile(plan, base_image=base_image, ca_image=ca_image, labels=stable)
        _prepare_context(context, rendered.text, plan)
        dockerfile, phases, buildargs = DOCKERFILE, dict(rendered.phases), {}
    log = _Log(on_line, on_phase, phases)
    try:
        chunks = api.build(
            path=str(context),
            dockerfile=dockerfile,
            tag=tag,
            labels=dict(labels),
            buildargs=buildargs,
            rm=True,
            forcerm=True,
            decode=True,
            container_limits={
                "memory": limits.memory,
                "memswap": limits.memory,
                "cpushares": limits.cpu_shares,
            },
            timeout=limits.timeout,  # between two chunks; the deadline below bounds the whole build
        )
        image_id = _follow(chunks, log, base_image=base_image, limits=limits)
    except (requests.exceptions.RequestException, docker.errors.DockerException) as error:
        log.flush()
        raise BuildError(f"the Docker engine did not finish the build: {error}") from error
    return image_id or api.inspect_image(tag)["Id"]


def ensure_base_image(api: docker.APIClient, image: str, *, python_version: str) -> None:
    """Pull `image` unless the engine has it; a missing image is a BuildError naming it, not a fallback."""
    try:
        api.inspect_image(image)
        return
    except docker.errors.ImageNotFound:
        pass
    try:
        api.pull(image)
    except docker.errors.APIError as error:
        raise BuildError(
            f"no base image for Python {python_version}: {image} could not be pulled "
            f"({error.explanation or error}); declare a Python version that has an image "
            "(.python-version, runtime.txt or requires-python) or change DOCKYARD_BASE_IMAGE"
        ) from error


def ensure_ca_image(api: docker.APIClient, ca_bundle: Path, *, instance: str) -> str:
    """A tiny image holding `ca_bundle` at /ca.crt, which build stages copy from; built once per bundle.

    Keeping the bundle out of the app's build context lets the final stage copy the context whole.
    """
    try:
        content = ca_bundle.read_bytes()
    except OSError as error:
        raise BuildError(f"DOCKYARD_BUILD_CA_BUNDLE={ca_bundle} cannot be read: {error.strerror}") from error
    tag = f"{instance}/build-ca:{hashlib.sha256(content).hexdigest()[:16]}"
    try:
        api.inspect_image(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        for name, data in (
            ("Dockerfile", f"FROM scratch\nCOPY ca.crt {CA_FILE}\n".encode()),
            ("ca.crt", content),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    archive.seek(0)
    for chunk in api.build(
        fileobj=archive,
        custom_context=True,
        tag=tag,
        labels={"dockyard.instance": instance},
        decode=True,
        rm=True,
    ):
        if "error" in chunk:
            raise BuildError(f"could not prepare the build CA bundle image: {chunk['error']}")
    return tag


def _prepare_context(context: Path, dockerfile: str, plan: BuildPlan) -> None:
    """Write Dockyard's files under `context/.dockyard/`, and a .dockerignore keeping what the build needs."""
    directory = context / ".dockyard"
    # A repository could make these paths symlinks to write outside the context: replace, never follow.
    if directory.is_symlink() or (directory.exists() and not directory.is_dir()):
        directory.unlink()
    directory.mkdir(exist_ok=True)
    assert plan.install is not None
    files = {DOCKERFILE: dockerfile, **plan.install.generated}
    for name, text in files.items():
        path = context / name
        if path.is_symlink() or path.exists():
            path.unlink()
        path.write_text(text)
    ignore = context / DOCKERIGNORE
    own = ignore.read_text(errors="replace") if ignore.is_file() and not ignore.is_symlink() else ""
    if ignore.is_symlink():
        ignore.unlink()
    # The app's own rules first; then git metadata out, and back in whatever the dependency layer copies.
    needed = [*plan.install.manifests, *plan.install.generated]
    ignore.write_text(own + "\n# Added by Dockyard\n.git\n" + "".join(f"!{path}\n" for path in needed))


def _port_arg(dockerfile: Path, port: int) -> dict[str, str]:
    """`{"PORT": …}` when the app's Dockerfile declares `ARG PORT`; the engine warns about unused args."""
    try:
        text = dockerfile.read_text(errors="replace")
    except OSError as error:
        raise BuildError(f"cannot read the app's Dockerfile {dockerfile.name}: {error.strerror}") from error
    declares = re.search(r"^\s*ARG\s+PORT\b", text, re.MULTILINE | re.IGNORECASE)
    return {"PORT": str(port)} if declares else {}


def _follow(
    chunks: Iterator[dict[str, Any]], log: _Log, *, base_image: str | None, limits: BuildLimits
) -> str | None:
    """Feed the build's chunks to `log`; the image id if the engine named it, BuildError on failure."""
    image_id = None
    deadline = time.monotonic() + limits.timeout
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
            raise _failure(chunk, log, base_image=base_image, limits=limits)
        if time.monotonic() > deadline:
            log.flush()
            raise BuildError(
                f"the build took longer than {limits.timeout} s: make it faster, "
                "or raise DOCKYARD_BUILD_TIMEOUT"
            )
    log.flush()
    return image_id


def _failure(chunk: dict[str, Any], log: _Log, *, base_image: str | None, limits: BuildLimits) -> BuildError:
    message = str(chunk.get("error") or chunk.get("errorDetail", {}).get("message", "")).strip()
    if log.step.split(" : ", 1)[-1].startswith("FROM ") and any(m in message.lower() for m in PULL_FAILURES):
        image = base_image or log.step.split("FROM ", 1)[-1].split()[0]
        return BuildError(f"base image {image} could not be pulled: {message}; check the image name and tag")
    exit_code = NON_ZERO_CODE.search(message)
    command = log.step.split(" : ", 1)[-1]
    if exit_code and exit_code.group(1) == OUT_OF_MEMORY:
        message = (
            f"`{command}` was killed: the build ran out of its {limits.memory // 2**20} MiB of memory; "
            "raise DOCKYARD_BUILD_MEMORY"
        )
    elif exit_code and log.errors:
        # The engine only says that a command failed; the tool's own ERROR lines say why.
        reasons = "; ".join(log.errors[-MAX_ERROR_LINES:])
        message = f"`{command}` failed (exit {exit_code.group(1)}): {reasons}"
    if log.saw_untrusted_certificate:
        message += (
            "; the build could not verify a TLS certificate: behind a TLS-intercepting proxy, "
            "set DOCKYARD_BUILD_CA_BUNDLE to its CA bundle"
        )
    elif log.phase is not None:
        message += f"; {log.phase.hint}"
    return BuildError(message or "the build failed")


class _Log:
    """Turns the engine's output, which may split or join lines at random, into one call per line."""

    def __init__(
        self, on_line: Callable[[str], None], on_phase: Callable[[str], None], phases: Mapping[int, Phase]
    ) -> None:
        self.on_line = on_line
        self.on_phase = on_phase
        self.phases = phases
        self.phase: Phase | None = None  # the part of the build running now
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
        """Pass one line on; blank lines and the builder's bookkeeping are dropped."""
        line = COLOURS.sub("", line).rstrip()
        if not line or NOISE.match(line):
            return
        step = STEP.match(line)
        if step:
            self.step = line
            self.errors = []
            phase = self.phases.get(int(step.group(1)))
            if phase is not None:
                self.phase = phase
                self.on_phase(phase.header)
        elif ERROR_LINE.match(line):
            self.errors.append(line)
        self.saw_untrusted_certificate |= "CERTIFICATE_VERIFY_FAILED" in line
        self.on_line(line)
