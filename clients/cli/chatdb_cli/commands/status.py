"""``chatdb status``: the degradation level and each dependency's health."""

from __future__ import annotations

import typer

from chatdb_cli.invocation import current
from chatdb_cli.render import status_view


def status(ctx: typer.Context) -> None:
    """The level the server answers at (0 full ... 4 critical) and each dependency with its breaker."""
    run = current(ctx)
    run.console.print(status_view(run.client.get_system_status()))
