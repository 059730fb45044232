"""What GitHub is told for each deployment status, as whole outputs."""

from __future__ import annotations

import pytest

from api.services.github_reports import Report, Subject, planned_report
from core.models import DeploymentStatus

URL = "http://hello.localhost:8080/"


def subject(status: str, *, started: bool = True, error: str | None = None) -> Subject:
    return Subject(
        deployment_id=12,
        app_name="hello",
        preview=False,
        installation_id=1,
        repository="octo/hello",
        commit="a" * 40,
        status=DeploymentStatus(status),
        started=started,
        error=error,
    )


@pytest.mark.parametrize(
    ("status", "started", "error", "expected"),
    [
        ("queued", False, None, Report("pending", "queued", "Queued as deployment 12")),
        ("building", True, None, Report("pending", "in_progress", "Building deployment 12")),
        ("deploying", True, None, Report("pending", "in_progress", "Releasing deployment 12")),
        ("live", True, None, Report("success", "success", f"Live at {URL}")),
        ("failed", True, "health check failed", Report("failure", "failure", "Failed: health check failed")),
        ("failed", True, None, Report("failure", "failure", "Failed: see the deployment log")),
        ("failed", False, "stuck in queued", Report("error", "error", "Failed: stuck in queued")),
        (
            "superseded",
            False,
            "deployment 14 replaced it",
            Report("success", "inactive", "Not deployed: deployment 14 replaced it"),
        ),
        ("superseded", True, None, Report(None, None, "")),
    ],
)
def test_each_status_has_its_report(status: str, started: bool, error: str | None, expected: Report) -> None:
    assert planned_report(subject(status, started=started, error=error), app_url=URL) == expected
