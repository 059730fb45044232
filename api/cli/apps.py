"""`dockyard apps`: create, list, show and delete apps."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from api.cli.client import Client, fail
from api.cli.table import echo_table

apps = typer.Typer(help="Create, list, show and delete apps.", no_args_is_help=True)


def state(app: dict[str, Any]) -> str:
    """What the app runs, in a few words."""
    live = app.get("live_deployment")
    if app.get("stopped"):
        return "stopped"
    if live is None:
        return "not deployed"
    commit = (live.get("commit") or "")[:7]
    return f"live #{live['id']}" + (f" ({commit})" if commit else "")


@apps.command("create")
def create(
    name: str,
    repo: Annotated[str, typer.Option("--repo", help="Git URL to clone (https://, ssh or file://).")],
    branch: Annotated[str, typer.Option(help="The branch whose pushes deploy.")] = "main",
    team: Annotated[
        str | None, typer.Option(help="The team that owns it; default: your team, when you are in one.")
    ] = None,
) -> None:
    """Create an app; prints its URL, webhook URL and webhook secret (shown only now)."""
    body = {"name": name, "repo_url": repo, "branch": branch, **({"team": team} if team else {})}
    app = Client().call("POST", "/apps", json=body)
    typer.echo(f"created {app['name']} in team {app['team']}")
    typer.echo(f"url:            {app['url']}")
    typer.echo(f"webhook url:    {app['webhook_url']}")
    typer.echo(f"webhook secret: {app['webhook_secret']}  (shown only now)")


@apps.command("list")
def list_apps() -> None:
    """Every app with its state and URL."""
    rows = [(app["name"], app["team"], state(app), app["url"]) for app in Client().call("GET", "/apps")]
    if not rows:
        typer.echo("no apps yet: `dockyard apps create NAME --repo URL`", err=True)
        return
    echo_table(("NAME", "TEAM", "STATE", "URL"), rows)


@apps.command("info")
def info(name: str) -> None:
    """One app: repository, branch, URL, live release."""
    app = Client().call("GET", f"/apps/{name}")
    for label, value in (
        ("name", app["name"]),
        ("team", app["team"]),
        ("state", state(app)),
        ("url", app["url"]),
        ("domains", ", ".join(app.get("domains") or []) or "-"),
        ("repository", app["repo_url"]),
        ("branch", app["branch"]),
        ("webhook url", app["webhook_url"]),
        ("created", app["created_at"]),
    ):
        typer.echo(f"{label + ':':<13}{value}")


@apps.command("delete")
def delete(
    name: str,
    volumes: Annotated[
        bool, typer.Option("--volumes", help="Also delete its volumes and their data.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask to type the name.")] = False,
) -> None:
    """Delete an app: containers, route, images and history (volumes only with --volumes)."""
    client = Client()
    client.call("GET", f"/apps/{name}")  # an unknown app fails before the question
    if not yes:
        typed = typer.prompt(f"This deletes {name} for good. Type its name to go on")
        if typed.strip() != name:
            raise fail(f"{typed.strip()!r} is not {name!r}; nothing was deleted")
    client.call("DELETE", f"/apps/{name}", params={"volumes": volumes}, timeout=120)
    typer.echo(f"deleted {name}" + (" and its volumes" if volumes else ""))
