"""QueryService's domain vocabulary: who served an answer, ask stages, query states, ratings,
and result rows as Python values with their columns.

The enums' values are the contract's names without prefix, which is also the text the
metadata store keeps (``queries.state``, ``queries.served_by``, the feedback's rating).
Cells are plain Python values; :func:`cell_to_json` / :func:`cell_from_json` write them as
JSON with their type kept (the result cache's serialisation, and the rows' identity when
candidates vote).
"""

from __future__ import annotations

import base64
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from chatdb_server.sql.values import ResultColumn


class ServedBy(StrEnum):
    """What produced an answer's rows or SQL."""

    MODEL = "MODEL"
    TEMPLATE = "TEMPLATE"
    CACHE = "CACHE"
    CALLER_SQL = "CALLER_SQL"


class StageKind(StrEnum):
    """A completed step of an ask, as StreamAsk reports it."""

    RETRIEVED = "RETRIEVED"
    GENERATED = "GENERATED"
    EXECUTED = "EXECUTED"


class QueryState(StrEnum):
    """How a recorded ask or execution ended."""

    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class Rating(StrEnum):
    """A caller's judgement of a recorded query."""

    CORRECT = "CORRECT"
    INCORRECT = "INCORRECT"


Row = tuple[Any, ...]


@dataclass
class Rows:
    """A result: its typed columns and its rows of Python values, in column order."""

    columns: list[ResultColumn]
    rows: list[Row]
    truncated: bool


def plain_cell(value: Any) -> Any:
    """A driver's value as one of the cell types (None, bool, int, float, Decimal, str, bytes, datetime, date,
    time, timedelta, or a JSON document's dict / list); anything else (a UUID, an address) becomes its text,
    which is how it travels."""
    if value is None or isinstance(value, bool | int | float | Decimal | str | bytes | date | time | timedelta):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, dict | list):
        return value
    return str(value)


def plain_rows(rows: list[tuple[Any, ...]]) -> list[Row]:
    """Every cell through :func:`plain_cell`."""
    return [tuple(plain_cell(cell) for cell in row) for row in rows]


# ---- typed JSON cells -------------------------------------------------------------------------------
# A cell is JSON null, true/false, an integer, a string, a finite float, or a one-key object whose key
# names the type: {"dec": "12.50"}, {"ts": ISO}, {"date": ISO}, {"time": ISO}, {"td": [days, seconds,
# microseconds]}, {"b64": ...}, {"json": document}, {"float": "nan" | "inf" | "-inf"}.


def cell_to_json(value: Any) -> Any:
    """A cell as a JSON-serialisable value that :func:`cell_from_json` turns back into an equal cell."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, Decimal):
        return {"dec": str(value)}
    if isinstance(value, datetime):
        return {"ts": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, time):
        return {"time": value.isoformat()}
    if isinstance(value, timedelta):
        return {"td": [value.days, value.seconds, value.microseconds]}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"b64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, dict | list):
        return {"json": value}
    return str(value)


def cell_from_json(encoded: Any) -> Any:
    """The cell :func:`cell_to_json` wrote; ValueError when ``encoded`` is not one."""
    if encoded is None or isinstance(encoded, bool | int | float | str):
        return encoded
    if not isinstance(encoded, dict) or len(encoded) != 1:
        raise ValueError(f"not an encoded cell: {encoded!r:.80}")
    ((kind, body),) = encoded.items()
    decoders = {
        "float": lambda: float(body), "dec": lambda: Decimal(body), "ts": lambda: datetime.fromisoformat(body),
        "date": lambda: date.fromisoformat(body), "time": lambda: time.fromisoformat(body),
        "td": lambda: timedelta(days=body[0], seconds=body[1], microseconds=body[2]),
        "b64": lambda: base64.b64decode(body, validate=True), "json": lambda: body,
    }
    if kind not in decoders:
        raise ValueError(f"unknown cell type {kind!r}")
    try:
        return decoders[kind]()
    except (ArithmeticError, TypeError, IndexError) as exc:
        raise ValueError(f"bad {kind} cell: {exc}") from None
