"""Build a directory with the real builder, as the pipeline does, and keep what the log said."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

import docker
from docker.utils import parse_bytes

from builder.build import BuildLimits, build_release
from builder.config import AppConfig
from builder.detect import BuildInputs, plan_build
from builder.plans import BuildPlan
from builder.source import read_tree
from core import labels

HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
BASE_IMAGE = "python:{version}-slim"


@dataclass
class Build:
    image_id: str
    tag: str
    plan: BuildPlan
    lines: list[str] = field(default_factory=list)

    def phases(self) -> list[str]:
        """The `-----> ` headers the build announced, in order."""
        return [line.removeprefix("-----> ") for line in self.lines if line.startswith("-----> ")]


def plan_dir(path: Path, explicit: AppConfig | None = None) -> BuildPlan:
    """The plan the pipeline would make for the repository in `path`."""
    return plan_build(read_tree(path), BuildInputs(explicit=explicit or AppConfig()))


def build_dir(
    api: docker.APIClient,
    path: Path,
    *,
    instance: str,
    app: str,
    plan: BuildPlan | None = None,
    ca_bundle: Path | None = HOST_CA_BUNDLE,
    base_image: str = BASE_IMAGE,
    timeout: int = 900,
    memory: str = "2g",
) -> Build:
    """Build the repository in `path` as app `app` of `instance`; BuildError when the build fails."""
    plan = plan or plan_dir(path)
    tag = f"{instance}/{app}:{uuid.uuid4().hex[:8]}"
    lines: list[str] = []
    image_id = build_release(
        api,
        checkout=path,
        plan=plan,
        base_image_template=base_image,
        ca_bundle=ca_bundle,
        instance=instance,
        tag=tag,
        labels=labels.owned(instance, app, release="1"),
        on_line=lines.append,
        on_phase=lambda header: lines.append(f"-----> {header}"),
        limits=BuildLimits(memory=parse_bytes(memory), cpu_shares=512, timeout=timeout),
    )
    return Build(image_id, tag, plan, lines)
