"""Plain aligned columns, easy to read and to `awk`."""

from __future__ import annotations

from collections.abc import Sequence

import typer


def echo_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Columns aligned on the widest cell."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
