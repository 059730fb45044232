"""The domain model: SQLAlchemy 2 tables for apps, their releases and the people who run them."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Named constraints keep Alembic's batch migrations (SQLite) and PostgreSQL in step.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that always reads back as aware UTC (SQLite stores no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.astimezone(UTC) if value is not None and value.tzinfo else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime()}


class DeploymentStatus(enum.StrEnum):
    """Where a release is in its life; the last three are final."""

    QUEUED = "queued"
    BUILDING = "building"
    DEPLOYING = "deploying"
    LIVE = "live"
    FAILED = "failed"
    SUPERSEDED = "superseded"

    @property
    def is_final(self) -> bool:
        """True when the deployment will never change again (live can still be superseded)."""
        return self in (DeploymentStatus.FAILED, DeploymentStatus.SUPERSEDED)

    @property
    def is_active(self) -> bool:
        """True while work is queued or running for this deployment."""
        return self in (DeploymentStatus.QUEUED, DeploymentStatus.BUILDING, DeploymentStatus.DEPLOYING)


class Role(enum.StrEnum):
    """A member's role in a team, from most to least powerful."""

    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"


class User(Base):
    """A person (or robot) who signs in; `is_admin` marks the site administrator created on first run."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255))  # argon2id; None: tokens only
    is_admin: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")
    memberships: Mapped[list[Membership]] = relationship(back_populates="user", cascade="all, delete-orphan")


class Team(Base):
    """A group of people that owns apps; every app belongs to exactly one team."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="team", cascade="all, delete-orphan")
    apps: Mapped[list[App]] = relationship(back_populates="team")


class Membership(Base):
    """A user's role in a team."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    team: Mapped[Team] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships")


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, enough to recognise it in a list; the rest is never stored.
    prefix: Mapped[str] = mapped_column(String(16), default="")
    # What the token may do, within its user's roles: read, deploy, write, manage, admin.
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")


class WebSession(Base):
    """A browser's signed-in session in the web UI; only the SHA-256 of its cookie is stored."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Idle sessions end: each use pushes this forward (at most once a minute).
    expires_at: Mapped[datetime]
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()


class App(Base):
    __tablename__ = "apps"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), index=True)
    repo_url: Mapped[str] = mapped_column(String(500))
    repo_full_name: Mapped[str] = mapped_column(String(200), index=True)
    branch: Mapped[str] = mapped_column(String(255), default="main")
    webhook_secret: Mapped[str] = mapped_column(Text)  # Fernet token
    # Explicit build and run settings, in dockyard.toml's shape; they win over the repository's file.
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Stopped apps keep their releases, volumes and settings, but run nothing.
    stopped: Mapped[bool] = mapped_column(default=False)
    # GitHub's id of the Dockyard GitHub App installation that sees the repository: builds clone with
    # its short-lived tokens and report statuses. Without it, the app uses its own webhook secret and
    # clones public or file URLs. GitHub's id, not a foreign key: an uninstall must not touch the app.
    github_installation_id: Mapped[int | None] = mapped_column(BigInteger)
    # SHA-256 of the token in the app's generic deploy hook URL (CI systems, other forges); None: no hook.
    deploy_hook_hash: Mapped[str | None] = mapped_column(String(64))
    # A pull request preview: the app it previews and the pull request's number (None for other apps).
    # Pull request events of the parent create, redeploy and remove it; it goes when the parent goes.
    preview_of_id: Mapped[int | None] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    pr_number: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    team: Mapped[Team] = relationship(back_populates="apps")
    services: Mapped[list[Service]] = relationship(back_populates="app", cascade="all, delete-orphan")
    deployments: Mapped[list[Deployment]] = relationship(back_populates="app", cascade="all, delete-orphan")
    env_vars: Mapped[list[EnvVar]] = relationship(back_populates="app", cascade="all, delete-orphan")
    volumes: Mapped[list[Volume]] = relationship(back_populates="app", cascade="all, delete-orphan")
    domains: Mapped[list[Domain]] = relationship(
        back_populates="app", cascade="all, delete-orphan", order_by="Domain.hostname"
    )
    previews: Mapped[list[App]] = relationship(
        back_populates="preview_of", cascade="all, delete-orphan", order_by="App.pr_number"
    )
    preview_of: Mapped[App | None] = relationship(back_populates="previews", remote_side="App.id")


class Service(Base):
    """A process type of an app (web, worker, beat, …) and how many replicas it runs."""

    __tablename__ = "services"
    __table_args__ = (UniqueConstraint("app_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(40))
    command: Mapped[str | None] = mapped_column(Text)
    replicas: Mapped[int] = mapped_column(default=1)
    memory: Mapped[str | None] = mapped_column(String(20))  # Docker's notation, "512m"; wins over the plan's
    cpus: Mapped[float | None] = mapped_column(Float)

    app: Mapped[App] = relationship(back_populates="services")


class Deployment(Base):
    """One release of an app: what was built from which commit, and how it went."""

    __tablename__ = "deployments"

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20), default=DeploymentStatus.QUEUED.value, index=True)
    trigger: Mapped[str] = mapped_column(String(20))
    ref: Mapped[str | None] = mapped_column(String(255))
    commit: Mapped[str | None] = mapped_column(String(64))
    # Who made the commit and its subject line, as git records them (shown in deployment lists).
    commit_author: Mapped[str | None] = mapped_column(String(200))
    commit_message: Mapped[str | None] = mapped_column(String(500))
    image: Mapped[str | None] = mapped_column(String(255))
    # A release made from another's image (env or volume change) skips the build.
    source_deployment_id: Mapped[int | None] = mapped_column(ForeignKey("deployments.id"))
    error: Mapped[str | None] = mapped_column(Text)
    # What the builder decided (processes, release command, port, reasons); the scheduler runs it.
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    log: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    app: Mapped[App] = relationship(back_populates="deployments")


