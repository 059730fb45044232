"""`dockyard deploy`, `deployments` and `rollback`: releases, followed live in the terminal."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from api.cli.client import Client, fail
from api.cli.table import echo_table

FINAL = ("live", "failed", "superseded")


def follow_deployment(client: Client, app: str, deployment_id: int) -> None:
    """Stream the deployment's log until it ends; exit 0 when it went live, else 1 with its error last."""
    log = f"/apps/{app}/deployments/{deployment_id}/logs"
    for line in client.resumed_lines(
        log, params={"follow": 1}, resume=lambda received, _last: {"offset": received}
    ):
        typer.echo(line)
    deployment = client.call("GET", f"/apps/{app}/deployments/{deployment_id}")
    while deployment["status"] not in FINAL:  # the stream ended early without an error: wait it out
        time.sleep(1)
        deployment = client.call("GET", f"/apps/{app}/deployments/{deployment_id}")
    if deployment["status"] != "live":
        reason = deployment.get("error") or "a newer deployment replaced it"
        raise fail(f"deployment {deployment_id} {deployment['status']}: {reason}")
    url = client.call("GET", f"/apps/{app}")["url"]
    typer.secho(f"-----> Deployment {deployment_id} is live at {url}", fg=typer.colors.GREEN)


def accepted(client: Client, app: str, answer: dict[str, int | str], *, follow: bool, what: str) -> None:
    """Say which deployment was queued, then follow it or say how to."""
    deployment_id = int(answer["id"])
    typer.echo(f"{what}: deployment {deployment_id} {answer['status']}")
    if follow:
        follow_deployment(client, app, deployment_id)
    else:
        typer.echo(f"its status: dockyard deployments {app}; --follow streams its log", err=True)


def deploy(
    app: str,
    ref: Annotated[str | None, typer.Option(help="Branch, tag or commit; default: the app's branch.")] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Stream the log; exit 0 when live, 1 when it fails.")
    ] = False,
) -> None:
    """Build and release the app's branch (or --ref)."""
    client = Client()
    answer = client.call("POST", f"/apps/{app}/deployments", json={"ref": ref} if ref else {})
    accepted(client, app, answer, follow=follow, what="deploying")


def deployments(
    app: str,
    limit: Annotated[int, typer.Option(min=1, max=200, help="How many, newest first.")] = 10,
    status: Annotated[
        str | None,
        typer.Option(help="Only this status: queued, building, deploying, live, failed, superseded."),
    ] = None,
    trigger: Annotated[
        str | None, typer.Option(help="Only deployments made this way: push, hook, api, rollback…")
    ] = None,
    commit: Annotated[
        str | None, typer.Option(help="Only commits starting with this (4+ hex digits).")
    ] = None,
) -> None:
    """The app's deployments, newest first."""
    filters = {"status": status, "trigger": trigger, "commit": commit}
    params = {"limit": limit, **{key: value for key, value in filters.items() if value is not None}}
    rows = [
        (
            str(item["id"]),
            item["status"],
            item["trigger"],
            (item["commit"] or "")[:7],
            item["created_at"][:19].replace("T", " "),
            (item["error"] or "").splitlines()[0][:80] if item["error"] else "",
        )
        for item in Client().call("GET", f"/apps/{app}/deployments", params=params)
    ]
    if not rows:
        hint = "none match" if len(params) > 1 else f"no deployments yet: `dockyard deploy {app} --follow`"
        typer.echo(hint, err=True)
        return
    echo_table(("ID", "STATUS", "TRIGGER", "COMMIT", "CREATED", "ERROR"), rows)


def rollback(
    app: str,
    to: Annotated[
        int | None,
        typer.Option("--to", help="The deployment to return to; default: the newest earlier release kept."),
    ] = None,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Stream the rollout's log.")] = False,
) -> None:
    """Release an earlier deployment's image again, with today's env (no rebuild)."""
    client = Client()
    answer = client.call("POST", f"/apps/{app}/rollback", json={"deployment": to}, timeout=120)
    accepted(client, app, answer, follow=follow, what="rolling back")
