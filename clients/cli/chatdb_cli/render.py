"""What the commands show people: an answer (SQL, explanation, rows, level and who served it), a
schema as a tree, the drift a refresh found, the system status. Pure functions from SDK results to
rich renderables and :class:`~chatdb_cli.output.Tabular` rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from google.protobuf import timestamp_pb2
from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from chatdb.common.v1 import dialect_pb2, join_pb2
from chatdb.query.v1 import query_pb2
from chatdb.schema.v1 import schema_pb2, schema_service_pb2
from chatdb.training.v1 import training_pb2
from chatdb_cli.output import Tabular
from chatdb_client import AskResult, DegradationLevel, QueryResult, SystemStatus


def sql_syntax(sql: str) -> Syntax:
    """SQL, highlighted."""
    return Syntax(sql.strip(), "sql", word_wrap=True, background_color="default")


def result_rows(result: QueryResult) -> Tabular:
    """The rows of an answer or of ExecuteSql."""
    return Tabular([c.name for c in result.columns], result.rows, [c.type for c in result.columns])


def level_text(level: DegradationLevel | None) -> str:
    """``0 FULL`` ... ``4 CRITICAL``, ``unknown`` when unspecified."""
    return "unknown" if level is None else f"{level.value} {level.name}"


def result_footer(result: QueryResult) -> Text:
    """The line under an answer's rows: count, level, who served it, the query to give feedback on."""
    count = f"{result.row_count} row{'s' if result.row_count != 1 else ''}"
    if result.truncated:
        count += " (truncated)"
    served = result.served_by
    if isinstance(result, AskResult) and result.model:
        served += f" ({result.model})"
    parts = [count, f"level {level_text(result.degradation_level)}", f"served by {served}"]
    if result.stale:
        parts.append("stale: from the cache, the database is unreachable")
    line = Text(" · ".join(parts), style="dim")
    if result.query:
        line.append(f"\nquery {result.query}", style="dim")
    return line


def answer_header(result: QueryResult) -> RenderableType:
    """What comes before an answer's rows: its SQL and, for a question, the explanation and warnings."""
    parts: list[RenderableType] = [sql_syntax(result.sql)]
    if isinstance(result, AskResult) and result.explanation:
        parts.append(Text(result.explanation, style="italic"))
    if isinstance(result, AskResult) and result.answer_text:
        parts.append(Text(result.answer_text, style="bold"))
    if isinstance(result, AskResult) and result.suggested_question:
        parts.append(Text(f"try asking: {result.suggested_question}", style="yellow"))
    parts.extend(Text(f"warning: {warning}", style="yellow") for warning in result.warnings)
    return Group(*parts)


def answer_document(result: QueryResult) -> dict[str, Any]:
    """An answer as a JSON document, less its rows (added by the printer)."""
    document: dict[str, Any] = {
        "query": result.query, "sql": result.sql,
        "columns": [{"name": c.name, "type": c.type, "database_type": c.database_type} for c in result.columns],
        "row_count": result.row_count, "truncated": result.truncated,
        "degradation_level": None if result.degradation_level is None else result.degradation_level.name,
        "served_by": result.served_by, "stale": result.stale, "warnings": result.warnings,
    }
    if isinstance(result, AskResult):
        document.update(explanation=result.explanation, model=result.model, confidence=result.confidence,
                        tables_used=result.tables_used, answer_text=result.answer_text,
                        low_confidence=result.low_confidence, suggested_question=result.suggested_question)
    return document


def dialect_name(dialect: int) -> str:
    """``postgresql``, ``mysql``, ``sqlite``."""
    return dialect_pb2.Dialect.Name(dialect).removeprefix("DIALECT_").lower()


def source_id(name: str) -> str:
    """The id of ``dataSources/{id}``."""
    return name.removeprefix("dataSources/")


def timestamp_text(stamp: timestamp_pb2.Timestamp) -> str:
    """A UTC time to the second, empty when unset."""
    if not stamp.seconds and not stamp.nanos:
        return ""
    return stamp.ToDatetime(tzinfo=dt.UTC).isoformat(timespec="seconds")


def sources_rows(sources: Sequence[schema_pb2.DataSource]) -> Tabular:
    """The data sources, one row each."""
    return Tabular(["name", "dialect", "tables", "dsn", "discovered"],
                   [(source_id(s.name), dialect_name(s.dialect), s.table_count, s.redacted_dsn,
                     timestamp_text(s.discover_time)) for s in sources],
                   ["STRING", "STRING", "INTEGER", "STRING", "STRING"])


def _enum_word(name: str, prefix: str) -> str:
    return name.removeprefix(prefix).lower()


