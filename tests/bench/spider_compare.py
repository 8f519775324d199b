"""Execution-accuracy comparison of a predicted result with the gold result, as sql-eval does it.

Rows are compared as a multiset unless the gold SQL orders them. The lenient (sql-eval) rule
accepts a prediction whose result holds every gold column, matched by values (extra columns
allowed); the strict rule also wants the same number of columns.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

Rows = list[tuple[Any, ...]]


@dataclass(frozen=True)
class Result:
    """Rows of a query and how many columns it returned."""

    rows: Rows
    width: int


@dataclass(frozen=True)
class Verdict:
    """How a prediction compares with the gold result."""

    lenient: bool
    strict: bool


def _norm(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        return round(value, 4)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def _sort_key(value: Any) -> tuple[int, str]:
    return (0, "") if value is None else (1, repr(value))


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
        rows = cursor.fetchmany(row_cap)
        return Result([tuple(_norm(v) for v in row) for row in rows], len(cursor.description or ()))
    finally:
        conn.close()


def is_ordered(gold_sql: str) -> bool:
    """Whether the gold query's outermost SELECT has an ORDER BY."""
    try:
        tree = sqlglot.parse_one(gold_sql, read="sqlite")
    except sqlglot.errors.ParseError:
        return "order by" in gold_sql.lower()
    return tree.args.get("order") is not None


def _column(rows: Rows, index: int) -> list[Any]:
    return [row[index] for row in rows]


def _same_rows(gold: Rows, predicted: Rows, ordered: bool) -> bool:
    if ordered:
        return gold == predicted
    return Counter(gold) == Counter(predicted)


def compare(gold_result: Result, predicted_result: Result, ordered: bool) -> Verdict:
    """Lenient and strict verdicts for one question."""
    gold, predicted = gold_result.rows, predicted_result.rows
    gold_width, predicted_width = gold_result.width, predicted_result.width
    if len(gold) != len(predicted) or predicted_width < gold_width:
        return Verdict(False, False)
    if not gold:
        return Verdict(True, gold_width == predicted_width)
    if gold_width == predicted_width and _same_rows(gold, predicted, ordered):
        return Verdict(True, True)
    # sql-eval: match each gold column to the first unused predicted column with the same values.
    unused = list(range(predicted_width))
    mapping = []
    for g in range(gold_width):
        wanted = sorted(_column(gold, g), key=_sort_key)
        match = next((p for p in unused if sorted(_column(predicted, p), key=_sort_key) == wanted), None)
        if match is None:
            return Verdict(False, False)
        unused.remove(match)
        mapping.append(match)
    projected = [tuple(row[p] for p in mapping) for row in predicted]
    lenient = _same_rows(gold, projected, ordered)
    return Verdict(lenient, lenient and gold_width == predicted_width)


def tables_and_columns(sql: str) -> tuple[set[str], set[str]]:
    """Lower-cased table names and column names a query mentions."""
    tree = sqlglot.parse_one(sql, read="sqlite")
    tables = {t.name.lower() for t in tree.find_all(exp.Table)}
    columns = {c.name.lower() for c in tree.find_all(exp.Column)}
    return tables, columns
