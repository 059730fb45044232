"""Request and response bodies of the REST API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
