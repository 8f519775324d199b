"""Typed formatting of result cells: numbers right-aligned with grouping, dates in ISO, NULL marked."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any, NamedTuple

MAX_TEXT = 500
"""Characters of a text cell shown; the rest is cut with an ellipsis."""


class Cell(NamedTuple):
    """A formatted cell: its text and its CSS class (``number``, ``null`` or ``""``)."""

    text: str
    kind: str


def format_cell(value: Any) -> Cell:
    """The text and class of one value as the SDK typed it."""
    if value is None:
        return Cell("NULL", "null")
    if isinstance(value, bool):
        return Cell("true" if value else "false", "")
    if isinstance(value, int):
        return Cell(f"{value:,}", "number")
    if isinstance(value, float):
        return Cell(f"{value:,.4g}" if abs(value) < 1e15 else f"{value:.4e}", "number")
    if isinstance(value, Decimal):
        return Cell(f"{value:,f}", "number")
    if isinstance(value, dt.datetime):
        return Cell(value.isoformat(sep=" "), "")
    if isinstance(value, dt.date | dt.time):
        return Cell(value.isoformat(), "")
    if isinstance(value, bytes):
        return Cell(f"<{len(value):,} bytes>", "")
    if isinstance(value, dict | list):
        return Cell(_cut(json.dumps(value, default=str)), "")
    return Cell(_cut(str(value)), "")


def _cut(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"
