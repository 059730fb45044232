"""`dockyard domains`: add, list and remove the custom domains an app answers at."""

from __future__ import annotations

from urllib.parse import quote

import typer

from api.cli.client import Client
from api.cli.table import echo_table

domains = typer.Typer(help="Add, list and remove an app's custom domains.", no_args_is_help=True)


@domains.command("add")
def add(app: str, host: str) -> None:
    """Serve the app at HOST too (point HOST's DNS at this server); a live app answers there at once."""
    domain = Client().call("POST", f"/apps/{app}/domains", json={"hostname": host})
    typer.echo(f"added {domain['hostname']}: {domain['url']}")


@domains.command("list")
def list_domains(app: str) -> None:
    """The app's custom domains with their URLs."""
    rows = [(domain["hostname"], domain["url"]) for domain in Client().call("GET", f"/apps/{app}/domains")]
    if not rows:
        typer.echo(f"no custom domains: `dockyard domains add {app} HOST` adds one", err=True)
        return
    echo_table(("DOMAIN", "URL"), rows)


@domains.command("remove")
def remove(app: str, host: str) -> None:
    """Stop serving the app at HOST; a live app stops answering there at once."""
    Client().call("DELETE", f"/apps/{app}/domains/{quote(host, safe='')}")
    typer.echo(f"removed {host}")
