"""A SQLite database (a Spider one, typically) on each dialect: the file, or a copy in PostgreSQL or MariaDB.

A copy lives in its own database, created for the caller and dropped after. Its schema context
is the SQLite one as a server would describe the copy: names lower-cased as the copy spells them
and each column's type as the server declares it (``information_schema``), sample values and join
edges kept. The gold SQL of a question is transpiled to the copy's dialect after the guard.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path

import sqlglot
from sqlalchemy import text
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from chatdb_server.retrieval.context import SchemaContext
from chatdb_server.sql.dsn import Dialect, parse_dsn
from chatdb_server.sql.guard import SqlGuard
from chatdb_server.sql.structure import JoinEdge, SourceRef
from tests.bench.spider_schema import schema_context_for
from tests.support.databases import mysql_database, postgres_database, sync_engine_for
from tests.support.spider_copy import copy_sqlite_to

#: Dialect names the benchmark takes, and the sqlglot dialect each runs in.
DIALECTS: dict[str, Dialect] = {"sqlite": Dialect.SQLITE, "postgresql": Dialect.POSTGRESQL,
                                "mysql": Dialect.MYSQL}
GUARD_ROWS = 100_000


@dataclass(frozen=True)
class DatabaseTarget:
    """One Spider database on one dialect, ready to be asked."""

    dialect: Dialect
    source: SourceRef
    known_columns: dict[str, set[str]]
    schema: SchemaContext


@cache
def sqlite_known_columns(db_path: Path) -> dict[str, set[str]]:
    """Tables and columns of a SQLite file, lower-case, as the guard takes them."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")]
        return {t.lower(): {row[1].lower() for row in conn.execute(f'PRAGMA table_info("{t}")')} for t in names}


def _source(dsn: str, pk: int) -> SourceRef:
    parsed = parse_dsn(dsn)
    return SourceRef(pk=pk, tenant="bench", source_id=f"bench{pk}", dialect=parsed.dialect, dsn=parsed)


def _declared_types(dsn: str) -> dict[tuple[str, str], str]:
    """(table, column) → the type the server declares, from information_schema."""
    engine = sync_engine_for(dsn)
    column = "column_type" if engine.dialect.name in ("mysql", "mariadb") else "data_type"
    try:
        with engine.connect() as conn:
            rows = conn.execute(text(
                f"SELECT table_name, column_name, {column} FROM information_schema.columns "
                "WHERE table_schema = " + ("DATABASE()" if column == "column_type" else "'public'"))).fetchall()
    finally:
        engine.dispose()
    return {(str(t).lower(), str(c).lower()): str(d) for t, c, d in rows}


def server_schema(sqlite_schema: SchemaContext, types: dict[tuple[str, str], str]) -> SchemaContext:
    """The SQLite schema context as a server copy of it reads: lower-case names, the server's types."""
    tables = []
    for table in sqlite_schema.tables:
        name = table.name.lower()
        columns = tuple(replace(c, name=c.name.lower(), data_type=types.get((name, c.name.lower()), c.data_type))
                        for c in table.columns)
        tables.append(replace(table, name=name, columns=columns))
    joins = tuple(JoinEdge(j.from_table.lower(), tuple(c.lower() for c in j.from_columns), j.to_table.lower(),
                           tuple(c.lower() for c in j.to_columns)) for j in sqlite_schema.joins)
    return SchemaContext(tables=tuple(tables), joins=joins)


@contextmanager
def database_target(db_path: Path, dialect: Dialect, pk: int, sample_values: int,
                    declared_types: bool = False) -> Iterator[DatabaseTarget]:
    """The database at ``db_path`` on ``dialect``: the file itself, or a server copy dropped after
    (with dates and fixed-point numbers typed as declared where the data fits, on request)."""
    sqlite_schema = schema_context_for(db_path, sample_values)
    if dialect is Dialect.SQLITE:
        yield DatabaseTarget(dialect, _source(f"sqlite:///{db_path}", pk), sqlite_known_columns(db_path), sqlite_schema)
        return
    with (postgres_database() if dialect is Dialect.POSTGRESQL else mysql_database()) as dsn:
        copied = copy_sqlite_to(dsn, db_path, declared_types)
        known = {table: set(columns) for table, columns in copied.items()}
        yield DatabaseTarget(dialect, _source(dsn, pk), known, server_schema(sqlite_schema, _declared_types(dsn)))


def transpile_gold(guard: SqlGuard, gold_sql: str, db_path: Path, dialect: Dialect) -> str:
    """The gold SQL as SQLite means it (after the guard), with names as the copies spell them."""
    on_sqlite = guard.check(gold_sql, Dialect.SQLITE, sqlite_known_columns(db_path), GUARD_ROWS)
    if dialect is Dialect.SQLITE:
        return on_sqlite.executable_sql
    tree = normalize_identifiers(sqlglot.parse_one(on_sqlite.sql, read="sqlite"), dialect="sqlite")
    return tree.sql(dialect=dialect.value)
