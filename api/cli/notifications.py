"""`dockyard notifications`: where an app's deploy outcomes are posted (a JSON webhook or Slack)."""

from __future__ import annotations

import enum
from typing import Annotated

import typer

from api.cli.client import Client, fail
from api.cli.table import echo_table

notifications = typer.Typer(
    help="Post deploy outcomes (live, failed) to a webhook or a Slack channel.", no_args_is_help=True
)


class Format(enum.StrEnum):
    JSON = "json"
    SLACK = "slack"


class Event(enum.StrEnum):
    LIVE = "live"
    FAILED = "failed"


@notifications.command("list")
def list_targets(app: str) -> None:
    """The app's targets (URLs masked) and how the newest send to each went."""
    rows = [
        (
            str(target["id"]),
            target["format"],
            ",".join(target["events"]),
            target["url"],
            target["last_result"] or "never sent",
        )
        for target in Client().call("GET", f"/apps/{app}/notifications")
    ]
    if not rows:
        typer.echo(f"no notifications yet: `dockyard notifications add {app} URL`", err=True)
        return
    echo_table(("ID", "FORMAT", "EVENTS", "URL", "LAST RESULT"), rows)


@notifications.command("add")
def add(
    app: str,
    url: Annotated[str, typer.Argument(help="A Slack incoming webhook URL, or your own endpoint.")],
    format: Annotated[
        Format, typer.Option("--format", help='slack: {"text": …}; json: Dockyard\'s signed body.')
    ] = Format.JSON,
    events: Annotated[
        list[Event] | None, typer.Option("--event", help="live or failed; repeat it; default: both.")
    ] = None,
) -> None:
    """Post the app's deploy outcomes to URL (kept encrypted, shown masked)."""
    body = {
        "url": url,
        "format": format.value,
        "events": [event.value for event in events] if events else None,
    }
    target = Client().call("POST", f"/apps/{app}/notifications", json=body)
    typer.echo(f"added notification {target['id']}: {target['url']} ({', '.join(target['events'])})")
    if target["signing_secret"]:
        typer.echo(f"signing secret: {target['signing_secret']}  (shown only now)")
        typer.echo("bodies carry X-Dockyard-Signature-256: sha256=HMAC-SHA256(secret, body)", err=True)


@notifications.command("remove")
def remove(app: str, target_id: Annotated[int, typer.Argument(metavar="ID", min=1)]) -> None:
    """Stop posting to a target."""
    Client().call("DELETE", f"/apps/{app}/notifications/{target_id}")
    typer.echo(f"removed notification {target_id}")


@notifications.command("test")
def test(app: str, target_id: Annotated[int, typer.Argument(metavar="ID", min=1)]) -> None:
    """Send a test message now; exit 1 when the target does not answer 2xx."""
    outcome = Client().call("POST", f"/apps/{app}/notifications/{target_id}/test")
    if not outcome["ok"]:
        raise fail(f"notification {target_id} did not get through: {outcome['result']}")
    typer.echo(f"notification {target_id}: {outcome['result']}")
