"""`dockyard login`: remember a server and a token for the other commands."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from api.cli.client import DEFAULT_URL, Client, Remote, fail, save_remote, saved_remote


def login(
    url: Annotated[str | None, typer.Option(help="The API's address; default: the saved one.")] = None,
    token: Annotated[
        str | None,
        typer.Option(
            help="An API token (`dockyard token create`); asked for (or read from stdin) when missing."
        ),
    ] = None,
) -> None:
    """Check a token against the server and save both in ~/.config/dockyard/config.json (mode 0600)."""
    url = (url or os.environ.get("DOCKYARD_URL") or saved_remote().get("url") or DEFAULT_URL).rstrip("/")
    if token is None:
        # A script may pipe the token in (`… | dockyard login`): read it as it comes, without a prompt.
        token = typer.prompt("Token", hide_input=True) if sys.stdin.isatty() else sys.stdin.readline()
    if not token.strip():
        raise fail("no token given; create one on the server with `dockyard token create --name NAME`")
    remote = Remote(url=url, token=token.strip())
    apps = Client(remote).call("GET", "/apps")
    path = save_remote(remote)
    typer.echo(f"logged in to {url} ({len(apps)} app(s)); saved in {path}")
