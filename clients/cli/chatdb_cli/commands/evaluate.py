"""``chatdb eval``: run a question set against the server, with whatever generator it serves, and report
execution accuracy (lenient and strict) by category and database, with latencies, as markdown and JSON.
What a team runs to decide whether a base model or an adapter is good enough."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from chatdb_cli.errors import CommandError
from chatdb_cli.evaluation import report as reports
from chatdb_cli.evaluation.questions import Case, QuestionSetError, load, source_id, spider_database
from chatdb_cli.evaluation.runner import Graded, Settings, grade_all
from chatdb_cli.invocation import Invocation, current
from chatdb_cli.options import MaxRowsOption
from chatdb_cli.render import dialect_name
from chatdb_client import AlreadyExists, NotFound


def evaluate(ctx: typer.Context,
             question_set: Annotated[Path, typer.Argument(
                 metavar="QUESTIONS", help="A Spider-format .json (db_id, question, query, sql) or a .csv with "
                                           "question, gold_sql, database (and an optional category) columns.",
                 show_default=False)],
             output_dir: Annotated[Path, typer.Option(
                 "--output-dir", "-o", file_okay=False, help="Where report.json and report.md are written.")]
             = Path("chatdb-eval"),
             databases_dir: Annotated[Path | None, typer.Option(
                 "--databases-dir", file_okay=False,
                 help="The SQLite databases, <id>/<id>.sqlite (default: 'database' beside a Spider file).",
                 show_default=False)] = None,
             register: Annotated[bool, typer.Option(
                 "--register", help="Create and train a source per database of the set from --databases-dir "
                                    "(named by its id, '_' as '-'); sources that exist are used as they are.")]
             = False,
             database: Annotated[list[str] | None, typer.Option(
                 "--database", "-d", help="Only this database of the set (repeatable).", show_default=False)]
             = None,
             limit: Annotated[int, typer.Option("--limit", "-n", min=0, help="Only the first N questions; 0 all.")]
             = 0,
             model: Annotated[str, typer.Option(
                 "--model", help="Ask with this model or adapter (default: the server's choice).")] = "",
             max_rows: MaxRowsOption = 0,
             ) -> None:
    """Evaluate the server's answers on a question set: execution accuracy, by category, with latencies."""
    run = current(ctx)
    try:
        cases = load(question_set, set(database or ()), limit)
    except QuestionSetError as error:
        raise CommandError(str(error)) from None
    if not cases:
        raise CommandError(f"{question_set}: no questions to ask (check --database)")
    if register:
        missing = _register(run, cases, databases_dir or question_set.parent / "database")
        cases = [case for case in cases if case.database not in missing]
        if not cases:
            raise CommandError("no database of the set has a SQLite file to register")
    dialects = _dialects(run, cases)
    graded = _grade(run, cases, dialects, Settings(max_rows, model))
    report = reports.build(question_set.name, run.connection.address, graded)
    written = report.write(output_dir)
    run.console.print(_table(report))
    run.console.print("wrote " + ", ".join(str(path) for path in written))


def _register(run: Invocation, cases: list[Case], databases_dir: Path) -> set[str]:
    """Create a source per database of the set (from its SQLite file) and train it; the databases that have
    no file (their questions are left out, as Spider's own evaluation leaves out its missing databases)."""
    missing = set()
    for name in sorted({case.database for case in cases}):
        path = spider_database(databases_dir, name)
        if path is None:
            count = sum(case.database == name for case in cases)
            run.notes.print(f"no SQLite file for database {name} in {databases_dir}: its {count} questions left out")
            missing.add(name)
            continue
        source = source_id(name)
        try:
            run.client.create_data_source(f"sqlite:///{path.resolve()}", display_name=name, data_source_id=source)
        except AlreadyExists:
            run.notes.print(f"source {source} exists; using it as it is")
            continue
        run.notes.print(f"training {source}")
        run.client.train(source)
    return missing


def _dialects(run: Invocation, cases: list[Case]) -> dict[str, str]:
    """Each source's dialect; a source missing fails the command before any question is asked."""
    dialects = {}
    for source in sorted({source_id(case.database) for case in cases}):
        try:
            dialects[source] = dialect_name(run.client.get_data_source(source).dialect)
        except NotFound:
            raise CommandError(f"no data source {source}: register and train it first (or pass --register)") from None
    return dialects


def _grade(run: Invocation, cases: list[Case], dialects: dict[str, str], settings: Settings) -> list[Graded]:
    progress = Progress(TextColumn("asking"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[right]}"),
                        TimeElapsedColumn(), console=run.notes, transient=True)
    task = progress.add_task("eval", total=len(cases), right="")
    right = 0

    def advance(one: Graded) -> None:
        nonlocal right
        right += one.lenient
        progress.update(task, advance=1, right=f"{right} right")

    with progress:
        return grade_all(run.client, cases, dialects, settings, advance)


def _table(report: reports.Report) -> Table:
    table = Table(title=f"{report.question_set}: execution accuracy")
    for heading in ("", "questions", "lenient", "strict", "no answer", "errors", "p50 ms", "p95 ms"):
        table.add_column(heading, justify="left" if not heading else "right")
    groups = [("all", report.overall), *((f"category {k}", v) for k, v in report.by_category.items()),
              *((f"database {k}", v) for k, v in report.by_database.items())]
    for label, summary in groups:
        table.add_row(label, str(summary.questions), f"{summary.lenient_accuracy:.1%}",
                      f"{summary.strict_accuracy:.1%}", str(summary.no_answer),
                      str(summary.ask_errors + summary.gold_errors), reports.milliseconds(summary.latency_p50_ms),
                      reports.milliseconds(summary.latency_p95_ms))
    return table
