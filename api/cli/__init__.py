"""The `dockyard` command: run the platform on its host (`server`, `migrate`, `token`) and drive a
remote one through its REST API (`login`, `apps`, `deploy`, `env`, `scale`, `logs`, …).

Exit codes: 0 done, 1 the API or the user refused (its `detail` on stderr), 2 bad usage, 3 the server
cannot be reached.
"""

from __future__ import annotations

import typer

from api.cli import deployments, hooks, operations, server
from api.cli.apps import apps
from api.cli.domains import domains
from api.cli.env import env
from api.cli.login import login
from api.cli.notifications import notifications
from api.cli.tokens import tokens

app = typer.Typer(help="Dockyard: run Python apps as persistent processes.", no_args_is_help=True)

app.command(rich_help_panel="Platform")(server.server)
app.command(rich_help_panel="Platform")(server.migrate)
app.command(rich_help_panel="Platform")(server.api)
app.command(rich_help_panel="Platform")(server.worker)
app.command(rich_help_panel="Platform")(server.beat)
app.add_typer(server.token_app, name="token", rich_help_panel="Platform")

app.command()(login)
app.add_typer(apps, name="apps")
app.command()(deployments.deploy)
app.command()(deployments.deployments)
app.command()(deployments.rollback)
app.add_typer(env, name="env")
app.add_typer(domains, name="domains")
app.command()(operations.scale)
app.command()(operations.restart)
app.command()(operations.stop)
app.command()(operations.start)
app.command()(operations.run)
app.command()(operations.logs)
app.command()(hooks.hooks)
app.add_typer(notifications, name="notifications")
app.add_typer(tokens, name="tokens")
