"""`dockyard tokens`: list, create and revoke your API tokens on a remote server."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from api.cli.client import Client
from api.cli.hooks import when
from api.cli.table import echo_table

tokens = typer.Typer(help="List, create and revoke your API tokens.", no_args_is_help=True)


def token_state(token: dict[str, Any], now: datetime) -> str:
    """active, revoked, expired, or when it expires."""
    if token["revoked_at"]:
        return "revoked"
    expires = token["expires_at"]
    if expires is None:
        return "active"
    if datetime.fromisoformat(expires) <= now:
        return "expired"
    return f"expires {expires[:10]}"


@tokens.command("list")
def list_tokens() -> None:
    """Your tokens, newest first: the prefix recognises one, the rest is never shown."""
    now = datetime.now(UTC)
    rows = [
        (
            str(token["id"]),
            token["name"],
            token["prefix"] + "…",
            ",".join(token["scopes"]),
            token_state(token, now),
            when(token["last_used_at"]) or "never",
        )
        for token in Client().call("GET", "/tokens")
    ]
    echo_table(("ID", "NAME", "PREFIX", "SCOPES", "STATE", "LAST USED (UTC)"), rows)


@tokens.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="What the token is for (ci, laptop…).")],
    scopes: Annotated[
        list[str] | None,
        typer.Option("--scope", help="read, deploy, write, manage or admin; repeat it; default: all yours."),
    ] = None,
    expires_in_days: Annotated[
        int | None, typer.Option("--expires-in-days", min=1, max=3650, help="Default: it does not expire.")
    ] = None,
) -> None:
    """Create a token and print it on stdout, alone, for scripts (it is shown only once)."""
    body: dict[str, Any] = {"name": name, "scopes": scopes or None, "expires_in_days": expires_in_days}
    created = Client().call("POST", "/tokens", json=body)
    typer.echo(
        f"created token {created['id']} ({created['name']}: {', '.join(created['scopes'])}); "
        "it is shown only now",
        err=True,
    )
    typer.echo(created["token"])


@tokens.command("revoke")
def revoke(token_id: Annotated[int, typer.Argument(metavar="ID", min=1)]) -> None:
    """Revoke a token (`dockyard tokens list` shows ids); requests with it answer 401 from now on."""
    Client().call("DELETE", f"/tokens/{token_id}")
    typer.echo(f"revoked token {token_id}")
