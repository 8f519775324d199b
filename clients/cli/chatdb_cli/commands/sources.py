"""``chatdb sources``: add, list, show, refresh and remove data sources."""

from __future__ import annotations

from typing import Annotated

import typer

from chatdb_cli.errors import CommandError, ExitCode
from chatdb_cli.invocation import current
from chatdb_cli.options import FormatOption, OutputOption, SourceArgument
from chatdb_cli.output import Format, Printer
from chatdb_cli.prompts import confirm
from chatdb_cli.render import dialect_name, drift_tree, schema_tree, source_id, sources_rows

sources = typer.Typer(help="Data sources: the databases ChatDB answers questions about.", no_args_is_help=True)


@sources.command("add")
def add(ctx: typer.Context,
        name: Annotated[str, typer.Argument(help="The id to give it (lowercase letters, digits, '-').")],
        dsn: Annotated[str, typer.Argument(help="postgresql://user:pw@host:5432/db, mysql://..., sqlite:///path")],
        schema: Annotated[list[str] | None, typer.Option("--schema", "-s",
                                                         help="A PostgreSQL schema to include (repeatable).")] = None,
        ) -> None:
    """Register a database: ChatDB tests the connection and discovers its schema first."""
    run = current(ctx)
    created = run.client.create_data_source(dsn, display_name=name, data_source_id=name, schemas=schema or ())
    run.console.print(f"added [bold]{source_id(created.name)}[/] ({dialect_name(created.dialect)}, "
                      f"{created.table_count} tables) {created.redacted_dsn}")


@sources.command("list")
def list_(ctx: typer.Context, fmt: FormatOption = Format.TABLE, output: OutputOption = None) -> None:
    """The data sources of your tenant."""
    run = current(ctx)
    Printer(fmt, output, run.console, run.notes).rows(sources_rows(run.client.list_data_sources()))


@sources.command("show")
def show(ctx: typer.Context, name: SourceArgument) -> None:
    """A source's tables, columns, keys and joins, as a tree."""
    run = current(ctx)
    source = run.client.get_data_source(name)
    tables = run.client.list_tables(name, full=True)
    graph = run.client.get_schema_graph(name)
    run.console.print(schema_tree(source, tables, list(graph.edges)))


@sources.command("refresh")
def refresh(ctx: typer.Context, name: SourceArgument) -> None:
    """Discover the schema again and print what changed since the last discovery."""
    run = current(ctx)
    drift = run.client.refresh_schema(name)
    run.console.print(drift_tree(source_id(name), drift))


@sources.command("rm")
def remove(ctx: typer.Context, name: SourceArgument,
           yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False) -> None:
    """Delete a data source and everything stored for it (asks first unless --yes)."""
    run = current(ctx)
    if not yes and not confirm(f"Delete data source {source_id(name)} and everything stored for it?"):
        raise CommandError(f"kept {source_id(name)}", ExitCode.INTERRUPTED)
    run.client.delete_data_source(name)
    run.console.print(f"deleted {source_id(name)}")
