"""The chart a result's shape suggests: a date or time and a measure are a line, a category and a measure
are bars (a pie when a few categories share a COUNT or SUM, parts of a whole), anything else — one value,
no measure, no category, many columns or too many points — a table.

The console draws the suggestion as it comes; SDKs and agents read it to choose a view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from chatdb_server.query.domain import Row
from chatdb_server.query.sql_shape import PARTS_OF_A_WHOLE, SqlShape
from chatdb_server.sql.values import ResultColumn

NUMERIC_TYPES = frozenset({"INTEGER", "DOUBLE", "DECIMAL"})
TIME_TYPES = frozenset({"DATE", "TIMESTAMP"})
CATEGORY_TYPES = frozenset({"STRING", "BOOL"})
MAX_POINTS = 100
"""More rows than this are a table: a chart of them would be unreadable."""
MAX_COLUMNS = 4
"""More columns than this are a table."""
MAX_PIE_SLICES = 6


class ChartType(StrEnum):
    """A kind of chart, as the contract's ``ChartType`` names it (without prefix)."""

    TABLE = "TABLE"
    BAR = "BAR"
    LINE = "LINE"
    PIE = "PIE"


@dataclass(frozen=True)
class ChartHint:
    """A chart suggestion: its type and the result columns it draws."""

    type: ChartType
    x_column: str = ""
    y_columns: tuple[str, ...] = ()
    series_column: str = ""


TABLE = ChartHint(ChartType.TABLE)


def chart_hint(columns: Sequence[ResultColumn], rows: Sequence[Row], shape: SqlShape) -> ChartHint:
    """The chart for a result of ``columns`` and ``rows`` read by SQL of ``shape``."""
    if not 2 <= len(rows) <= MAX_POINTS or len(columns) > MAX_COLUMNS:
        return TABLE
    measures = [i for i, c in enumerate(columns) if c.value_type in NUMERIC_TYPES and not _is_key(c.name, shape, i)]
    times = [i for i, c in enumerate(columns) if c.value_type in TIME_TYPES]
    categories = [i for i, c in enumerate(columns)
                  if c.value_type in CATEGORY_TYPES or (c.value_type in NUMERIC_TYPES and i not in measures)]
    if not measures:
        return TABLE
    names = tuple(columns[i].name for i in measures)
    if times:
        series = categories[0] if categories and len(measures) == 1 else None
        return ChartHint(ChartType.LINE, columns[times[0]].name, names,
                         columns[series].name if series is not None else "")
    if not categories:
        return TABLE
    x = categories[0]
    if len(categories) > 1 and len(measures) == 1:
        return ChartHint(ChartType.BAR, columns[x].name, names, columns[categories[1]].name)
    if len(categories) > 1:
        return TABLE
    if len(measures) == 1 and _parts_of_a_whole(rows, x, measures[0], shape):
        return ChartHint(ChartType.PIE, columns[x].name, names)
    return ChartHint(ChartType.BAR, columns[x].name, names)


def _is_key(name: str, shape: SqlShape, index: int) -> bool:
    """Whether a numeric column labels rows rather than measures them: an id, or a year grouped by."""
    lowered = name.lower()
    return not shape.aggregate_of(index) and (lowered == "id" or lowered.endswith("_id") or lowered == "year")


def _parts_of_a_whole(rows: Sequence[Row], label: int, measure: int, shape: SqlShape) -> bool:
    """A few distinct categories sharing a non-negative COUNT or SUM (a pie's slices)."""
    if len(rows) > MAX_PIE_SLICES or shape.aggregate_of(measure) not in PARTS_OF_A_WHOLE:
        return False
    labels = [row[label] for row in rows]
    values: list[Any] = [row[measure] for row in rows]
    return len(set(labels)) == len(labels) and all(v is not None and v >= 0 for v in values)
