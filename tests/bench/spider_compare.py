"""Execution-accuracy comparison for the Spider benches: the comparison itself is ``chatdb eval``'s
(:mod:`chatdb_cli.evaluation.compare`, lenient and strict as sql-eval does it); here are what the benches
add around it: gold and predicted SQL run straight on a Spider SQLite file, and the names a query mentions.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import sqlglot
from sqlglot import exp

from chatdb_cli.evaluation.compare import Result, Rows, Verdict, compare, is_ordered, normalise

_norm = normalise
"""The comparison's value normalisation, under the name the benches import."""

__all__ = ["Result", "Rows", "Verdict", "compare", "is_ordered", "run_sql", "tables_and_columns"]


def run_sql(db_path: Path, sql: str, row_cap: int = 100_000, seconds: float = 20.0) -> Result:
    """Rows of a query on a read-only connection (values normalised for comparison).

    A query running past ``seconds`` is interrupted (sqlite3.OperationalError), so a runaway
    cross join in a prediction counts as an execution error instead of stalling the benchmark.
    """
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    conn.text_factory = lambda raw: raw.decode("utf-8", errors="replace")
    deadline = time.monotonic() + seconds
    conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 100_000)
    try:
        cursor = conn.execute(sql)
        return Result.of(cursor.fetchmany(row_cap), len(cursor.description or ()))
    finally:
        conn.close()


def tables_and_columns(sql: str) -> tuple[set[str], set[str]]:
    """Lower-cased table names and column names a query mentions."""
    tree = sqlglot.parse_one(sql, read="sqlite")
    tables = {t.name.lower() for t in tree.find_all(exp.Table)}
    columns = {c.name.lower() for c in tree.find_all(exp.Column)}
    return tables, columns
