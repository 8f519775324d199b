"""Execution-accuracy comparison of a predicted result with the gold result, as sql-eval does it.

Rows are compared as a multiset unless the gold SQL orders them. The lenient (sql-eval) rule
accepts a prediction whose result holds every gold column, matched by values (extra columns
allowed); the strict rule also wants the same number of columns.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlglot

Rows = list[tuple[Any, ...]]


@dataclass(frozen=True)
class Result:
    """Rows of a query and how many columns it returned."""

    rows: Rows
    width: int

    @classmethod
    def of(cls, rows: Iterable[Sequence[Any]], width: int) -> Result:
        """A result whose values are normalised for comparison."""
        return cls([tuple(normalise(value) for value in row) for row in rows], width)


@dataclass(frozen=True)
class Verdict:
    """How a prediction compares with the gold result."""

    lenient: bool
    strict: bool


def normalise(value: Any) -> Any:
    """A value as results are compared: booleans as integers, whole numbers as integers, other numbers
    (decimals too) to four decimals, bytes as text, dates and times as text the way SQLite stores them
    (drivers differ on these types)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        return round(value, 4)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, dt.date | dt.time):
        return str(value)
    return value


def _sort_key(value: Any) -> tuple[int, str]:
    return (0, "") if value is None else (1, repr(value))


def is_ordered(gold_sql: str, dialect: str | None = "sqlite") -> bool:
    """Whether the gold query's outermost SELECT has an ORDER BY."""
    try:
        tree = sqlglot.parse_one(gold_sql, read=dialect)
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
