"""Comparing result rows from different databases and drivers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def normalised(rows: list[tuple[Any, ...]]) -> list[str]:
    """Rows as comparable text, order-free: numbers as rounded floats, booleans as 0/1, text as is."""
    def cell(value: Any) -> Any:
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int | float | Decimal):
            return round(float(value), 4)
        return value
    return sorted(repr(tuple(cell(v) for v in row)) for row in rows)
