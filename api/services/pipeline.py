"""The deploy pipeline, as a script of named phases:

fetch → detect → build → start → healthcheck → switch → retire

Each phase logs one `-----> ` line to the deployment's live log. The previous release is retired only
after the new one answers its health check and the proxy points at it; any failure stops the new
container and leaves the old release serving.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import docker
import redis
from docker.utils import parse_bytes
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.services.apps import env_values, live_deployment
from api.services.deployments import Trigger, deployment_log, fail, finish
from api.services.github_app import clone_url
from api.services.images import gc_images, kept_images
from api.services.reconciler import deploy_lock_name
from api.services.releases import plan_value, release_of, sync_services
from api.services.rollout import Rollout, WebPolicy
from builder import build, detect, source
from builder.config import config_from_mapping
from builder.detect import BuildInputs
from builder.plans import plan_summary
from core import labels
from core.celery_app import deploy_time_limits
from core.db import session_scope
from core.deploy_log import DeployLog
from core.errors import DeployError, DockyardError
from core.models import Deployment, DeploymentStatus, GitHubApp, utcnow
from core.settings import Settings
from scheduler import proxy
from scheduler.runtime.docker import DockerRuntime

LOG_TAIL_IN_ERROR = 20
AUTHOR_LENGTH = 200  # the columns' sizes
SUBJECT_LENGTH = 500


@dataclass(frozen=True)
class ReleaseImage:
    """What a release runs: the image, the commit it was built from (author, subject) and the build plan."""

    tag: str
    commit: str
    plan: dict[str, object]
    author: str | None
    subject: str | None


def image_tag(settings: Settings, app: str, deployment_id: int) -> str:
    """The tag of a release's image: `dockyard/<app>:<deployment>` for the default instance."""
    return f"{settings.instance}/{app}:{deployment_id}"


def build_limits(settings: Settings) -> build.BuildLimits:
    """The memory, CPU and time a build may use, from the settings."""
    return build.BuildLimits(
        memory=parse_bytes(settings.build_memory),
        cpu_shares=settings.build_cpu_shares,
        timeout=settings.build_timeout,
    )


