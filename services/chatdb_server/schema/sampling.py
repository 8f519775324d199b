"""Row estimates, a few sample rows and a few distinct values per text column.

Everything here is bounded: sample rows come from ``LIMIT``, distinct values from a
``LIMIT``-ed scan, counts stop at a cap, each statement runs under a short timeout
where the dialect has one, and long values are truncated. A table that cannot be
sampled keeps its structure and simply has no samples. Columns an EXCLUDE policy names are
never read: their cells in sample rows are selected as NULL and they get no distinct values.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from chatdb_server.log import get_logger
from chatdb_server.sql.connection import REACH_ERRORS
from chatdb_server.sql.dialects import support
from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.structure import ColumnStructure, TableStructure
from chatdb_server.sql.types import STRING

log = get_logger(__name__)

TRUNCATED = "…"
_TEXT_MARKERS = ("CHAR", "TEXT", "CLOB", "STRING")


@dataclass(frozen=True)
class SampleLimits:
    """How much of the data discovery may look at."""

    rows: int = 3
    """Sample rows per table."""
    value_chars: int = 80
    """Longer values in sample rows are truncated to this many characters."""
    bytes_shown: int = 16
    """Binary values show this many leading bytes, as hex."""
    distinct_values: int = 5
    """Distinct sample values per text-like column."""
    distinct_value_chars: int = 40
    """Only values up to this long are kept as distinct samples (names, codes, statuses)."""
    distinct_scan_rows: int = 500
    """Rows scanned to find distinct values."""
    count_cap: int = 10_000
    """An unknown or small row estimate is replaced by an exact count up to this many rows."""
    statement_timeout_s: float = 5.0
    """Timeout of each sampling statement, where the dialect supports one."""


DEFAULT_LIMITS = SampleLimits()


def json_safe(value: Any, limits: SampleLimits = DEFAULT_LIMITS) -> Any:
    """``value`` as JSON (null, bool, number or text), long text truncated and bytes as a hex prefix."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes | bytearray):
        shown = bytes(value[:limits.bytes_shown]).hex()
        return "0x" + shown + (TRUNCATED if len(value) > limits.bytes_shown else "")
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID | dt.timedelta):
        text = str(value)
    elif isinstance(value, dict | list | tuple):
        text = json.dumps(value, default=str, ensure_ascii=False)
    else:
        text = str(value)
    return truncate(text, limits.value_chars)


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, marked with an ellipsis when cut."""
    return text if len(text) <= limit else text[:limit - 1] + TRUNCATED


def _relation(table: TableStructure) -> sa.TableClause:
    base = table.name.split(".", 1)[1] if table.schema else table.name
    return sa.table(base, schema=table.schema or None)


async def catalog_row_estimates(conn: AsyncConnection, dialect: Dialect, default_schema: str) -> dict[str, int]:
    """The database's own row estimates by table name (qualified outside the default schema)."""
    query = support(dialect).row_estimates_sql
    if query is None:
        return {}
    estimates: dict[str, int] = {}
    for schema, name, count in await conn.execute(sa.text(query)):
        if count is None or count < 0:
            continue
        estimates[name if schema == default_schema else f"{schema}.{name}"] = int(count)
    return estimates


async def _bounded_count(conn: AsyncConnection, table: TableStructure, cap: int | None) -> int | None:
    """The exact row count, or None when it exceeds ``cap``."""
    inner: sa.Select[Any] = sa.select(sa.literal_column("1")).select_from(_relation(table))
    if cap is not None:
        inner = inner.limit(cap + 1)
    count = (await conn.execute(sa.select(sa.func.count()).select_from(inner.subquery()))).scalar_one()
    return None if cap is not None and count > cap else int(count)


async def _sample_rows(conn: AsyncConnection, table: TableStructure, limits: SampleLimits,
                       excluded: frozenset[str]) -> tuple[tuple[Any, ...], ...]:
    columns: list[sa.ColumnElement[Any]] = [sa.null() if c.name.lower() in excluded else sa.column(c.name)
                                            for c in table.columns]
    rows = await conn.execute(sa.select(*columns).select_from(_relation(table)).limit(limits.rows))
    return tuple(tuple(json_safe(v, limits) for v in row) for row in rows)


def _is_text(column: ColumnStructure) -> bool:
    """Character data (not UUIDs, intervals, arrays or enums that merely travel as strings)."""
    data_type = column.data_type.upper()
    return column.value_type == STRING and (not data_type or any(m in data_type for m in _TEXT_MARKERS))


async def _distinct_values(conn: AsyncConnection, table: TableStructure, limits: SampleLimits,
                           excluded: frozenset[str]) -> dict[str, tuple[str, ...]]:
    text_columns = [c for c in table.columns if _is_text(c) and c.name.lower() not in excluded]
    if not text_columns:
        return {}
    names = [c.name for c in text_columns]
    # Longer values are never kept, so never fetched whole: a scan of a column of documents stays small.
    # Untyped (SQLite) columns are read as they are, so numbers stored there are not taken for text.
    selected = [sa.func.substr(sa.column(c.name), 1, limits.distinct_value_chars + 1) if c.data_type
                else sa.column(c.name) for c in text_columns]
    query = sa.select(*selected).select_from(_relation(table)).limit(limits.distinct_scan_rows)
    found: dict[str, list[str]] = {n: [] for n in names}
    for row in await conn.execute(query):
        for name, value in zip(names, row, strict=True):
            kept = found[name]
            if (isinstance(value, str) and value.strip() and len(value) <= limits.distinct_value_chars
                    and value not in kept and len(kept) < limits.distinct_values):
                kept.append(value)
    return {name: tuple(values) for name, values in found.items() if values}


@dataclass(frozen=True)
class TableSample:
    """What sampling learned about one table."""

    row_estimate: int
    rows: tuple[tuple[Any, ...], ...]
    values: dict[str, tuple[str, ...]]


async def sample_table(engine: AsyncEngine, dialect: Dialect, table: TableStructure, estimate: int | None,
                       limits: SampleLimits = DEFAULT_LIMITS, excluded: frozenset[str] = frozenset()) -> TableSample:
    """Row estimate, sample rows and distinct values of ``table``; empty samples when it cannot be read.
    ``excluded`` names (lower-case) columns that must not be read.

    Dialects without catalog estimates (SQLite) count exactly; elsewhere the catalog's estimate
    stands unless it is unknown or below ``count_cap``, in which case a bounded count replaces
    it. Views get no count.
    """
    row_estimate = -1 if estimate is None else estimate
    dialect_support = support(dialect)
    try:
        async with engine.connect() as conn, conn.begin():
            if dialect_support.limit_statement_time is not None:
                await dialect_support.limit_statement_time(conn, limits.statement_timeout_s)
            if table.kind == "TABLE":
                if dialect_support.counts_exactly:
                    row_estimate = await _bounded_count(conn, table, None) or 0  # never None without a cap
                elif estimate is None or estimate < limits.count_cap:
                    counted = await _bounded_count(conn, table, limits.count_cap)
                    row_estimate = counted if counted is not None else max(row_estimate, limits.count_cap)
            rows = await _sample_rows(conn, table, limits, excluded)
            values = await _distinct_values(conn, table, limits, excluded)
    except REACH_ERRORS as error:
        log.warning("discovery.sample_failed", table=table.name, error=type(error).__name__)
        return TableSample(row_estimate, (), {})
    return TableSample(row_estimate, rows, values)