def schema_tree(source: schema_pb2.DataSource, tables: Sequence[schema_pb2.Table],
                edges: Sequence[join_pb2.JoinEdge]) -> Tree:
    """A source's tables (columns, keys) and its joins, as a tree."""
    root = Tree(Text.assemble((source_id(source.name), "bold"),
                              f" ({dialect_name(source.dialect)}, {len(tables)} tables) ",
                              (source.redacted_dsn, "dim")))
    for table in tables:
        kind = _enum_word(schema_pb2.TableKind.Name(table.kind), "TABLE_KIND_")
        state = _enum_word(schema_pb2.TrainingState.Name(table.training_state), "TRAINING_STATE_")
        label = Text.assemble((table.table, "bold cyan"), f"  {kind}, {state}")
        if table.row_estimate > 0:
            label.append(f", ~{table.row_estimate} rows")
        branch = root.add(label)
        for column in table.columns:
            line = Text.assemble(column.name, " ", (column.data_type, "green"))
            if column.primary_key:
                line.append("  PK", style="bold yellow")
            if not column.nullable:
                line.append("  not null", style="dim")
            branch.add(line)
        for key in table.foreign_keys:
            branch.add(Text(f"FK ({', '.join(key.columns)}) → {key.referred_table}"
                            f"({', '.join(key.referred_columns)})", style="magenta"))
    if edges:
        joins = root.add(Text("joins", style="bold"))
        for edge in edges:
            kind = _enum_word(join_pb2.JoinEdgeKind.Name(edge.kind), "JOIN_EDGE_KIND_")
            detail = kind if edge.kind == join_pb2.JOIN_EDGE_KIND_DECLARED else f"{kind} {edge.confidence:.2f}"
            joins.add(f"{edge.from_table}.{'+'.join(edge.from_columns)} → "
                      f"{edge.to_table}.{'+'.join(edge.to_columns)}  ({detail})")
    return root


def drift_tree(source: str, drift: schema_service_pb2.RefreshSchemaResponse) -> Tree:
    """What a refresh found: tables added, removed, changed (with each change), stale, unchanged."""
    root = Tree(Text.assemble(("refreshed ", ""), (source, "bold"),
                              f" at {timestamp_text(drift.discover_time)}" if drift.HasField("discover_time") else ""))
    for table in drift.added_tables:
        root.add(Text(f"+ {table}", style="green"))
    for table in drift.removed_tables:
        root.add(Text(f"- {table}", style="red"))
    for change in drift.changed_tables:
        branch = root.add(Text(f"~ {change.table}", style="yellow"))
        for line in change.changes:
            branch.add(line)
    if drift.stale_tables:
        root.add(Text(f"stale (train again): {', '.join(drift.stale_tables)}", style="yellow"))
    root.add(Text(f"{drift.unchanged_count} unchanged", style="dim"))
    return root


def status_view(status: SystemStatus) -> Group:
    """The degradation level and each dependency with its breaker."""
    level = status.degradation_level
    style = "green" if level is DegradationLevel.FULL else "yellow" if level is not None and level < 3 else "red"
    table = Table(header_style="bold")
    for name in ("dependency", "healthy", "breaker", "failures", "detail"):
        table.add_column(name)
    for dependency in status.dependencies:
        table.add_row(dependency.name, Text("yes", style="green") if dependency.healthy else Text("no", style="red"),
                      dependency.breaker_state, str(dependency.failure_count), dependency.detail)
    return Group(Text(f"level {level_text(level)}", style=f"bold {style}"), table)


def queries_rows(queries: Sequence[query_pb2.Query]) -> Tabular:
    """Recorded queries, one row each."""
    def feedback(query: query_pb2.Query) -> str:
        rating = query.feedback.rating
        return "" if not rating else _enum_word(query_pb2.FeedbackRating.Name(rating), "FEEDBACK_RATING_")

    return Tabular(
        ["query", "time", "question", "sql", "state", "rows", "served_by", "feedback"],
        [(q.name, timestamp_text(q.create_time), q.question, q.sql,
          _enum_word(query_pb2.QueryState.Name(q.state), "QUERY_STATE_"), q.row_count,
          _enum_word(query_pb2.ServedBy.Name(q.served_by), "SERVED_BY_"), feedback(q)) for q in queries],
        ["STRING", "STRING", "STRING", "STRING", "STRING", "INTEGER", "STRING", "STRING"])


def examples_rows(examples: Sequence[training_pb2.Example]) -> Tabular:
    """Golden examples, one row each."""
    return Tabular(["example", "question", "sql", "source"],
                   [(e.name, e.question, e.sql,
                     _enum_word(training_pb2.ExampleSource.Name(e.source), "EXAMPLE_SOURCE_")) for e in examples],
                   ["STRING"] * 4)


def job_line(job: training_pb2.TrainingJob) -> str:
    """``trainingJobs/x succeeded: 8/8 tables``."""
    state = _enum_word(training_pb2.TrainingJobState.Name(job.state), "TRAINING_JOB_STATE_")
    return f"{job.name} {state}: {job.trained_table_count}/{job.total_table_count} tables"


_STATE_WORDS = {
    training_pb2.TRAINING_JOB_STATE_QUEUED: "queued",
    training_pb2.TRAINING_JOB_STATE_CANCELLING: "cancelling",
    training_pb2.TRAINING_JOB_STATE_CANCELLED: "cancelled",
    training_pb2.TRAINING_JOB_STATE_FAILED: "failed",
}


def stage_word(job: training_pb2.TrainingJob) -> str:
    """The job's stage (or, before it runs, its state) in a word."""
    if job.state in _STATE_WORDS:
        return _STATE_WORDS[job.state]
    if job.stage == training_pb2.TRAINING_STAGE_UNSPECIFIED:
        return "starting"
    return _enum_word(training_pb2.TrainingStage.Name(job.stage), "TRAINING_STAGE_")
