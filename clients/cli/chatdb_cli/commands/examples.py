"""``chatdb examples``: golden question/SQL pairs that steer a source's answers."""

from __future__ import annotations

from typing import Annotated

import typer

from chatdb_cli.invocation import current
from chatdb_cli.options import FormatOption, OutputOption, SourceArgument
from chatdb_cli.output import Format, Printer
from chatdb_cli.render import examples_rows

examples = typer.Typer(help="Golden examples: questions with the SQL that answers them.", no_args_is_help=True)


@examples.command("add")
def add(ctx: typer.Context, name: SourceArgument,
        question: Annotated[str, typer.Argument(help="The question.")],
        statement: Annotated[str, typer.Argument(metavar="SQL", help="The SQL that answers it.")]) -> None:
    """Add a golden example to a source."""
    run = current(ctx)
    run.console.print(f"added {run.client.create_example(name, question, statement).name}")


@examples.command("list")
def list_(ctx: typer.Context, name: SourceArgument, fmt: FormatOption = Format.TABLE,
          output: OutputOption = None) -> None:
    """A source's golden examples."""
    run = current(ctx)
    Printer(fmt, output, run.console, run.notes).rows(examples_rows(run.client.list_examples(name)))


@examples.command("rm")
def remove(ctx: typer.Context,
           example: Annotated[str, typer.Argument(help="dataSources/ID/examples/ID, as listed.")]) -> None:
    """Delete a golden example."""
    run = current(ctx)
    run.client.delete_example(example)
    run.console.print(f"deleted {example}")