class Pipeline:
    """Runs one deployment to `live`, `failed` or `superseded`; safe to run again for the same id."""

    def __init__(self, settings: Settings, *, redis_client: redis.Redis, docker_client: docker.DockerClient):
        self.settings = settings
        self.redis = redis_client
        self.docker = docker_client
        self.runtime = DockerRuntime(docker_client, settings.instance, network_pool=settings.network_pool)
        self.proxy = proxy.CaddyAdmin(settings.caddy_admin)

    def close(self) -> None:
        """Release the proxy client's connections."""
        self.proxy.close()

    def run(self, deployment_id: int) -> None:
        """Deploy `deployment_id`, holding the app's deploy lock so releases of one app never race."""
        with session_scope() as session:
            deployment = session.get(Deployment, deployment_id)
            if deployment is None or not DeploymentStatus(deployment.status).is_active:
                return  # finished already: a redelivered task does nothing
            app_id = deployment.app_id
        lock = self.redis.lock(
            deploy_lock_name(self.settings, app_id),
            timeout=self.settings.build_timeout + self.settings.startup_timeout + 300,
            blocking_timeout=self.settings.build_timeout + self.settings.startup_timeout + 300,
        )
        with lock:
            self._run_locked(deployment_id)

    def _run_locked(self, deployment_id: int) -> None:
        with session_scope() as session:
            deployment = session.get(Deployment, deployment_id)
            if deployment is None or not DeploymentStatus(deployment.status).is_active:
                return  # another run finished it while this one waited for the lock
            log = deployment_log(self.redis, self.settings, deployment)
        log.restart()
        try:
            with session_scope() as session:
                deployment = _load(session, deployment_id)
                newer = _newer_deployment(session, deployment)
                if newer is not None:
                    finish(deployment, DeploymentStatus.SUPERSEDED, f"deployment {newer.id} replaced it")
                    log.append(f"-----> Superseded by deployment {newer.id} before it started")
                    return
                deployment.started_at = utcnow()
                deployment.error = None
            self._deploy(deployment_id, log)
        except DockyardError as error:
            self._fail(deployment_id, log, error.detail)
        except BaseException as error:
            # Soft time limits, lost engines, bugs: the deployment must never stay `building` forever.
            self._fail(deployment_id, log, _describe_unexpected(error, self.settings))
            raise
        finally:
            self._save_log(deployment_id, log)

    def _deploy(self, deployment_id: int, log: DeployLog) -> None:
        with session_scope() as session:
            deployment = _load(session, deployment_id)
            app = deployment.app
            source_image = self._source_image(session, deployment)
            # Like Heroku: builds and config changes run the release command; rollbacks and restarts do not.
            runs_release = deployment.trigger not in (Trigger.ROLLBACK, Trigger.RESTART)
            app_name, repo_url = app.name, app.repo_url
            want = deployment.commit or deployment.ref or app.branch
            env = env_values(self.settings, app)
            inputs = BuildInputs(
                explicit=config_from_mapping(app.config or {}, source="app settings"),
                python_env=env.get("PYTHON_VERSION"),
                supported_pythons=self.settings.supported_python_versions,
                default_python=self.settings.default_python_version,
            )
            if source_image is None:
                deployment.status = DeploymentStatus.BUILDING.value

        if source_image is None:
            image = self._build(
                deployment_id, app_name=app_name, repo_url=repo_url, want=want, inputs=inputs, log=log
            )
        else:
            image = source_image
            log.append(f"-----> Reusing image {image.tag} of commit {image.commit[:12]} (no rebuild)")
        plan = image.plan

        with session_scope() as session:
            deployment = _load(session, deployment_id)
            deployment.image, deployment.commit, deployment.plan = image.tag, image.commit, plan
            deployment.commit_author, deployment.commit_message = image.author, image.subject
            deployment.status = DeploymentStatus.DEPLOYING.value
            session.flush()
            release = release_of(self.settings, deployment.app, deployment)
        policy = WebPolicy(
            health_path=str(plan_value(plan, "healthcheck", {}).get("path") or "/"),
            startup_timeout=int(
                plan_value(plan, "healthcheck", {}).get("timeout") or self.settings.startup_timeout
            ),
            drain=int(plan_value(plan, "drain", self.settings.drain_seconds)),
            request_timeout=plan_value(plan, "request_timeout", None),
        )
        rollout = Rollout(self.settings, self.runtime, self.proxy, log)
        rollout.run(
            release,
            release_command=plan_value(plan, "release", None) if runs_release else None,
            web=policy,
            make_live=lambda: self._make_live(deployment_id, log),
        )
        with session_scope() as session:
            keep = kept_images(session, _load(session, deployment_id).app, self.settings.keep_releases)
        removed = gc_images(self.docker, self.settings, app_name, keep)
        if removed:
            log.append(
                f"-----> Removed {len(removed)} old image(s); "
                f"the last {self.settings.keep_releases} releases stay"
            )
        log.append(f"=====> Live at {self.settings.app_url(app_name)}")

    def _make_live(self, deployment_id: int, log: DeployLog) -> None:
        with session_scope() as session:
            deployment = _load(session, deployment_id)
            for previous in session.scalars(
                select(Deployment).where(
                    Deployment.app_id == deployment.app_id,
                    Deployment.status == DeploymentStatus.LIVE.value,
                    Deployment.id != deployment_id,
                )
            ):
                finish(previous, DeploymentStatus.SUPERSEDED, None)
            finish(deployment, DeploymentStatus.LIVE, None)
            sync_services(session, deployment.app, deployment.plan)

    def _build(
        self,
        deployment_id: int,
        *,
        app_name: str,
        repo_url: str,
        want: str,
        inputs: BuildInputs,
        log: DeployLog,
    ) -> ReleaseImage:
        with tempfile.TemporaryDirectory(prefix="dockyard-build-") as workdir:
            checkout = Path(workdir) / "src"
            log.append(f"-----> Fetching {_safe_url(repo_url)} at {want}")
            url = self._clone_url(deployment_id, repo_url)
            if url != repo_url:
                log.append("       with a GitHub App installation token")
            commit = source.fetch(url, want, checkout)
            described = source.describe_commit(checkout, commit)
            author = described.author[:AUTHOR_LENGTH] if described else None
            subject = described.subject[:SUBJECT_LENGTH] if described else None
            with session_scope() as session:
                fetched = _load(session, deployment_id)
                fetched.commit, fetched.commit_author, fetched.commit_message = commit, author, subject
            log.append(f"       commit {commit}" + (f" by {author}: {subject}" if described else ""))
            log.append("-----> Detecting how to build and run the app")
            plan = detect.plan_build(source.read_tree(checkout), inputs)
            for reason in plan.reasons:
                log.append(f"       {reason}")
            summary = plan_summary(plan)
            with session_scope() as session:
                _load(session, deployment_id).plan = summary
            tag = image_tag(self.settings, app_name, deployment_id)
            started = time.monotonic()
            build.build_release(
                self.docker.api,
                checkout=checkout,
                plan=plan,
                base_image_template=self.settings.base_image,
                ca_bundle=self.settings.build_ca_bundle,
                instance=self.settings.instance,
                tag=tag,
                labels={
                    **labels.owned(self.settings.instance, app_name, release=str(deployment_id)),
                    labels.COMMIT: commit,
                    labels.BUILT_AT: utcnow().isoformat(timespec="seconds"),
                },
                on_line=_indent(log.append),
                on_phase=lambda header: log.append(f"-----> {header}"),
                limits=build_limits(self.settings),
            )
            log.append(f"-----> Built {tag} in {time.monotonic() - started:.1f} s")
        return ReleaseImage(tag=tag, commit=commit, plan=summary, author=author, subject=subject)

    def _clone_url(self, deployment_id: int, repo_url: str) -> str:
        """`repo_url`, with a fresh installation token when the app is connected through the GitHub App."""
        with session_scope() as session:
            installation_id = _load(session, deployment_id).app.github_installation_id
            github_app = session.scalar(select(GitHubApp)) if installation_id is not None else None
        return clone_url(self.settings, github_app, repo_url=repo_url, installation_id=installation_id)

    def _source_image(self, session: Session, deployment: Deployment) -> ReleaseImage | None:
        """The image (with its commit and plan) a release without a build reuses, or None for a build.

        A rollback reuses its target's; a config rollout or restart the live release's, resolved now (not when
        it was queued), so that it never undoes a deployment that went live meanwhile.
        """
        if deployment.source_deployment_id is None:
            return None
        if deployment.trigger == Trigger.ROLLBACK:
            target = session.get(Deployment, deployment.source_deployment_id)
            if target is None or target.image is None:
                raise DeployError("the release to roll back to no longer exists; deploy its commit instead")
            if not self.runtime.has_image(target.image):
                raise DeployError(
                    f"the image of release {target.id} was garbage-collected (only the last "
                    f"{self.settings.keep_releases} are kept); deploy commit {target.commit} instead"
                )
            return _reused(target, target.image)
        live = live_deployment(session, deployment.app)
        if live is None or live.image is None:
            raise DeployError("nothing to redeploy: the app has no live release yet; deploy a commit first")
        return _reused(live, live.image)

    def _fail(self, deployment_id: int, log: DeployLog, reason: str) -> None:
        with session_scope() as session:
            deployment = session.get(Deployment, deployment_id)
            if deployment is not None and DeploymentStatus(deployment.status).is_active:
                fail(deployment, log, reason)
            elif deployment is not None:
                # Live already (retiring the old release failed): the next reconcile pass cleans up.
                log.append(f" !     after going live: {reason}")

    def _save_log(self, deployment_id: int, log: DeployLog) -> None:
        text = log.text()
        with session_scope() as session:
            deployment = session.get(Deployment, deployment_id)
            if deployment is not None and not DeploymentStatus(deployment.status).is_active:
                deployment.log = text
                log.end()


