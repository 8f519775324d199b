"""QueryService's domain vocabulary: who served an answer, ask stages, query states, ratings,
and result rows as Python values with their columns, held within a reply's byte caps.

The enums' values are the contract's names without prefix, which is also the text the
metadata store keeps (``queries.state``, ``queries.served_by``, the feedback's rating).
Cells are plain Python values; :func:`cell_to_json` / :func:`cell_from_json` write them as
JSON with their type kept (the result cache's serialisation, and the rows' identity when
candidates vote).
"""

from __future__ import annotations

import base64
import json
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
    EXAMPLE = "EXAMPLE"


class StageKind(StrEnum):
    """A completed step of an ask, as StreamAsk reports it."""

    RETRIEVED = "RETRIEVED"
    GENERATED = "GENERATED"
    EXECUTED = "EXECUTED"


class QueryState(StrEnum):
    """How a recorded ask or execution ended."""

    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    LOW_CONFIDENCE = "LOW_CONFIDENCE"
    """SQL generated but not run: below the source's ``min_confidence``."""


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


@dataclass(frozen=True)
class ByteCaps:
    """How many bytes one value (``max_cell_bytes``) and the rows of one reply (``max_reply_bytes``) may take."""

    cell: int
    reply: int


ROW_OVERHEAD_BYTES = 8
"""What a row and each of its cells add on the wire beyond their values (tags, lengths): an estimate on
the generous side, so that a reply within ``reply`` stays within gRPC's message limit."""


def capped(rows: Rows, caps: ByteCaps) -> tuple[Rows, list[str]]:
    """``rows`` within ``caps``, and warnings that say what was cut and by which limit.

    A text value longer than ``caps.cell`` bytes (in UTF-8) is cut to it at a character boundary, a
    binary value to its first ``caps.cell`` bytes, and a JSON document that large travels as its text,
    cut: a caller sees the start of the value and a warning naming the column, rather than the whole
    reply refused for one cell. Rows are then kept while their estimated size stays within
    ``caps.reply``; the rest are left out and the result is ``truncated``."""
    warnings: list[str] = []
    cut_columns: list[str] = []
    kept: list[Row] = []
    total = 0
    for number, cells in enumerate(rows.rows):
        sizes = [_cell_size(cell) for cell in cells]
        over = [i for i, size in enumerate(sizes) if size > caps.cell and isinstance(cells[i], _CUTTABLE)]
        if over:
            cut_columns.extend(rows.columns[i].name if i < len(rows.columns) else f"#{i + 1}" for i in over)
            cells = tuple(_cut(cell, caps.cell) if i in over else cell for i, cell in enumerate(cells))
            for i in over:
                sizes[i] = caps.cell
        size = ROW_OVERHEAD_BYTES * (len(cells) + 1) + sum(sizes)
        if total + size > caps.reply:
            warnings.append(f"only the first {number:,} of {len(rows.rows):,} rows are returned: more would exceed "
                            f"{caps.reply:,} bytes (max_reply_bytes)")
            break
        total += size
        kept.append(cells)
    if cut_columns:
        names = ", ".join(dict.fromkeys(cut_columns))
        warnings.insert(0, f"values longer than {caps.cell:,} bytes (max_cell_bytes) were cut in column(s) {names}")
    if not warnings:
        return rows, []
    return Rows(rows.columns, kept, rows.truncated or len(kept) < len(rows.rows)), warnings


_CUTTABLE = (str, bytes, dict, list)
"""The cells that can be larger than a few bytes: text, binary and JSON values."""


def _cell_size(value: Any) -> int:
    """The bytes a cell takes on the wire, about: exact for text and binary values, a bound for the rest."""
    if isinstance(value, str):
        return len(value) if value.isascii() else len(value.encode())
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, dict | list):
        return len(json.dumps(value, ensure_ascii=False, default=str).encode())
    return 16


def _cut(value: Any, limit: int) -> Any:
    """``value``, longer than ``limit`` bytes, cut to them."""
    if isinstance(value, bytes):
        return value[:limit]
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text.encode()[:limit].decode("utf-8", "ignore")


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
