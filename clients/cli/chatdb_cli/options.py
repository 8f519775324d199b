"""Options several commands share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from chatdb_cli.output import Format

FormatOption = Annotated[Format, typer.Option("--format", "-f", help="How to print the rows.",
                                              case_sensitive=False)]
OutputOption = Annotated[Path | None, typer.Option("--output", "-o", help="Write the rows to FILE instead of stdout.",
                                                   dir_okay=False, writable=True, show_default=False)]
SourceArgument = Annotated[str, typer.Argument(metavar="NAME", help="The data source: its id or dataSources/ID.",
                                               show_default=False)]
MaxRowsOption = Annotated[int, typer.Option("--max-rows", min=0, help="Row cap; 0 takes the server's default.")]
