"""Request and response bodies of the REST API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

CONFIG_DESCRIPTION = (
    "Explicit build and run settings in dockyard.toml's shape (`build`, `processes`, `deploy`, "
    "`healthcheck`, `volumes`); they win over the repository's dockyard.toml key by key."
)


class AppCreate(BaseModel):
    name: str = Field(
        description="A DNS label: the app is served at <name>.<apps domain>.", examples=["hello"]
    )
    repo_url: str = Field(description="Git URL to clone (https:// or file://).")
    branch: str = Field("main", description="The branch whose pushes deploy.")
    team: str | None = Field(
        None, description="The team that owns the app; default: your team, when you are in exactly one."
    )
    config: dict[str, Any] = Field(
        default_factory=dict,
        description=CONFIG_DESCRIPTION,
        examples=[{"build": {"root": "backend"}, "processes": {"web": "gunicorn app:app"}}],
    )


class LiveRelease(BaseModel):
    id: int
    commit: str | None


class AppPublic(BaseModel):
    name: str
    team: str = Field(description="The team that owns the app.")
    repo_url: str
    repo_full_name: str
    branch: str
    url: str = Field(description="Where the app answers through the proxy.")
    domains: list[str] = Field(
        default_factory=list, description="Custom domains the app also answers at, besides `url`."
    )
    webhook_url: str = Field(description="Point the GitHub repository's push webhook here.")
    live_deployment: LiveRelease | None
    config: dict[str, Any] = Field(description=CONFIG_DESCRIPTION)
    stopped: bool = Field(False, description="A stopped app keeps its releases and data but runs nothing.")
    created_at: datetime


class AppCreated(AppPublic):
    webhook_secret: str = Field(description="The webhook's secret; shown only in this response.")


class EnvKeys(BaseModel):
    keys: list[str] = Field(description="Every variable the app has; values are never returned.")
    deployment: int | None = Field(description="The deployment rolling the change out, if the app is live.")


class EnvVarPublic(BaseModel):
    key: str
    value: str | None = Field(None, description="The value of a plain setting; null for a secret.")
    is_secret: bool = True


class VolumeCreate(BaseModel):
    name: str = Field(examples=["uploads"])
    mount_path: str = Field(examples=["/data"])
    process: str | None = Field(
        None,
        description="Mount it only in this process type (`worker`); default: every process.",
        examples=[None],
    )


class VolumePublic(BaseModel):
    name: str
    mount_path: str
    process: str | None = None
    deployment: int | None = Field(None, description="The deployment rolling the change out, if any.")


class DomainCreate(BaseModel):
    hostname: str = Field(
        description="A host name whose DNS points at this Dockyard (IDNA names in Unicode or xn-- form).",
        examples=["www.example.com"],
    )


class DomainPublic(BaseModel):
    hostname: str = Field(description="Lowercase, in ASCII (xn-- form for IDNA names).")
    url: str = Field(description="Where the app answers at this domain (https once HTTPS is on).")
    created_at: datetime


class DeploymentCreate(BaseModel):
    ref: str | None = Field(None, description="Branch, tag or commit to build; default: the app's branch.")


class DeploymentAccepted(BaseModel):
    id: int
    status: str


class DeploymentPublic(BaseModel):
    id: int
    status: str = Field(description="queued, building, deploying, live, failed or superseded.")
    trigger: str
    ref: str | None
    commit: str | None
    commit_author: str | None = Field(description="Who made the commit (git's author name).")
    commit_message: str | None = Field(description="The commit's subject line.")
    image: str | None
    error: str | None
    plan: dict[str, Any] | None = Field(
        description="What the build decided: framework, Python, package manager, processes, release "
        "command, port, and the reasons for each choice."
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ContainerPublic(BaseModel):
    name: str
    release: int | None
    status: str


class ServicePublic(BaseModel):
    name: str
    status: str = Field(description="running when every wanted replica runs, else what is wrong.")
    replicas: int
    containers: list[ContainerPublic]


class WebhookResult(BaseModel):
    app: str
    decision: str
    deployment: int | None


class WebhookAnswer(BaseModel):
    event: str
    delivery: str
    results: list[WebhookResult]


class DeliveryPublic(BaseModel):
    id: int
    delivery_id: str = Field(
        description="GitHub's X-GitHub-Delivery, or Dockyard's id for a deploy-hook call."
    )
    event: str = Field(description="GitHub's event (push, ping, …) or deploy-hook.")
    received_at: datetime
    signature_ok: bool = Field(description="False when the signature or hook token did not match: rejected.")
    decision: str = Field(
        description="What Dockyard did and why.", examples=["ignored: push to `dev`, app tracks `main`"]
    )
    deployment: int | None = Field(description="The deployment it queued, if any.")


class DeployHookCreated(BaseModel):
    url: str = Field(
        description='POST here to deploy (`?ref=` or `{"ref": …}` optional); shown only in this response.'
    )


class ProcessLimits(BaseModel):
    memory: str | None = Field(
        None, description="Docker's notation (512m, 1g); null: the plan's, else unlimited.", examples=["512m"]
    )
    cpus: float | None = Field(None, description="CPUs, e.g. 0.5; null: the plan's, else unlimited.")


class RolloutAccepted(BaseModel):
    deployment: int | None = Field(description="The deployment rolling the change out, if the app is live.")


class RollbackRequest(BaseModel):
    deployment: int | None = Field(
        None,
        description="The deployment to return to; default: the newest earlier release whose image is kept.",
    )


class RunRequest(BaseModel):
    command: str = Field(examples=["python manage.py shell -c 'print(1)'"])
    timeout: int = Field(600, ge=1, le=3600, description="Seconds before the command is killed.")


class RunResult(BaseModel):
    exit_code: int
    output: str = Field(description="What the command wrote to stdout and stderr.")


class SetupRequest(BaseModel):
    username: str = Field(examples=["ada"])
    password: str = Field(description="At least 10 characters.", examples=["correct horse battery"])


class SetupStatus(BaseModel):
    needed: bool = Field(description="True until the site administrator has been created.")


class SignIn(BaseModel):
    username: str
    password: str
    name: str = Field("dockyard login", description="What the token is for, shown in token lists.")
    scopes: list[str] | None = Field(
        None, description="Default: every scope (read, deploy, write, manage, admin)."
    )
    expires_in_days: int | None = Field(
        None, ge=1, le=3650, description="At most 10 years; default: the token does not expire."
    )


class TokenCreate(BaseModel):
    name: str = Field(examples=["ci"])
    scopes: list[str] | None = Field(
        None,
        description="Any of read, deploy, write, manage, admin; default: all. A token never does more "
        "than its user's roles allow.",
        examples=[["read", "deploy"]],
    )
    expires_in_days: int | None = Field(
        None, ge=1, le=3650, description="At most 10 years; default: the token does not expire."
    )


class TokenPublic(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="The token's first characters, to recognise it; the rest is never shown.")
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenPublic):
    token: str = Field(description="The token itself; shown only in this response.")


class UserCreate(BaseModel):
    username: str
    password: str = Field(description="At least 10 characters.")
    is_admin: bool = Field(False, description="A second site administrator.")


class TeamRole(BaseModel):
    team: str
    role: str


class UserPublic(BaseModel):
    username: str
    is_admin: bool
    created_at: datetime
    teams: list[TeamRole] = Field(default_factory=list)


class PasswordChange(BaseModel):
    current_password: str
    new_password: str = Field(description="At least 10 characters.")


class TeamCreate(BaseModel):
    name: str = Field(examples=["backend"])


class MemberPublic(BaseModel):
    username: str
    role: str


class TeamPublic(BaseModel):
    name: str
    role: str = Field(description="Your role in the team.")
    apps: list[str]
    members: list[MemberPublic]
    created_at: datetime


class MemberSet(BaseModel):
    role: str = Field(description="owner, admin, member or viewer.", examples=["member"])


class NotificationCreate(BaseModel):
    url: str = Field(
        description="Where to POST: a Slack-compatible incoming webhook URL or your own endpoint. Kept "
        "encrypted and only ever shown masked, since such URLs are themselves secrets.",
        examples=["https://hooks.slack.com/services/T000/B000/XXXX"],
    )
    format: Literal["json", "slack"] = Field(
        "json",
        description='`json`: Dockyard\'s body, signed in `X-Dockyard-Signature-256`; `slack`: `{"text": …}`.',
    )
    events: list[Literal["live", "failed"]] | None = Field(
        None, description="Which deployment outcomes to send; default: both."
    )


class NotificationPublic(BaseModel):
    id: int
    url: str = Field(description="The URL, masked: scheme, host and first path segment only.")
    format: str = Field(description="json or slack.")
    events: list[str] = Field(description="The deployment outcomes sent: live, failed.")
    signed: bool = Field(description="True when bodies carry `X-Dockyard-Signature-256`.")
    created_at: datetime
    last_sent_at: datetime | None = Field(description="When the newest notification or test was sent.")
    last_result: str | None = Field(
        description="How it went: the HTTP status, or why it could not be sent.", examples=["200 OK"]
    )


class NotificationCreated(NotificationPublic):
    signing_secret: str | None = Field(
        description="The HMAC-SHA256 key of `X-Dockyard-Signature-256` (json targets); shown only here."
    )


class NotificationTestResult(BaseModel):
    ok: bool = Field(description="True when the target answered 2xx.")
    status_code: int | None = Field(description="The target's HTTP status; null when none came back.")
    result: str = Field(examples=["200 OK", "timed out after 5 s"])


class InvitationCreate(BaseModel):
    role: str = Field(
        description="owner, admin, member or viewer; only owners invite owners.", examples=["member"]
    )
    username: str | None = Field(
        None,
        max_length=64,
        description="Only this account (or a new one by this name) may use the link; default: anyone.",
    )
    note: str | None = Field(
        None, max_length=200, description="Who it is for, shown in the team's list.", examples=["Ada"]
    )


class InvitationPublic(BaseModel):
    id: int
    team: str
    role: str
    username: str | None = Field(description="Who may use it; null: whoever has the link.")
    note: str | None
    state: Literal["pending", "accepted", "revoked", "expired"]
    created_by: str | None = Field(description="Who made it (null once their account is deleted).")
    created_at: datetime
    expires_at: datetime
    accepted_by: str | None
    accepted_at: datetime | None
    revoked_at: datetime | None


class InvitationCreated(InvitationPublic):
    token: str = Field(description="The link's token; shown only in this response.")
    url: str = Field(description="The link to send the invitee; shown only in this response.")