class EnvVar(Base):
    """An environment variable; the value is encrypted at rest."""

    __tablename__ = "env_vars"
    __table_args__ = (UniqueConstraint("app_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(255))
    value_encrypted: Mapped[str] = mapped_column(Text)
    # Secret values are never shown again; plain settings (LOG_LEVEL) are shown in lists.
    is_secret: Mapped[bool] = mapped_column(default=True)

    app: Mapped[App] = relationship(back_populates="env_vars")


class Volume(Base):
    """A named volume mounted into the app's containers; it outlives deploys."""

    __tablename__ = "volumes"
    __table_args__ = (UniqueConstraint("app_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(40))
    mount_path: Mapped[str] = mapped_column(String(255))
    process: Mapped[str | None] = mapped_column(String(40))  # None: mounted in every process

    app: Mapped[App] = relationship(back_populates="volumes")


class Domain(Base):
    """A custom host name an app also answers at, besides `<name>.<apps domain>`; one app per host name."""

    __tablename__ = "domains"

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    # Lowercase ASCII (IDNA names in their xn-- form), without a trailing dot: how Caddy matches hosts.
    hostname: Mapped[str] = mapped_column(String(253), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    app: Mapped[App] = relationship(back_populates="domains")


class WebhookDelivery(Base):
    """A received webhook or deploy-hook call and what Dockyard decided to do with it, and why."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(64), index=True)
    # Indexed for the app's delivery log, read newest first a page at a time.
    app_id: Mapped[int | None] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(50))
    signature_ok: Mapped[bool]
    decision: Mapped[str] = mapped_column(Text)
    deployment_id: Mapped[int | None] = mapped_column(ForeignKey("deployments.id", ondelete="SET NULL"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotificationTarget(Base):
    """Where an app's deploy outcomes are posted: a JSON webhook or a Slack-compatible incoming webhook."""

    __tablename__ = "notification_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[int] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"), index=True)
    format: Mapped[str] = mapped_column(String(10))  # json or slack
    # Fernet token: a Slack webhook URL is itself the credential. Lists show `url_masked` only.
    url_encrypted: Mapped[str] = mapped_column(Text)
    url_masked: Mapped[str] = mapped_column(String(300))
    # Fernet token of the HMAC-SHA256 key json payloads are signed with; None for Slack targets.
    signing_secret: Mapped[str | None] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSON, default=list)  # deployment statuses: live, failed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The outcome of the newest send ("200 OK", "timed out after 5 s"), so silent failures are visible.
    last_sent_at: Mapped[datetime | None]
    last_result: Mapped[str | None] = mapped_column(String(300))


class GitHubApp(Base):
    """The GitHub App registered for this Dockyard (one row); its credentials are encrypted at rest."""

    __tablename__ = "github_apps"

    id: Mapped[int] = mapped_column(primary_key=True)
    app_id: Mapped[int] = mapped_column(BigInteger, unique=True)  # GitHub's id, the JWT's issuer
    slug: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(100))
    html_url: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(100))
    client_secret: Mapped[str] = mapped_column(Text)  # Fernet token
    private_key: Mapped[str] = mapped_column(Text)  # Fernet token of the PEM
    webhook_secret: Mapped[str] = mapped_column(Text)  # Fernet token
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GitHubInstallation(Base):
    """An account (user or organization) that installed the GitHub App, as GitHub last listed it."""

    __tablename__ = "github_installations"

    id: Mapped[int] = mapped_column(primary_key=True)
    installation_id: Mapped[int] = mapped_column(BigInteger, unique=True)  # GitHub's id
    account_login: Mapped[str] = mapped_column(String(100))
    account_type: Mapped[str] = mapped_column(String(20))  # User, Organization or Enterprise
    repository_selection: Mapped[str] = mapped_column(String(20))  # all or selected
    suspended_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Invitation(Base):
    """A single-use link that makes whoever opens it a member of a team with a role; only its SHA-256 is
    stored, so the link is shown once, when it is made."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Who it is for: only the account of that name (or a new one by that name) may use it; None: anyone.
    username: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(200))  # for the team's list: "Ada, backend contractor"
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    accepted_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    team: Mapped[Team] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    accepted_by: Mapped[User | None] = relationship(foreign_keys=[accepted_by_id])

    def state(self, now: datetime | None = None) -> str:
        """pending, accepted, revoked or expired: what the link does if opened now."""
        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= (now or utcnow()):
            return "expired"
        return "pending"
