"""`dockyard env`: set, list and unset an app's environment variables (values are never shown)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import typer

from api.cli.client import Client

env = typer.Typer(help="Set, list and unset environment variables.", no_args_is_help=True)


def pairs(assignments: list[str]) -> dict[str, str]:
    """`KEY=VALUE` arguments as a mapping (a value may hold `=`); a usage error otherwise."""
    values = {}
    for assignment in assignments:
        key, equals, value = assignment.partition("=")
        if not equals or not key:
            raise typer.BadParameter(f"{assignment!r} is not KEY=VALUE", param_hint="KEY=VALUE")
        values[key] = value
    return values


def rollout(answer: dict[str, Any]) -> str:
    return f"; rolling out deployment {answer['deployment']}" if answer.get("deployment") else ""


@env.command("set")
def set_env(app: str, assignments: Annotated[list[str], typer.Argument(metavar="KEY=VALUE...")]) -> None:
    """Set variables (others are kept); a live app rolls out a new release without rebuilding."""
    values = pairs(assignments)
    answer = Client().call("PUT", f"/apps/{app}/env", json=values)
    typer.echo(f"set {', '.join(values)}{rollout(answer)}")


@env.command("list")
def list_env(app: str) -> None:
    """The app's variable names, one a line (values are secrets and never shown)."""
    for variable in Client().call("GET", f"/apps/{app}/env"):
        typer.echo(variable["key"])


@env.command("unset")
def unset_env(app: str, keys: Annotated[list[str], typer.Argument(metavar="KEY...")]) -> None:
    """Remove variables; a live app rolls out a new release without them."""
    client = Client()
    for key in keys:
        answer = client.call("DELETE", f"/apps/{app}/env/{quote(key, safe='')}")
        typer.echo(f"unset {key}{rollout(answer)}")
