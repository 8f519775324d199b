"""A SchemaContext for a Spider SQLite database, read from the database itself.

Mirrors what training gives a generator in production: every table, its columns with
types and primary keys, the declared foreign keys as join edges, and a few distinct
sample values per text column (the most frequent first).
"""

from __future__ import annotations

import sqlite3
from functools import cache
from pathlib import Path

from chatdb_server.retrieval.context import ColumnInfo, SchemaContext, TableInfo
from chatdb_server.sql.structure import JoinEdge

DEFAULT_SAMPLE_VALUES = 5
"""As many as SchemaService sampling keeps per text column."""
_TEXT_TYPES = ("char", "text", "clob", "string")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _is_text(data_type: str) -> bool:
    lowered = data_type.lower()
    return not lowered or any(word in lowered for word in _TEXT_TYPES)


def _sample_values(conn: sqlite3.Connection, table: str, column: str, limit: int) -> tuple[str, ...]:
    rows = conn.execute(
        f"SELECT {_quote(column)}, COUNT(*) AS n FROM {_quote(table)} WHERE {_quote(column)} IS NOT NULL "
        f"GROUP BY {_quote(column)} ORDER BY n DESC, {_quote(column)} LIMIT ?", (limit,)).fetchall()
    return tuple(str(value) for value, _ in rows if str(value).strip())


def _table_names(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                        "ORDER BY rowid").fetchall()
    return [name for (name,) in rows]


def _joins(conn: sqlite3.Connection, tables: list[str], primary_keys: dict[str, list[str]]) -> list[JoinEdge]:
    by_lower = {t.lower(): t for t in tables}
    joins: list[JoinEdge] = []
    for table in tables:
        grouped: dict[int, list[tuple[str, str, str | None]]] = {}
        for row in conn.execute(f"PRAGMA foreign_key_list({_quote(table)})").fetchall():
            grouped.setdefault(row[0], []).append((row[2], row[3], row[4]))
        for parts in grouped.values():
            target = by_lower.get(parts[0][0].lower())
            if target is None:
                continue
            from_cols = tuple(p[1] for p in parts)
            to_cols = tuple(p[2] or pk for p, pk in zip(parts, primary_keys[target] or [p[1] for p in parts],
                                                        strict=False))
            joins.append(JoinEdge(table, from_cols, target, to_cols))
    return joins


def _exact_column_names(conn: sqlite3.Connection, table: str) -> dict[str, str]:
    info = conn.execute(f"PRAGMA table_info({_quote(table)})").fetchall()
    return {row[1].lower(): row[1] for row in info}


@cache
def schema_context_for(db_path: Path, sample_values: int = DEFAULT_SAMPLE_VALUES) -> SchemaContext:
    """Tables, columns (type, primary key, sample values) and declared joins of a SQLite file."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    conn.text_factory = lambda raw: raw.decode("utf-8", errors="replace")
    try:
        tables = _table_names(conn)
        infos: list[TableInfo] = []
        primary_keys: dict[str, list[str]] = {}
        for table in tables:
            info = conn.execute(f"PRAGMA table_info({_quote(table)})").fetchall()
            primary_keys[table] = [row[1] for row in sorted(info, key=lambda r: r[5]) if row[5]]
            columns = tuple(
                ColumnInfo(name=row[1], data_type=row[2] or "", primary_key=bool(row[5]),
                           sample_values=_sample_values(conn, table, row[1], sample_values)
                           if _is_text(row[2] or "") and sample_values else ())
                for row in info)
            infos.append(TableInfo(name=table, columns=columns))
        joins = []
        for join in _joins(conn, tables, primary_keys):
            # Spider's DDL sometimes names a referenced column in another case.
            to_names = _exact_column_names(conn, join.to_table)
            from_names = _exact_column_names(conn, join.from_table)
            to_cols = tuple(to_names.get(c.lower(), c) for c in join.to_columns)
            from_cols = tuple(from_names.get(c.lower(), c) for c in join.from_columns)
            if all(c.lower() in to_names for c in to_cols) and all(c.lower() in from_names for c in from_cols):
                joins.append(JoinEdge(join.from_table, from_cols, join.to_table, to_cols))
        return SchemaContext(tables=tuple(infos), joins=tuple(joins))
    finally:
        conn.close()
