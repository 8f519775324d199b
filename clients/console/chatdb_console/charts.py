"""The chart a result's shape calls for, as a Chart.js spec the page draws.

A result with a time column and a measure is a line over time; a few categories sharing a
non-negative measure are a pie; more categories, or several measures, are bars; anything else
(one value, no measure, no labels, too many points) stays a table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from chatdb_client import Chart, Column

NUMERIC_TYPES = frozenset({"INTEGER", "DOUBLE", "DECIMAL"})
TIME_TYPES = frozenset({"DATE", "TIMESTAMP"})
LABEL_TYPES = frozenset({"STRING", "BOOL", *TIME_TYPES})
MAX_POINTS = 100
"""More points than this are a table: a chart of them would be unreadable."""
MAX_PIE_SLICES = 6
PALETTE = ("#2457d6", "#f5a524", "#137a3f", "#b42318", "#7a3fb4", "#0f8a99", "#8a5a14", "#5b6675")


@dataclass(frozen=True)
class Dataset:
    """One series of a chart."""

    label: str
    data: list[float | None]


@dataclass(frozen=True)
class ChartSpec:
    """A chart: ``type`` (``bar``, ``line`` or ``pie``), the x labels and the series."""

    type: str
    labels: list[str]
    datasets: list[Dataset]
    title: str = ""
    colours: Sequence[str] = field(default=PALETTE)

    def to_chartjs(self) -> dict[str, Any]:
        """The ``data`` and ``type`` of a Chart.js configuration."""
        sets = []
        for index, dataset in enumerate(self.datasets):
            colour: Any = list(self.colours[: len(self.labels)]) if self.type == "pie" else self.colours[
                index % len(self.colours)]
            sets.append({"label": dataset.label, "data": dataset.data, "backgroundColor": colour,
                         "borderColor": colour, "fill": False})
        return {"type": self.type, "labels": self.labels, "datasets": sets, "title": self.title}


def pick_chart(columns: Sequence[Column], rows: Sequence[Sequence[Any]]) -> ChartSpec | None:
    """The chart for a result, or None when a table says it best."""
    if len(rows) < 2 or len(rows) > MAX_POINTS:
        return None
    label_at = next((i for i, c in enumerate(columns) if c.type in LABEL_TYPES), None)
    measures = [i for i, c in enumerate(columns) if c.type in NUMERIC_TYPES and i != label_at]
    if label_at is None or not measures:
        return None
    label_type = columns[label_at].type
    if label_type in TIME_TYPES:
        ordered = sorted(rows, key=lambda row: _sort_key(row[label_at]))
        return ChartSpec("line", [_label(row[label_at]) for row in ordered], _datasets(columns, measures, ordered))
    labels = [_label(row[label_at]) for row in rows]
    datasets = _datasets(columns, measures, rows)
    if len(measures) == 1 and len(rows) <= MAX_PIE_SLICES and len(set(labels)) == len(labels) and all(
            value is not None and value >= 0 for value in datasets[0].data):
        return ChartSpec("pie", labels, datasets)
    return ChartSpec("bar", labels, datasets)


def chart_from_suggestion(suggestion: Chart, columns: Sequence[Column],
                          rows: Sequence[Sequence[Any]]) -> ChartSpec | None:
    """The chart the server suggested for an answer (None for TABLE, or when it names columns the result lacks);
    a series column splits the one measure into a dataset per value."""
    names = [c.name for c in columns]
    wanted = [suggestion.x_column, *suggestion.y_columns, *filter(None, [suggestion.series_column])]
    if suggestion.type not in ("BAR", "LINE", "PIE") or not suggestion.y_columns or any(
            name not in names for name in wanted):
        return None
    x = names.index(suggestion.x_column)
    if suggestion.type == "LINE":
        rows = sorted(rows, key=lambda row: _sort_key(row[x]))
    labels = list(dict.fromkeys(_label(row[x]) for row in rows))
    if suggestion.series_column:
        series, y = names.index(suggestion.series_column), names.index(suggestion.y_columns[0])
        values: dict[str, dict[str, float | None]] = {}
        for row in rows:
            values.setdefault(_label(row[series]), {})[_label(row[x])] = _number(row[y])
        datasets = [Dataset(name, [points.get(label) for label in labels]) for name, points in values.items()]
    else:
        datasets = _datasets(columns, [names.index(name) for name in suggestion.y_columns], rows)
        labels = [_label(row[x]) for row in rows]
    return ChartSpec(suggestion.type.lower(), labels, datasets)


def _datasets(columns: Sequence[Column], measures: Sequence[int], rows: Sequence[Sequence[Any]]) -> list[Dataset]:
    return [Dataset(columns[i].name, [_number(row[i]) for row in rows]) for i in measures]


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, Decimal | int | float):
        return float(value)
    return None


def _label(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes") if value.time() != dt.time() else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _sort_key(value: Any) -> tuple[int, str]:
    return (0, "") if value is None else (1, value.isoformat() if hasattr(value, "isoformat") else str(value))
