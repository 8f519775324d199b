"""Copy a SQLite database (a Spider one, typically) into PostgreSQL or MariaDB.

Tests that compare dialects need the same tables and rows on a server. SQLite types values,
not columns, so each column's type comes from the values it holds: all integers → BIGINT,
all numbers → DOUBLE, all bytes → binary, anything else → text (which keeps SQLite's text
comparisons of dates). Names are lower-cased (PostgreSQL folds unquoted names, MariaDB
compares table names case-sensitively). Primary keys are kept where the data is unique and
not null; declared foreign keys are added afterwards where the target accepts them.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Double,
    LargeBinary,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    insert,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import TypeEngine

from tests.support.databases import sync_engine_for

_INT64 = (-(2**63), 2**63 - 1)
_MYSQL_KEYABLE_CHARS = 255
_ROWS_PER_INSERT = 500
_INTEGER = re.compile(r"[-+]?(0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"[-+]?[0-9]*\.[0-9]+")
_FIXED_POINT = re.compile(r"(?:NUMERIC|DECIMAL)\s*\(\s*([0-9]+)\s*(?:,\s*([0-9]+)\s*)?\)")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ISO_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?")


@dataclass(frozen=True)
class _SourceTable:
    name: str
    columns: list[tuple[str, str]]  # (name, declared type)
    primary_key: list[str]
    foreign_keys: list[tuple[list[str], str, list[str]]]  # (columns, referred table, referred columns)
    rows: list[tuple[Any, ...]]


def copy_sqlite_to(dsn: str, sqlite_path: str | Path, declared_types: bool = False) -> dict[str, list[str]]:
    """Copy every table of ``sqlite_path`` with its rows into the (empty) database at ``dsn``.

    With ``declared_types`` a column declared as a date, a timestamp or a fixed-point number whose
    values all fit becomes a DATE, TIMESTAMP or NUMERIC column (a server's own schema would say so)
    instead of the type its values suggest. Returns the copied tables and their columns, lower-case,
    in the shape the guard's ``known_columns`` takes (as lists, in column order).
    """
    tables = _read_sqlite(Path(sqlite_path))
    engine = sync_engine_for(dsn)
    try:
        mysql = engine.dialect.name in ("mysql", "mariadb")
        metadata = MetaData()
        created = {t.name.lower(): _target_table(metadata, t, mysql, declared_types) for t in tables}
        metadata.create_all(engine)
        with engine.begin() as conn:
            for table in tables:
                target = created[table.name.lower()]
                names = [c.name for c in target.columns]
                rows = [dict(zip(names, _clean(row, target), strict=True)) for row in table.rows]
                for start in range(0, len(rows), _ROWS_PER_INSERT):  # multi-row VALUES: one round trip per chunk
                    conn.execute(insert(target).values(rows[start:start + _ROWS_PER_INSERT]))
        for table in tables:
            for columns, referred, referred_columns in table.foreign_keys:
                _try_foreign_key(engine, table.name, columns, referred, referred_columns, created)
        return {name: [c.name for c in table.columns] for name, table in created.items()}
    finally:
        engine.dispose()


def _read_sqlite(path: Path) -> list[_SourceTable]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.text_factory = lambda raw: raw.decode("utf-8", "replace")
    try:
        names = [n for (n,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        out = []
        for name in names:
            info = list(conn.execute(f'PRAGMA table_info("{name}")'))
            keys = [r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])]
            fks: dict[int, tuple[list[str], str, list[str]]] = {}
            for fk in conn.execute(f'PRAGMA foreign_key_list("{name}")'):
                entry = fks.setdefault(fk[0], ([], fk[2], []))
                entry[0].append(fk[3])
                entry[2].append(fk[4] or "")
            rows = [tuple(r) for r in conn.execute(f'SELECT * FROM "{name}"')]
            out.append(_SourceTable(name, [(r[1], r[2] or "") for r in info], keys, list(fks.values()), rows))
        return out
    finally:
        conn.close()


def _target_table(metadata: MetaData, source: _SourceTable, mysql: bool, declared_types: bool) -> Table:
    types = [(declared_types and _declared_type([row[i] for row in source.rows if row[i] is not None], declared))
             or _column_type([row[i] for row in source.rows if row[i] is not None], declared, mysql)
             for i, (_, declared) in enumerate(source.columns)]
    keyed = bool(source.primary_key) and _is_unique_key(source, types, mysql)
    key_names = {k.lower() for k in source.primary_key} if keyed else set()
    columns = [Column(name.lower(), type_, nullable=name.lower() not in key_names, autoincrement=False)
               for (name, _), type_ in zip(source.columns, types, strict=True)]
    constraints = [PrimaryKeyConstraint(*[k.lower() for k in source.primary_key])] if keyed else []
    return Table(source.name.lower(), metadata, *columns, *constraints)


def _column_type(values: list[Any], declared: str, mysql: bool) -> TypeEngine[Any]:
    """The narrowest type that holds every value; numbers stored as text count as numbers, since
    SQLite compares them with number literals and joins them with integer keys."""
    numbers = [_as_number(v) for v in values]
    if values and all(isinstance(n, int) and _INT64[0] <= n <= _INT64[1] for n in numbers):
        return BigInteger()
    if values and all(n is not None for n in numbers):
        return Double()
    if values and all(isinstance(v, bytes) for v in values):
        return LargeBinary()
    if not values:
        upper = declared.upper()
        if "INT" in upper:
            return BigInteger()
        if any(marker in upper for marker in ("REAL", "FLOA", "DOUB", "NUM", "DEC")):
            return Double()
    if mysql and max((len(str(v)) for v in values), default=0) <= _MYSQL_KEYABLE_CHARS:
        return String(_MYSQL_KEYABLE_CHARS)
    return Text()


def _declared_type(values: list[Any], declared: str) -> TypeEngine[Any] | None:
    """DATE, TIMESTAMP or NUMERIC(p, s) where the declared type says so and every value fits."""
    upper = declared.upper()
    fixed = _FIXED_POINT.fullmatch(upper)
    if fixed and all(_as_number(v) is not None for v in values):
        return Numeric(int(fixed.group(1)), int(fixed.group(2) or 0))
    texts = [v for v in values if isinstance(v, str)]
    if len(texts) != len(values) or not any(marker in upper for marker in ("DATE", "TIME")):
        return None
    if upper == "DATE" and all(_ISO_DATE.fullmatch(v) for v in texts):
        return Date()
    if all(_ISO_DATE.fullmatch(v) or _ISO_TIMESTAMP.fullmatch(v) for v in texts):
        return DateTime()
    return None


def _as_number(value: Any) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    if not isinstance(value, str):
        return value
    text_value = value.strip()
    if _INTEGER.fullmatch(text_value):
        return int(text_value)
    if _DECIMAL.fullmatch(text_value):
        return float(text_value)
    return None


def _is_unique_key(source: _SourceTable, types: list[TypeEngine[Any]], mysql: bool) -> bool:
    names = [c for c, _ in source.columns]
    if not all(k in names for k in source.primary_key):
        return False
    positions = [names.index(k) for k in source.primary_key]
    keys = [tuple(_key_value(row[p], mysql) for p in positions) for row in source.rows]
    if any(v is None for key in keys for v in key) or len(set(keys)) != len(keys):
        return False
    # MariaDB cannot index TEXT without a prefix length
    return not mysql or all(not isinstance(types[p], Text) for p in positions)


def _key_value(value: Any, mysql: bool) -> Any:
    """A value as the target's unique index compares it (MariaDB's default collation ignores case and
    trailing spaces; numbers stored as text become numbers)."""
    number = _as_number(value)
    if number is not None:
        return number
    return value.rstrip(" ").casefold() if mysql and isinstance(value, str) else value


def _clean(row: tuple[Any, ...], table: Table) -> tuple[Any, ...]:
    """Values as the target column takes them: SQLite lets a text column hold numbers, and text holds NULs."""
    out = []
    for value, column in zip(row, table.columns, strict=True):
        if value is not None and isinstance(column.type, String):  # Text is a String too
            value = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
            value = value.replace("\x00", "")
        elif value is not None and isinstance(column.type, BigInteger | Double | Numeric):
            value = _as_number(value)
        elif value is not None and isinstance(column.type, Date | DateTime):
            moment = dt.datetime.fromisoformat(value)
            value = moment if isinstance(column.type, DateTime) else moment.date()
        out.append(value)
    return tuple(out)


def _try_foreign_key(engine: Engine, table: str, columns: list[str], referred: str, referred_columns: list[str],
                     created: dict[str, Table]) -> None:
    target = created.get(referred.lower())
    if target is None:
        return
    if not all(referred_columns):
        referred_columns = [c.name for c in target.primary_key.columns]
    quote = engine.dialect.identifier_preparer.quote
    statement = (f"ALTER TABLE {quote(table.lower())} ADD FOREIGN KEY ({', '.join(quote(c.lower()) for c in columns)}) "
                 f"REFERENCES {quote(referred.lower())} ({', '.join(quote(c.lower()) for c in referred_columns)})")
    try:
        with engine.begin() as conn:
            conn.execute(text(statement))
    except DBAPIError:
        pass  # types differ, the referred columns are not a key, or the data has orphans: the copy goes without it
