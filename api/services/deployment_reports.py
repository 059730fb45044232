"""Reporting a deployment's new status to the outside: GitHub (commit status, deployment status) and the
app's notification targets. Runs in the events worker (see `deployment_events`)."""

from __future__ import annotations

from api.services import github_reports, notifications
from core.settings import Settings


def report(settings: Settings, deployment_id: int, status: str) -> None:
    """Report that deployment `deployment_id` took `status`; each reporter decides whether it cares."""
    github_reports.report(settings, deployment_id)  # its current status, as GitHub should show it
    notifications.notify(settings, deployment_id, status)  # live and failed, to the app's targets
