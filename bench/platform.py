"""A real `dockyard server` for a benchmark: its own INSTANCE, ports and data directory, and a local git
remote, with every container, network and image it made removed afterwards."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import docker

from tests.integration.conftest import remove_owned
from tests.platform import Platform, Repo


@contextmanager
def bench_platform(full_name: str) -> Iterator[tuple[Platform, Repo]]:
    """A started platform and an empty repository called `full_name`; stopped and cleaned up on exit."""
    instance = f"bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="dockyard-bench-") as workdir:
        platform = Platform(data_dir=Path(workdir) / "platform", instance=instance)
        platform.data_dir.mkdir()
        repo = Repo(Path(workdir) / "git", full_name=full_name)
        platform.start()
        try:
            yield platform, repo
        finally:
            platform.stop()
            client = docker.from_env()
            remove_owned(client, instance)
            client.close()
