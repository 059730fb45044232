"""`dockyard scale`, `restart`, `stop`, `start`, `run` and `logs`: operate a running app."""

from __future__ import annotations

import shlex
from typing import Annotated

import typer

from api.cli.client import Client
from api.cli.deployments import accepted
from api.cli.table import echo_table


def replicas(assignments: list[str]) -> dict[str, int]:
    """`web=2 worker=3` as a mapping; a usage error otherwise."""
    counts = {}
    for assignment in assignments:
        process, equals, count = assignment.partition("=")
        if not equals or not process or not count.isdigit():
            raise typer.BadParameter(f"{assignment!r} is not PROCESS=COUNT", param_hint="PROCESS=COUNT")
        counts[process] = int(count)
    return counts


def scale(app: str, assignments: Annotated[list[str], typer.Argument(metavar="PROCESS=COUNT...")]) -> None:
    """Set replicas per process (`web=2 worker=3`); containers start or stop within seconds."""
    services = Client().call("POST", f"/apps/{app}/scale", json=replicas(assignments), timeout=60)
    echo_table(
        ("PROCESS", "REPLICAS", "STATUS"),
        [(service["name"], str(service["replicas"]), service["status"]) for service in services],
    )


def restart(
    app: str,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Stream the rollout's log.")] = False,
) -> None:
    """Restart every process without downtime."""
    client = Client()
    accepted(client, app, client.call("POST", f"/apps/{app}/restart"), follow=follow, what="restarting")


def stop(app: str) -> None:
    """Stop every process; releases, settings and volumes stay."""
    Client().call("POST", f"/apps/{app}/stop", timeout=120)
    typer.echo(f"stopped {app}")


def start(app: str) -> None:
    """Run a stopped app's live release again."""
    Client().call("POST", f"/apps/{app}/start", timeout=120)
    typer.echo(f"started {app}")


def run(
    app: str,
    command: Annotated[list[str], typer.Argument(metavar="COMMAND...")],
    timeout: Annotated[int, typer.Option(min=1, max=3600, help="Seconds before it is killed.")] = 600,
) -> None:
    """Run a command once in the live release; prints its output and exits with its exit code.

    One argument is a shell line (`-- 'manage.py migrate && echo ok'`); several are quoted as they are.
    """
    line = command[0] if len(command) == 1 else shlex.join(command)
    result = Client().call(
        "POST", f"/apps/{app}/run", json={"command": line, "timeout": timeout}, timeout=timeout + 60
    )
    typer.echo(result["output"], nl=False)
    raise typer.Exit(int(result["exit_code"]))


def logs(
    app: str,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep streaming new lines.")] = False,
    process: Annotated[str | None, typer.Option(help="One process type (web, worker…).")] = None,
    tail: Annotated[int, typer.Option(min=0, max=10_000, help="Lines to show first.")] = 100,
) -> None:
    """What the app's containers write, `<time> <process>.<replica> | <line>`."""
    client = Client()
    params: dict[str, str | int] = {"tail": tail}
    if process:
        params["process"] = process
    if not follow:
        typer.echo(client.call("GET", f"/apps/{app}/logs", params=params, timeout=60), nl=False)
        return

    def resume(_received: int, last: str | None) -> dict[str, str | int]:
        # Each line starts with its time: after a dropped connection, go on after the last one shown.
        return {"tail": tail} if last is None else {"since": last.split(" ", 1)[0]}

    del params["tail"]
    for line in client.resumed_lines(f"/apps/{app}/logs", params={**params, "follow": 1}, resume=resume):
        typer.echo(line)
