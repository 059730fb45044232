"""Reporting a deployment's new status to the outside: GitHub (commit status, deployment status) and the
app's notification targets. Runs in the events worker (see `deployment_events`)."""

from __future__ import annotations

import logging

from api.services import github_reports, notifications
from core.settings import Settings

log = logging.getLogger(__name__)


def report(settings: Settings, deployment_id: int, status: str) -> None:
    """Report that deployment `deployment_id` took `status`; each reporter decides whether it cares, and
    one that fails (GitHub down) does not keep the others from reporting."""
    reporters = (
        ("GitHub", lambda: github_reports.report(settings, deployment_id)),  # its current status
        ("notifications", lambda: notifications.notify(settings, deployment_id, status)),  # live, failed
    )
    for name, run in reporters:
        try:
            run()
        except Exception:
            log.exception("reporting deployment %s (%s) to %s failed", deployment_id, status, name)
