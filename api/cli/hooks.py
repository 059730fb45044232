"""`dockyard hooks`: the app's delivery log (GitHub webhooks and deploy-hook calls) and what each meant."""

from __future__ import annotations

from typing import Annotated

import typer

from api.cli.client import Client
from api.cli.table import echo_table


def when(timestamp: str | None) -> str:
    """An API timestamp as `YYYY-MM-DD HH:MM:SS` (UTC)."""
    return timestamp[:19].replace("T", " ") if timestamp else ""


def hooks(
    app: str, limit: Annotated[int, typer.Option(min=1, max=200, help="How many, newest first.")] = 20
) -> None:
    """What each webhook delivery did and why, newest first (`ignored: push to `dev`, app tracks `main``)."""
    rows = [
        (
            when(delivery["received_at"]),
            delivery["event"],
            "ok" if delivery["signature_ok"] else "bad",
            delivery["decision"],
        )
        for delivery in Client().call("GET", f"/apps/{app}/deliveries", params={"limit": limit})
    ]
    if not rows:
        typer.echo(
            f"no deliveries yet: point the repository's webhook at the app (`dockyard apps info {app}`)",
            err=True,
        )
        return
    echo_table(("WHEN (UTC)", "EVENT", "SIGNATURE", "DECISION"), rows)
