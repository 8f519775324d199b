"""The read-only executor on real PostgreSQL, MariaDB and SQLite databases."""

from __future__ import annotations

import itertools
import socket
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from chatdb_server.query.cache import decode_result, encode_result
from chatdb_server.query.convert import rows_to_proto
from chatdb_server.query.domain import Rows, plain_rows
from chatdb_server.sql.dsn import Dialect, parse_dsn
from chatdb_server.sql.errors import (
    QUERY_FAILED,
    QUERY_TIMEOUT,
    SOURCE_UNREACHABLE,
    QueryFailed,
    QueryTimeout,
    SourceUnreachable,
)
from chatdb_server.sql.executor import QueryExecutor
from chatdb_server.sql.structure import SourceRef
from chatdb_server.sql.values import to_value, value_to_python
from tests.support.databases import sync_engine_for

_pks = itertools.count(1)
DIALECTS = ["postgresql", "mariadb", "sqlite"]


def source_for(dsn: str) -> SourceRef:
    """A resolved source for a plain DSN, with a pk no other test uses."""
    parsed = parse_dsn(dsn)
    return SourceRef(pk=next(_pks), tenant="tests", source_id=f"src{next(_pks)}", dialect=parsed.dialect, dsn=parsed)


@dataclass
class Target:
    """A database of one dialect, with a way to run setup statements on it."""

    source: SourceRef
    run: Callable[[str], list[tuple[Any, ...]]]


