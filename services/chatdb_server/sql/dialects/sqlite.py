"""SQLite: ``mode=ro`` files with an authorizer, progress-handler timeouts, reflection extras, guard rules.

Files open ``mode=ro`` and every read-only connection gets :func:`sqlite_read_authorizer`,
which denies what ``mode=ro`` still allows (ATTACH, VACUUM INTO, PRAGMA writes, temp
tables). Queries run under a progress handler that interrupts the statement at the
timeout; sqlite3 runs one statement per call. The backstop interrupts the connection.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, TypeVar

import aiosqlite
import sqlalchemy as sa
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.util import await_

from chatdb_server.sql.dialects.base import (
    COMMON_FUNCTION_NAMES,
    CONNECT_TIMEOUT_S,
    DialectSupport,
    GuardRules,
    ReflectionExtras,
)
from chatdb_server.sql.dialects.running import Fetched, Interrupted, Rejected, is_transport_error, result_column
from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.values import ResultColumn

T = TypeVar("T")

PROGRESS_OPS = 1000
"""SQLite virtual-machine steps between two looks at the clock."""


def engine_url(url: URL, read_only: bool) -> URL:
    """A read-only engine opens the file through a ``mode=ro`` URI."""
    if not read_only:
        return url
    return url.set(database=f"file:{url.database or ''}?mode=ro", query={"uri": "true"})


def connect_args(read_only: bool) -> dict[str, Any]:
    """How long to wait for a locked file."""
    return {"timeout": CONNECT_TIMEOUT_S}


async def server_version(conn: AsyncConnection) -> str:
    """E.g. "SQLite 3.45.1"."""
    return f"SQLite {(await conn.execute(sa.text('SELECT sqlite_version()'))).scalar_one()}"


# --- the authorizer ---------------------------------------------------------------------------

_ALLOWED = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
SAFE_PRAGMAS = frozenset({"table_info", "table_xinfo", "index_list", "index_info", "index_xinfo",
                          "foreign_key_list", "table_list", "database_list", "compile_options"})
DENIED_FUNCTIONS = frozenset({"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"})


def sqlite_read_authorizer(action: int, arg1: str | None, arg2: str | None, db: str | None,
                           trigger: str | None) -> int:
    """sqlite3 authorizer: reads, reflection PRAGMAs and safe functions only."""
    if action == sqlite3.SQLITE_PRAGMA:
        # arg2 is the pragma's argument: a table or index name for these read-only pragmas.
        return sqlite3.SQLITE_OK if (arg1 or "").lower() in SAFE_PRAGMAS else sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION:
        return sqlite3.SQLITE_DENY if (arg2 or "").lower() in DENIED_FUNCTIONS else sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_TRANSACTION:
        return sqlite3.SQLITE_OK  # BEGIN/COMMIT of the driver itself; writes are denied below
    return sqlite3.SQLITE_OK if action in _ALLOWED else sqlite3.SQLITE_DENY


def install_read_authorizer(dbapi_connection: Any, _: Any) -> None:
    """SQLAlchemy ``connect`` listener that installs :func:`sqlite_read_authorizer`.

    aiosqlite owns its sqlite3 connection in a worker thread, so the authorizer is installed
    through aiosqlite (in that thread); this hook runs inside SQLAlchemy's greenlet, where
    ``await_`` may wait for it. A plain sqlite3 connection (a sync engine) is set directly.
    """
    driver = getattr(dbapi_connection, "driver_connection", dbapi_connection)
    if isinstance(driver, sqlite3.Connection):
        driver.set_authorizer(sqlite_read_authorizer)
    elif isinstance(driver, aiosqlite.Connection):
        await_(driver.set_authorizer(sqlite_read_authorizer))
    else:
        raise TypeError(f"cannot install the SQLite read-only authorizer on {type(driver).__name__}")


# --- execution --------------------------------------------------------------------------------

def is_connection_error(exc: BaseException) -> bool:
    """Only a lost file handle: sqlite3's own errors are about the statement."""
    return is_transport_error(exc)


async def run(conn: aiosqlite.Connection, sql: str, limit: int, timeout_s: float) -> Fetched:
    """Run ``sql`` under a progress handler that interrupts it at ``timeout_s``, fetching at most ``limit`` rows.

    One trip to the connection's thread does it all (handler, statement, fetch, close): each trip is a hand-off
    between that thread and the event loop, and under load every hand-off waits for the loop's turn."""
    try:
        description, rows = await in_connection_thread(conn, _run_here, sql, limit, time.monotonic() + timeout_s)
    except sqlite3.OperationalError as exc:
        if "interrupt" in str(exc).lower():
            raise Interrupted() from None
        raise Rejected(str(exc)) from None
    except sqlite3.Error as exc:
        raise Rejected(str(exc)) from None
    columns = [column_from_values(d[0], [r[i] for r in rows]) for i, d in enumerate(description)]
    return Fetched(columns, [tuple(r) for r in rows])


async def in_connection_thread(conn: aiosqlite.Connection, function: Callable[..., T], *args: Any) -> T:
    """``function(sqlite3_connection, *args)`` run in the thread that owns ``conn``'s sqlite3 connection.

    aiosqlite runs every call of its API this way, one trip each; it has no public way to run several in one
    trip, so this uses its queue (``_execute``) and its connection (``_conn``), unchanged since aiosqlite 0.17
    and covered by every SQLite test of the executor."""
    database = conn._conn
    result: T = await conn._execute(function, database, *args)
    return result


