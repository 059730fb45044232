"""Build speed and image size, for a FastAPI and a Django fixture app.

For each app, with the real builder on the local engine (base image already local):
  cold      — first build of a new app: the dependency layer is installed by pip from the index;
  rebuild   — after a code-only change (median of --rounds): the dependency layer comes from the cache;
  size      — our image against a hand-written multi-stage Dockerfile of the same app, built in this run.
Goals: rebuild ÷ cold ≤ 0.10; size ratio ≤ 1.05.

    .venv/bin/python -m bench.build [--rounds 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import docker

from builder.plans import BuildPlan
from tests.integration.building import HOST_CA_BUNDLE, build_dir, plan_dir
from tests.integration.conftest import remove_owned

APPS = Path(__file__).parents[1] / "tests" / "apps"
HAND_WRITTEN = """\
FROM python:{python}-slim AS build
COPY --from={ca_image} /ca.crt /etc/proxy-ca.crt
ENV PIP_CERT=/etc/proxy-ca.crt PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements.txt .
RUN /opt/venv/bin/pip install -r requirements.txt {servers}

FROM python:{python}-slim
RUN useradd --create-home app
COPY --from=build /opt/venv /opt/venv
COPY --chown=app:app . /app
WORKDIR /app
USER app
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PORT=8000
{build_commands}
CMD ["/bin/sh", "-c", "exec {web}"]
"""


def hand_written(plan: BuildPlan, ca_image: str) -> str:
    """What a careful person would write for the same app: one venv stage, slim final image."""
    commands = "\n".join(f"RUN SECRET_KEY=build-only {command}" for command in plan.build_commands)
    return HAND_WRITTEN.format(
        python=plan.python_version,
        ca_image=ca_image,
        servers=" ".join(plan.extra_packages),
        build_commands=commands,
        web=plan.processes["web"],
    )


def measure(client: docker.DockerClient, instance: str, fixture: Path, rounds: int) -> dict[str, float]:
    """Cold, rebuild and size figures for one fixture app."""
    with tempfile.TemporaryDirectory(prefix="dockyard-bench-") as workdir:
        source = Path(shutil.copytree(fixture, Path(workdir) / "app"))
        plan = plan_dir(source)
        app = f"bench-{uuid.uuid4().hex[:6]}"  # a new app: nothing of an earlier run is cached for it

        started = time.monotonic()
        first = build_dir(client.api, source, instance=instance, app=app, plan=plan)
        cold = time.monotonic() - started

        rebuilds = []
        code_file = next(p for p in sorted(source.rglob("*.py")) if p.name in ("main.py", "views.py"))
        for round_ in range(rounds):
            with code_file.open("a") as handle:
                handle.write(f"\n# code-only change {round_}\n")
            started = time.monotonic()
            build_dir(client.api, source, instance=instance, app=app, plan=plan)
            rebuilds.append(time.monotonic() - started)

        ca_image = next(tag for tag in client.images.list(name=f"{instance}/build-ca")[0].tags)
        hand = Path(workdir) / "hand"
        shutil.copytree(source / plan.root if plan.root else source, hand)
        shutil.rmtree(hand / ".dockyard", ignore_errors=True)
        (hand / ".dockerignore").unlink(missing_ok=True)
        (hand / "Dockerfile").write_text(hand_written(plan, ca_image))
        hand_image, _ = client.images.build(
            path=str(hand), tag=f"{instance}/hand-{app}:1", labels={"dockyard.instance": instance}, rm=True
        )
        ours = client.images.get(first.image_id).attrs["Size"]
        theirs = hand_image.attrs["Size"]
    rebuild = statistics.median(rebuilds)
    return {
        "cold_s": cold,
        "rebuild_s": rebuild,
        "rebuild_ratio": rebuild / cold,
        "ours_mb": ours / 1e6,
        "hand_mb": theirs / 1e6,
        "size_ratio": ours / theirs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="code-only rebuilds per app (median reported)")
    args = parser.parse_args()
    if not HOST_CA_BUNDLE.exists():
        raise SystemExit(f"{HOST_CA_BUNDLE} is missing: builds here need the host's CA bundle")
    client = docker.from_env()
    instance = f"bench-{uuid.uuid4().hex[:8]}"
    print(
        f"{'app':<16} {'cold s':>7} {'rebuild s':>9} {'ratio':>6} {'ours MB':>8} {'hand MB':>8} {'size':>6}"
    )
    try:
        for name, fixture in (("fastapi", APPS / "monorepo-subdir"), ("django", APPS / "django-pip")):
            f = measure(client, instance, fixture, args.rounds)
            print(
                f"{name:<16} {f['cold_s']:7.2f} {f['rebuild_s']:9.2f} {f['rebuild_ratio']:6.3f} "
                f"{f['ours_mb']:8.1f} {f['hand_mb']:8.1f} {f['size_ratio']:6.3f}"
            )
    finally:
        remove_owned(client, instance)
        client.close()


if __name__ == "__main__":
    main()
