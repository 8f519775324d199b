"""Every Spider dev gold query passes the guard, runs the same after it, and runs on server copies.

On SQLite the guarded SQL must return what the gold SQL returns. Transpiled to PostgreSQL and
MariaDB (names lower-cased as in the copies), every query must pass the guard again and run on
a copy of its database; PostgreSQL may refuse only what SQLite's laxer SQL allows (bare columns
beside GROUP BY, text compared with numbers), never anything the guard's rewrite caused.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager
from functools import cache
from typing import Any

import pytest
import sqlglot
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from chatdb_server.sql.dsn import Dialect, parse_dsn
from chatdb_server.sql.errors import QueryFailed
from chatdb_server.sql.executor import QueryExecutor
from chatdb_server.sql.guard import SqlGuard
from chatdb_server.sql.structure import SourceRef
from tests.support.databases import mysql_database, postgres_database
from tests.support.spider import SpiderQuestion, database_path, questions, require_spider
from tests.support.spider_copy import copy_sqlite_to

pytestmark = pytest.mark.spider

MAX_ROWS = 1000
POSTGRES_STRICTER = re.compile(
    r"must appear in the GROUP BY clause|operator does not exist|function \S+ does not exist")
MIN_POSTGRES_EXECUTED = 900
"""Of 972: the rest use SQLite-only leniency (measured: 910 run)."""


@pytest.fixture(scope="module")
def by_database() -> dict[str, list[SpiderQuestion]]:
    require_spider()
    grouped: dict[str, list[SpiderQuestion]] = defaultdict(list)
    for question in questions():
        grouped[question.db_id].append(question)
    return grouped


@pytest.fixture
async def executor() -> AsyncIterator[QueryExecutor]:
    executor = QueryExecutor()
    yield executor
    await executor.close()


@cache
def sqlite_known_columns(db_id: str) -> dict[str, set[str]]:
    with sqlite3.connect(database_path(db_id)) as conn:
        tables = [name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")]
        return {t.lower(): {row[1].lower() for row in conn.execute(f'PRAGMA table_info("{t}")')} for t in tables}


def source_for(dsn: str, pk: int) -> SourceRef:
    parsed = parse_dsn(dsn)
    return SourceRef(pk=pk, tenant="spider", source_id=f"spider{pk}", dialect=parsed.dialect, dsn=parsed)


def gold_rows(db_id: str, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database_path(db_id)) as conn:
        conn.text_factory = lambda raw: raw.decode("utf-8", "replace")
        return [tuple(r) for r in conn.execute(sql).fetchall()]


def _sorted(rows: list[tuple[Any, ...]]) -> list[str]:
    return sorted(repr(r) for r in rows)


async def test_gold_queries_pass_the_guard_and_keep_their_rows_on_sqlite(
        by_database: dict[str, list[SpiderQuestion]], executor: QueryExecutor) -> None:
    guard = SqlGuard()
    refused, differing, checked = [], [], 0
    for pk, (db_id, items) in enumerate(sorted(by_database.items()), start=1):
        known = sqlite_known_columns(db_id)
        source = source_for(f"sqlite:///{database_path(db_id)}", pk)
        for question in items:
            verdict = guard.check(question.gold_sql, Dialect.SQLITE, known, MAX_ROWS)
            if not verdict.valid:
                refused.append((question.index, question.gold_sql, verdict.violations))
                continue
            result = await executor.execute(source, verdict.executable_sql, max_rows=MAX_ROWS, timeout_s=30)
            expected = gold_rows(db_id, question.gold_sql)
            checked += 1
            if _sorted(result.rows) != _sorted(expected[:MAX_ROWS]) and not result.truncated:
                differing.append((question.index, question.gold_sql, verdict.sql))
    assert refused == []
    assert differing == []
    assert checked == len(questions()) == 972


def _server_database(kind: str) -> AbstractContextManager[str]:
    return postgres_database() if kind == "postgresql" else mysql_database()


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["postgresql", "mariadb"])
async def test_transpiled_gold_queries_pass_the_guard_and_run_on_a_server_copy(
        kind: str, by_database: dict[str, list[SpiderQuestion]], executor: QueryExecutor) -> None:
    guard = SqlGuard()
    dialect = Dialect.POSTGRESQL if kind == "postgresql" else Dialect.MYSQL
    refused: list[Any] = []
    failed: list[tuple[int, str, str]] = []
    executed = 0
    for pk, (db_id, items) in enumerate(sorted(by_database.items()), start=1):
        with _server_database(kind) as dsn:
            known = {table: set(columns) for table, columns in copy_sqlite_to(dsn, database_path(db_id)).items()}
            source = source_for(dsn, 1000 + pk)
            for question in items:
                sql = _transpile(guard, question, dialect)
                verdict = guard.check(sql, dialect, known, MAX_ROWS)
                if not verdict.valid:
                    refused.append((question.index, sql, verdict.violations))
                    continue
                try:
                    await executor.execute(source, verdict.executable_sql, max_rows=MAX_ROWS, timeout_s=30)
                    executed += 1
                except QueryFailed as exc:
                    failed.append((question.index, verdict.sql, exc.database_message))
            await executor.dispose_source(source.pk)
    print(f"\n{kind}: {executed} of {len(questions())} executed; refusals by the server: "
          f"{Counter(_category(m) for _, _, m in failed).most_common()}")
    assert refused == []
    if dialect is Dialect.MYSQL:
        assert failed == []
    else:
        assert [f for f in failed if not POSTGRES_STRICTER.search(f[2])] == []
        assert executed >= MIN_POSTGRES_EXECUTED


def _transpile(guard: SqlGuard, question: SpiderQuestion, dialect: Dialect) -> str:
    """The gold SQL as SQLite means it (after the guard), with names as the copies spell them."""
    on_sqlite = guard.check(question.gold_sql, Dialect.SQLITE, sqlite_known_columns(question.db_id), MAX_ROWS)
    tree = normalize_identifiers(sqlglot.parse_one(on_sqlite.sql, read="sqlite"), dialect="sqlite")
    return tree.sql(dialect=dialect.value)


def _category(message: str) -> str:
    found = POSTGRES_STRICTER.search(message)
    return found.group(0) if found else message.splitlines()[0][:80]


def test_known_columns_of_a_copy_are_lower_case(pg_dsn: str) -> None:
    require_spider()
    copied = copy_sqlite_to(pg_dsn, database_path("concert_singer"))
    assert set(copied) == {"concert", "singer", "singer_in_concert", "stadium"}
    assert all(name == name.lower() for columns in copied.values() for name in columns)

