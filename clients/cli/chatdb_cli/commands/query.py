"""``chatdb ask``, ``sql``, ``history`` and ``feedback``: questions, SQL of your own, what was asked,
and whether the answers were right."""

from __future__ import annotations

from itertools import islice
from typing import Annotated

import typer

from chatdb_cli.errors import CommandError
from chatdb_cli.invocation import Invocation, current
from chatdb_cli.options import FormatOption, MaxRowsOption, OutputOption, SourceArgument
from chatdb_cli.output import Format, Printer
from chatdb_cli.render import answer_document, answer_header, queries_rows, result_footer, result_rows
from chatdb_client import QueryResult


def show_result(run: Invocation, result: QueryResult, printer: Printer) -> None:
    """An answer or ExecuteSql's rows: for people the SQL, explanation, rows and footer; else the rows
    in the chosen format (JSON with the SQL and the level around them)."""
    if printer.for_people:
        run.console.print(answer_header(result))
    printer.rows(result_rows(result), answer_document(result))
    if printer.for_people:
        run.console.print(result_footer(result))


def ask(ctx: typer.Context, name: SourceArgument,
        question: Annotated[str, typer.Argument(help="The question, in plain language.")],
        max_rows: MaxRowsOption = 0, fmt: FormatOption = Format.TABLE, output: OutputOption = None) -> None:
    """Ask a question: the SQL it became, the explanation, the rows, and who answered at which level."""
    run = current(ctx)
    printer = Printer(fmt, output, run.console, run.notes)
    show_result(run, run.client.ask(name, question, max_rows=max_rows), printer)


def sql(ctx: typer.Context, name: SourceArgument,
        statement: Annotated[str, typer.Argument(metavar="SQL", help="One read-only SELECT.")],
        max_rows: MaxRowsOption = 0, fmt: FormatOption = Format.TABLE, output: OutputOption = None) -> None:
    """Run SQL of your own, read-only, through the server's guard and your policies."""
    run = current(ctx)
    printer = Printer(fmt, output, run.console, run.notes)
    show_result(run, run.client.execute_sql(name, statement, max_rows=max_rows), printer)


def history(ctx: typer.Context, name: SourceArgument,
            limit: Annotated[int, typer.Option("--limit", "-n", min=0, help="At most this many; 0 for all.")] = 20,
            fmt: FormatOption = Format.TABLE, output: OutputOption = None) -> None:
    """The questions and SQL asked of a source, newest first."""
    run = current(ctx)
    recent = list(islice(run.client.iter_queries(name), limit or None))
    Printer(fmt, output, run.console, run.notes).rows(queries_rows(recent))


def feedback(ctx: typer.Context,
             query: Annotated[str, typer.Argument(help="The query, as an answer names it "
                                                       "(dataSources/ID/queries/ID).")],
             corrected_sql: Annotated[str, typer.Option("--sql", help="The SQL that would have been right.")] = "",
             good: Annotated[bool | None, typer.Option("--good/--bad", help="Whether the answer was right.",
                                                       show_default=False)] = None,
             comment: Annotated[str, typer.Option("--comment", "-m", help="A note for whoever reads it.")] = "",
             ) -> None:
    """Rate an answer; a good rating or a corrected SQL becomes a golden example."""
    if good is None and not corrected_sql:
        raise CommandError("say --good or --bad, or give the right SQL with --sql")
    if good and corrected_sql:
        raise CommandError("--good and --sql contradict each other: a corrected SQL means the answer was wrong")
    run = current(ctx)
    recorded = run.client.submit_feedback(query, correct=good, corrected_sql=corrected_sql, comment=comment)
    example = f", example {recorded.feedback.example}" if recorded.feedback.example else ""
    run.console.print(f"recorded feedback on {recorded.name}{example}")