def fail_stuck(session: Session, settings: Settings, *, redis_client: redis.Redis) -> list[int]:
    """Fail deployments active for longer than any task may run (their worker died); returns their ids."""
    _soft, hard = deploy_time_limits(settings)
    # Queued ones wait behind other builds of the same app, so they get a longer grace.
    cutoff = utcnow() - timedelta(seconds=hard * 3)
    failed = []
    for deployment in session.scalars(
        select(Deployment).where(
            Deployment.status.in_([s.value for s in DeploymentStatus if s.is_active]),
            Deployment.created_at < cutoff,
        )
    ):
        reason = f"stuck in {deployment.status} for more than {hard * 3} s: its worker stopped; deploy again"
        log = deployment_log(redis_client, settings, deployment)
        fail(deployment, log, reason)
        deployment.log = log.text()
        log.end()
        failed.append(deployment.id)
    return failed


def _newer_deployment(session: Session, deployment: Deployment) -> Deployment | None:
    """A newer deployment, queued, running or live already, that makes this one pointless.

    Builds are superseded only by newer builds (a config rollout must not drop new code); a config
    rollout is superseded by anything newer, since every deployment reads the current config. A newer
    one that is live or running counts too: two workers can take a burst's tasks out of order, and an
    older commit must never replace a newer one that went live first. A newer one that failed does not.
    """
    pending_or_live = [status.value for status in DeploymentStatus if status.is_active]
    query = select(Deployment).where(
        Deployment.app_id == deployment.app_id,
        Deployment.id > deployment.id,
        Deployment.status.in_([*pending_or_live, DeploymentStatus.LIVE.value]),
    )
    if deployment.source_deployment_id is None:
        query = query.where(Deployment.source_deployment_id.is_(None))
    return session.scalar(query.order_by(Deployment.id.desc()))


def _reused(release: Deployment, image: str) -> ReleaseImage:
    return ReleaseImage(
        tag=image,
        commit=release.commit or "",
        plan=dict(release.plan or {}),
        author=release.commit_author,
        subject=release.commit_message,
    )


def _load(session: Session, deployment_id: int) -> Deployment:
    deployment = session.get(Deployment, deployment_id)
    if deployment is None:
        raise DeployError(f"deployment {deployment_id} was deleted while it ran")
    return deployment


def _indent(write: Callable[[str], None]) -> Callable[[str], None]:
    return lambda line: write(f"       {line}")


def _safe_url(url: str) -> str:
    """The URL without any credentials it may carry."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://{rest.split('@', 1)[1]}"
    return url


def _describe_unexpected(error: BaseException, settings: Settings) -> str:
    from celery.exceptions import SoftTimeLimitExceeded

    if isinstance(error, SoftTimeLimitExceeded):
        return (
            f"timed out: the deployment ran longer than its limit (build {settings.build_timeout} s "
            f"+ startup {settings.startup_timeout} s); raise DOCKYARD_BUILD_TIMEOUT if the build needs longer"
        )
    return f"internal error: {type(error).__name__}: {error}"