def _run_here(database: sqlite3.Connection, sql: str, limit: int,
              deadline: float) -> tuple[tuple[Any, ...], list[Any]]:
    def past_deadline() -> int:
        return 1 if time.monotonic() > deadline else 0

    database.set_progress_handler(past_deadline, PROGRESS_OPS)
    try:
        cursor = database.execute(sql)
        try:
            rows = cursor.fetchmany(limit) if limit else []
            return tuple(cursor.description or ()), rows
        finally:
            cursor.close()
    finally:
        database.set_progress_handler(None, 0)  # type: ignore[arg-type]  # None removes the handler


async def stream(conn: aiosqlite.Connection, sql: str, timeout_s: float,
                 chunk_rows: int) -> AsyncGenerator[Fetched, None]:
    """Run ``sql`` under a progress handler that interrupts it at ``timeout_s`` (reading included), yielding its
    rows ``chunk_rows`` at a time; the columns are typed by the first chunk's values."""
    deadline = time.monotonic() + timeout_s

    def past_deadline() -> int:
        return 1 if time.monotonic() > deadline else 0

    await conn.set_progress_handler(past_deadline, PROGRESS_OPS)
    finished = False
    try:
        cursor = await _statement(conn.execute(sql))
        columns: list[ResultColumn] | None = None
        while True:
            rows = [tuple(r) for r in await _statement(cursor.fetchmany(chunk_rows))]
            if columns is None:
                columns = [column_from_values(d[0], [r[i] for r in rows])
                           for i, d in enumerate(cursor.description or ())]
            elif not rows:
                break
            yield Fetched(columns, rows)
            if len(rows) < chunk_rows:
                break
        await cursor.close()
        finished = True
    finally:
        if finished:
            await conn.set_progress_handler(None, 0)  # type: ignore[arg-type]  # None removes the handler


async def _statement(step: Awaitable[Any]) -> Any:
    """``step``'s result; sqlite3's errors as the runners' outcomes (Interrupted at the timeout, else Rejected)."""
    try:
        return await step
    except sqlite3.OperationalError as exc:
        if "interrupt" in str(exc).lower():
            raise Interrupted() from None
        raise Rejected(str(exc)) from None
    except sqlite3.Error as exc:
        raise Rejected(str(exc)) from None


STORAGE_CLASSES: dict[type, str] = {
    bool: "INTEGER", int: "INTEGER", float: "REAL", str: "TEXT", bytes: "BLOB"}
"""Python value types → SQLite storage classes (the type names of result columns); anything else reads as TEXT."""


def column_from_values(name: str, values: list[Any]) -> ResultColumn:
    """SQLite types values, not columns: the column's type is what its values share."""
    # The distinct value types first (one pass in C), then their classes: this runs over every cell of a result.
    types = set(map(type, values))
    types.discard(type(None))
    classes = {STORAGE_CLASSES.get(t, "TEXT") for t in types}
    if not classes:
        return ResultColumn(name, "STRING", "")
    if classes == {"INTEGER", "REAL"}:
        classes = {"REAL"}
    storage = classes.pop() if len(classes) == 1 else "TEXT"
    return result_column(name, storage)


async def cancel(engine: AsyncEngine, driver: Any) -> None:
    """Interrupt the statement running on the connection."""
    await driver.interrupt()


# --- discovery --------------------------------------------------------------------------------

def reflection_extras(conn: Connection, table: str) -> ReflectionExtras:
    """Declared types, foreign-key actions and inline unique constraints, from PRAGMAs."""
    quoted = conn.dialect.identifier_preparer.quote_identifier(table)
    declared = {row[1]: str(row[2] or "") for row in conn.exec_driver_sql(f"PRAGMA table_xinfo({quoted})")}
    grouped: dict[int, list[Any]] = {}
    for row in conn.exec_driver_sql(f"PRAGMA foreign_key_list({quoted})"):
        grouped.setdefault(row[0], []).append(row)
    actions = {}
    for rows in grouped.values():
        rows.sort(key=lambda r: r[1])
        actions[tuple(r[3] for r in rows)] = (str(rows[0][6]), str(rows[0][5]))
    uniques = []
    for row in conn.exec_driver_sql(f"PRAGMA index_list({quoted})").fetchall():
        if row[3] == "u":  # created by a UNIQUE constraint rather than CREATE INDEX
            index = conn.dialect.identifier_preparer.quote_identifier(row[1])
            columns = [r[2] for r in sorted(conn.exec_driver_sql(f"PRAGMA index_info({index})"), key=lambda r: r[0])]
            uniques.append({"name": row[1], "column_names": columns})
    return ReflectionExtras(declared, actions, tuple(uniques))


GUARD = GuardRules(
    safe_function_names=COMMON_FUNCTION_NAMES | {
        "total", "julianday", "strftime", "unixepoch", "printf", "format", "ifnull", "iif", "typeof",
        "char", "unicode", "hex", "quote", "likely", "unlikely", "glob", "like", "json", "json_extract",
        "json_array_length", "json_type", "json_valid", "trunc", "pi",
    },
    system_schemas=frozenset({"temp"}),
    system_table_prefixes=("sqlite_", "pragma_"),
    default_schemas=frozenset({"main"}),
    derived_tables_need_alias=False,
    quoted_unknown_is_string=True,
)

SUPPORT = DialectSupport(
    dialect=Dialect.SQLITE,
    engine_url=engine_url,
    connect_args=connect_args,
    server_pool=False,
    server_version=server_version,
    on_read_only_connect=install_read_authorizer,
    runner=run,
    streamer=stream,
    cancel=cancel,
    is_connection_error=is_connection_error,
    counts_exactly=True,
    reflection_extras=reflection_extras,
    guard=GUARD,
)