@pytest.fixture(params=DIALECTS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    """An empty database of each dialect."""
    if request.param == "sqlite":
        path = tmp_path / "target.db"
        sqlite3.connect(path).close()

        def run_sqlite(statement: str) -> list[tuple[Any, ...]]:
            with sqlite3.connect(path) as conn:
                return list(conn.execute(statement).fetchall())

        yield Target(source_for(f"sqlite:///{path}"), run_sqlite)
        return
    dsn = request.getfixturevalue("pg_dsn" if request.param == "postgresql" else "mysql_dsn")
    engine = sync_engine_for(dsn)

    def run_server(statement: str) -> list[tuple[Any, ...]]:
        with engine.connect() as conn:
            result = conn.execute(text(statement))
            return [tuple(r) for r in result.fetchall()] if result.returns_rows else []

    try:
        yield Target(source_for(dsn), run_server)
    finally:
        engine.dispose()


@pytest.fixture
async def executor() -> AsyncIterator[QueryExecutor]:
    """An executor, closed after the test."""
    executor = QueryExecutor()
    yield executor
    await executor.close()


# name, (PostgreSQL, MariaDB, SQLite) column type, (PostgreSQL, MariaDB, SQLite) literal, wire kind, Python value
TYPED = [
    ("i", ("integer", "int", "integer"), ("42", "42", "42"), "int_value", 42),
    ("big", ("bigint", "bigint", "integer"), ("9007199254740993",) * 3, "int_value", 9007199254740993),
    ("huge", ("numeric(30,0)", "bigint unsigned", None), ("1180591620717411303424", "18446744073709551615", None),
     "decimal_value", None),
    ("amount", ("numeric(10,2)", "decimal(10,2)", None), ("12.50", "12.50", None), "decimal_value", Decimal("12.50")),
    ("f", ("double precision", "double", "real"), ("1.5", "1.5", "1.5"), "double_value", 1.5),
    ("flag", ("boolean", None, None), ("true", None, None), "bool_value", True),
    ("d", ("date", "date", None), ("'2024-02-29'", "'2024-02-29'", None), "date_value", date(2024, 2, 29)),
    ("ts", ("timestamp", "datetime(6)", None), ("'2024-02-29 13:45:00.5'", "'2024-02-29 13:45:00.5'", None),
     "timestamp_value", datetime(2024, 2, 29, 13, 45, 0, 500000, tzinfo=UTC)),
    ("tstz", ("timestamptz", None, None), ("'2024-02-29 15:45:00+02'", None, None), "timestamp_value",
     datetime(2024, 2, 29, 13, 45, tzinfo=UTC)),
    ("t", ("time", "time", None), ("'13:45:07'", "'13:45:07'", None), "time_value", time(13, 45, 7)),
    ("s", ("text", "varchar(20)", "text"), ("'héllo'",) * 3, "string_value", "héllo"),
    ("b", ("bytea", "varbinary(8)", "blob"), ("'\\x00ff'::bytea", "x'00ff'", "x'00ff'"), "bytes_value", b"\x00\xff"),
    ("j", ("jsonb", None, None), ("'{\"a\": [1, 2]}'", None, None), "json_value", {"a": [1, 2]}),
    ("n", ("integer", "int", "integer"), ("NULL",) * 3, "null_value", None),
]


async def test_typed_values_round_trip(target: Target, executor: QueryExecutor) -> None:
    position = DIALECTS.index(_dialect_name(target))
    cases = [(name, types[position], literals[position], kind, value)
             for name, types, literals, kind, value in TYPED if types[position] is not None]
    target.run(f"CREATE TABLE typed ({', '.join(f'{n} {t}' for n, t, *_ in cases)})")
    target.run(f"INSERT INTO typed VALUES ({', '.join(lit for _, _, lit, *_ in cases)})")

    result = await executor.execute(target.source, f"SELECT {', '.join(n for n, *_ in cases)} FROM typed",
                                    max_rows=10, timeout_s=10)

    assert [c.name for c in result.columns] == [n for n, *_ in cases]
    (row,) = rows_to_proto(result.columns, result.rows)
    for (name, _, literal, kind, expected), cell, column in zip(cases, row.values, result.columns, strict=True):
        assert cell.WhichOneof("kind") == kind, (name, cell, column)
        if name == "huge":
            assert cell.decimal_value == literal
        elif expected is not None:
            assert value_to_python(cell) == expected, name
        assert to_value(value_to_python(cell), column.value_type) == cell, name
    cached = decode_result(encode_result(Rows(result.columns, plain_rows(result.rows), result.truncated)))
    assert cached.columns == result.columns
    assert rows_to_proto(cached.columns, cached.rows) == [row]  # the cache gives back what the driver gave


async def test_mariadb_json_and_booleans_arrive_as_stored(mysql_dsn: str, executor: QueryExecutor) -> None:
    """MariaDB's JSON is LONGTEXT and BOOLEAN is TINYINT(1): the wire says what the server says."""
    engine = sync_engine_for(mysql_dsn)
    with engine.connect() as conn:
        conn.execute(text("CREATE TABLE t (j JSON, flag BOOLEAN)"))
        conn.execute(text("""INSERT INTO t VALUES ('{"a": 1}', TRUE)"""))
    engine.dispose()

    result = await executor.execute(source_for(mysql_dsn), "SELECT j, flag FROM t", max_rows=5, timeout_s=5)

    (row,) = rows_to_proto(result.columns, result.rows)
    assert row.values[0].string_value == '{"a": 1}'
    assert row.values[1].int_value == 1
    assert result.columns[1].database_type == "TINYINT(1)"


async def test_row_cap_fetches_one_more_to_tell_truncation(target: Target, executor: QueryExecutor) -> None:
    target.run("CREATE TABLE numbers (n integer)")
    target.run(f"INSERT INTO numbers VALUES {', '.join(f'({i})' for i in range(25))}")
    sql = "SELECT n FROM numbers ORDER BY n"

    capped = await executor.execute(target.source, sql, max_rows=10, timeout_s=5)
    exact = await executor.execute(target.source, sql, max_rows=25, timeout_s=5)
    nothing = await executor.execute(target.source, sql, max_rows=0, timeout_s=5)

    assert [r[0] for r in capped.rows] == list(range(10)) and capped.truncated
    assert len(exact.rows) == 25 and not exact.truncated
    assert nothing.rows == [] and nothing.truncated
    assert capped.elapsed_s > 0


LONG_QUERIES = {
    "postgresql": ["SELECT pg_sleep(60)",
                   "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT count(*) FROM r",
                   "SELECT count(*) FROM generate_series(1, 100000) a, generate_series(1, 100000) b"],
    "mariadb": ["SELECT SLEEP(60)",  # recursion stops at max_recursive_iterations (1000): a cross join runs long
                "SELECT count(*) FROM seq_1_to_100000 a, seq_1_to_100000 b WHERE a.seq * b.seq > 3"],
    "sqlite": ["WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT count(*) FROM r",
               "WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r LIMIT 100000) "
               "SELECT count(*) FROM r a, r b"],
}


async def test_timeout_cancels_the_query_in_the_database(target: Target, executor: QueryExecutor) -> None:
    dialect = _dialect_name(target)
    target.run("CREATE TABLE marker (n integer)")
    for sql in LONG_QUERIES[dialect]:
        with pytest.raises(QueryTimeout) as caught:
            await executor.execute(target.source, sql, max_rows=10, timeout_s=1)
        assert caught.value.reason == QUERY_TIMEOUT
        assert _still_running(target, dialect, sql) == []
    after = await executor.execute(target.source, "SELECT count(*) FROM marker", max_rows=1, timeout_s=5)
    assert after.rows == [(0,)]


def _still_running(target: Target, dialect: str, sql: str) -> list[tuple[Any, ...]]:
    """Statements of the test's database that the server is still executing."""
    fragment = sql[:40].replace("'", "''")
    if dialect == "postgresql":
        return target.run("SELECT pid, query FROM pg_stat_activity WHERE state = 'active' "
                          f"AND pid <> pg_backend_pid() AND query LIKE '{fragment}%'")
    if dialect == "mariadb":
        return target.run("SELECT id, info FROM information_schema.processlist WHERE command = 'Query' "
                          f"AND id <> connection_id() AND info LIKE '{fragment}%'")
    return []  # an interrupted SQLite statement is over when sqlite3 returns; the next query proves the handle free


WRITES = [
    "INSERT INTO canary VALUES (99)",
    "UPDATE canary SET n = 0",
    "DELETE FROM canary",
    "DROP TABLE canary",
    "CREATE TABLE intruder (n integer)",
    "SELECT n FROM canary; DELETE FROM canary",
]


@pytest.mark.parametrize("sql", WRITES)
async def test_writes_are_refused_even_without_the_guard(target: Target, executor: QueryExecutor, sql: str) -> None:
    target.run("CREATE TABLE canary (n integer)")
    target.run("INSERT INTO canary VALUES (1), (2)")

    with pytest.raises(QueryFailed) as caught:
        await executor.execute(target.source, sql, max_rows=10, timeout_s=5)

    assert caught.value.reason == QUERY_FAILED and caught.value.database_message
    assert target.run("SELECT n FROM canary ORDER BY n") == [(1,), (2,)]
    assert "intruder" not in str(_table_names(target))


def _table_names(target: Target) -> list[tuple[Any, ...]]:
    dialect = _dialect_name(target)
    if dialect == "sqlite":
        return target.run("SELECT name FROM sqlite_master")
    if dialect == "postgresql":
        return target.run("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return target.run("SHOW TABLES")


async def test_rejection_carries_the_database_message(target: Target, executor: QueryExecutor) -> None:
    target.run("CREATE TABLE canary (n integer)")

    with pytest.raises(QueryFailed) as caught:
        await executor.execute(target.source, "SELECT missing_column FROM canary", max_rows=5, timeout_s=5)

    assert "missing_column" in caught.value.database_message


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("dsn", [
    pytest.param("postgresql://reader:sekret-pw@127.0.0.1:{port}/nowhere", id="postgresql"),
    pytest.param("mysql://reader:sekret-pw@127.0.0.1:{port}/nowhere", id="mariadb"),
    pytest.param("sqlite:///{tmp}/missing/nothing.db", id="sqlite"),
])
async def test_unreachable_source(dsn: str, tmp_path: Path, executor: QueryExecutor) -> None:
    source = source_for(dsn.format(port=_closed_port(), tmp=tmp_path))

    with pytest.raises(SourceUnreachable) as caught:
        await executor.execute(source, "SELECT 1", max_rows=1, timeout_s=5)

    assert caught.value.reason == SOURCE_UNREACHABLE
    assert "sekret-pw" not in str(caught.value)
    assert caught.value.metadata["data_source"] == source.name


async def test_a_killed_session_is_replaced(pg_dsn: str, executor: QueryExecutor) -> None:
    source = source_for(pg_dsn)

    with pytest.raises(SourceUnreachable):
        await executor.execute(source, "SELECT pg_terminate_backend(pg_backend_pid())", max_rows=1, timeout_s=5)

    after = await executor.execute(source, "SELECT 1", max_rows=1, timeout_s=5)
    assert after.rows == [(1,)]


async def test_dispose_source_rebuilds_the_pool(target: Target, executor: QueryExecutor) -> None:
    first = await executor.execute(target.source, "SELECT 1", max_rows=1, timeout_s=5)
    await executor.dispose_source(target.source.pk)
    second = await executor.execute(target.source, "SELECT 1", max_rows=1, timeout_s=5)
    assert first.rows == second.rows == [(1,)]


def _dialect_name(target: Target) -> str:
    return {Dialect.POSTGRESQL: "postgresql", Dialect.MYSQL: "mariadb", Dialect.SQLITE: "sqlite"}[
        target.source.dialect]
