"""What the builder decided about an app's source, as plain data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

FileTree = Mapping[str, str]
"""An app's source for detection: relative posix path → text content."""


@dataclass(frozen=True)
class BuildPlan:
    """How to build and run an app: the output of detection, the input of the Dockerfile renderer."""

    python_version: str
    framework: str
    requirements: str
    extra_packages: tuple[str, ...]
    processes: dict[str, str]
    reasons: tuple[str, ...]
