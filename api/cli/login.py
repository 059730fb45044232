"""`dockyard login`: remember a server and a token for the other commands."""

from __future__ import annotations

import os
import platform
import sys
from typing import Annotated

import typer

from api.cli.client import DEFAULT_URL, Client, Remote, fail, save_remote, saved_remote


def read_secret(prompt: str) -> str:
    """A hidden prompt on a terminal; otherwise one line of stdin (`… | dockyard login`), without a prompt."""
    if sys.stdin.isatty():
        return str(typer.prompt(prompt, hide_input=True))
    return sys.stdin.readline().rstrip("\r\n")


def sign_in(url: str, username: str) -> str:
    """A new token for `username`, from the password typed or piped in."""
    password = read_secret("Password")
    if not password:
        raise fail("no password given; type it at the prompt or pipe it in")
    name = f"dockyard login on {platform.node() or 'a terminal'}"[:100]
    created = Client(Remote(url=url, token="")).call(
        "POST", "/auth/token", json={"username": username, "password": password, "name": name}
    )
    return str(created["token"])


def login(
    url: Annotated[str | None, typer.Option(help="The API's address; default: the saved one.")] = None,
    token: Annotated[
        str | None,
        typer.Option(
            help="An API token (`dockyard tokens create`); asked for (or read from stdin) when missing."
        ),
    ] = None,
    username: Annotated[
        str | None,
        typer.Option(
            "--username",
            "-u",
            help="Sign in with a password (asked for, or read from stdin) instead of a token.",
        ),
    ] = None,
) -> None:
    """Check a token (or sign in) and save the server and token in ~/.config/dockyard/config.json (0600)."""
    if token is not None and username is not None:
        raise typer.BadParameter("give --token or --username, not both", param_hint="--username")
    url = (url or os.environ.get("DOCKYARD_URL") or saved_remote().get("url") or DEFAULT_URL).rstrip("/")
    if username is not None:
        token = sign_in(url, username)
    elif token is None:
        token = read_secret("Token")
    if not token.strip():
        raise fail("no token given; create one on the server with `dockyard token create --name NAME`")
    remote = Remote(url=url, token=token.strip())
    apps = Client(remote).call("GET", "/apps")
    path = save_remote(remote)
    typer.echo(f"logged in to {url} ({len(apps)} app(s)); saved in {path}")
