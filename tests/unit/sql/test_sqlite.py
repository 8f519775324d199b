"""SQLite's read-only engine: the authorizer, ``mode=ro``, the progress-handler timeout, exact counts."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from chatdb_server.errors import DeadlineExceeded
from chatdb_server.schema.sampling import catalog_row_estimates, sample_table
from chatdb_server.sql.dsn import Dialect, parse_dsn
from chatdb_server.sql.engines import create_engine, sqlite_read_authorizer
from chatdb_server.sql.errors import QueryFailed
from chatdb_server.sql.executor import QueryExecutor
from chatdb_server.sql.structure import ColumnStructure, SourceRef, TableStructure


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, price REAL)")
        conn.executemany("INSERT INTO items (name, price) VALUES (?, ?)", [(f"item {i}", i * 1.5) for i in range(7)])
    conn.close()
    return path


@pytest.mark.parametrize(("action", "arg1", "arg2", "allowed"), [
    pytest.param(sqlite3.SQLITE_SELECT, None, None, True, id="select"),
    pytest.param(sqlite3.SQLITE_READ, "items", "name", True, id="read"),
    pytest.param(sqlite3.SQLITE_PRAGMA, "table_xinfo", "items", True, id="reflection_pragma"),
    pytest.param(sqlite3.SQLITE_PRAGMA, "journal_mode", "wal", False, id="writing_pragma"),
    pytest.param(sqlite3.SQLITE_FUNCTION, None, "lower", True, id="safe_function"),
    pytest.param(sqlite3.SQLITE_FUNCTION, None, "load_extension", False, id="load_extension"),
    pytest.param(sqlite3.SQLITE_FUNCTION, None, "readfile", False, id="readfile"),
    pytest.param(sqlite3.SQLITE_TRANSACTION, "BEGIN", None, True, id="driver_transaction"),
    pytest.param(sqlite3.SQLITE_ATTACH, "other.db", None, False, id="attach"),
    pytest.param(sqlite3.SQLITE_INSERT, "items", None, False, id="insert"),
    pytest.param(sqlite3.SQLITE_CREATE_TEMP_TABLE, "t", None, False, id="temp_table"),
])
def test_authorizer(action: int, arg1: str | None, arg2: str | None, allowed: bool) -> None:
    expected = sqlite3.SQLITE_OK if allowed else sqlite3.SQLITE_DENY
    assert sqlite_read_authorizer(action, arg1, arg2, None, None) == expected


@pytest.mark.parametrize("statement", [
    pytest.param("INSERT INTO items (name) VALUES ('x')", id="insert"),
    pytest.param("ATTACH DATABASE ':memory:' AS other", id="attach"),
    pytest.param("CREATE TEMP TABLE t (a)", id="temp_table"),
    pytest.param("PRAGMA journal_mode = wal", id="pragma_write"),
])
async def test_read_only_engine_refuses_writes(shop: Path, statement: str) -> None:
    engine = create_engine(parse_dsn(f"sqlite:///{shop}"), read_only=True)
    try:
        async with engine.connect() as conn:
            assert (await conn.execute(sa.text("SELECT count(*) FROM items"))).scalar_one() == 7
            with pytest.raises(sa.exc.DatabaseError):
                await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


async def test_executor_caps_rows_and_types_columns(shop: Path) -> None:
    executor = QueryExecutor()
    source = SourceRef(pk=1, tenant="t", source_id="shop", dialect=Dialect.SQLITE, dsn=parse_dsn(f"sqlite:///{shop}"))
    try:
        result = await executor.execute(source, "SELECT id, name, price FROM items ORDER BY id", max_rows=5,
                                        timeout_s=5)
        assert result.truncated and len(result.rows) == 5
        assert [(c.name, c.value_type) for c in result.columns] == [("id", "INTEGER"), ("name", "STRING"),
                                                                     ("price", "DOUBLE")]
        with pytest.raises(QueryFailed):
            await executor.execute(source, "DELETE FROM items", max_rows=5, timeout_s=5)
        with pytest.raises(DeadlineExceeded):
            await executor.execute(source, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
                                           "SELECT count(*) FROM n", max_rows=5, timeout_s=0.2)
    finally:
        await executor.close()


async def test_sampling_counts_exactly_without_catalog_estimates(shop: Path) -> None:
    table = TableStructure(name="items", schema="", kind="TABLE", columns=(
        ColumnStructure(name="id", data_type="INTEGER", value_type="INTEGER"),
        ColumnStructure(name="name", data_type="TEXT", value_type="STRING"),
    ))
    engine = create_engine(parse_dsn(f"sqlite:///{shop}"), read_only=True)
    try:
        async with engine.connect() as conn:
            assert await catalog_row_estimates(conn, Dialect.SQLITE, "main") == {}
        sample = await sample_table(engine, Dialect.SQLITE, table, None)
    finally:
        await engine.dispose()
    assert sample.row_estimate == 7
    assert len(sample.rows) == 3
    assert sample.values["name"][:2] == ("item 0", "item 1")
