"""Read-only execution of (guarded) SQL on a target database.

Read-only by construction for each dialect, not only by the guard's parsing:

- PostgreSQL: a ``BEGIN READ ONLY`` transaction with ``SET LOCAL statement_timeout``, the
  query sent through the extended protocol (one statement only, no stacking), always
  rolled back; the server cancels the query at the timeout.
- MySQL/MariaDB: the session's ``max_statement_time`` (MariaDB) or ``max_execution_time``
  (MySQL), then ``START TRANSACTION READ ONLY``, always rolled back; the driver does not
  enable multi-statements; the server interrupts the query at the timeout.
- SQLite: the file opened ``mode=ro`` with an authorizer (see ``chatdb_server.sql.engines``)
  and a progress handler that interrupts the statement at the timeout; sqlite3 runs one
  statement per call.

Rows are fetched ``max_rows + 1`` at a time to tell whether the cap cut the result. One
pooled read-only engine per source. If a driver ever outlives the database-side timeout,
a client-side backstop cancels the statement in the database and discards the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiomysql
import aiosqlite
import asyncpg
import pymysql
from pymysql.constants import FIELD_TYPE
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from chatdb_server.log import get_logger
from chatdb_server.sql.dsn import Dialect, ParsedDsn
from chatdb_server.sql.engines import CONNECT_TIMEOUT_S, create_engine
from chatdb_server.sql.errors import QueryFailed, QueryTimeout, SourceUnreachable
from chatdb_server.sql.structure import SourceRef
from chatdb_server.sql.values import ResultColumn, value_type_for_database_type

__all__ = ["QueryExecutor", "ResultColumn", "ResultSet"]

log = get_logger(__name__)

BACKSTOP_GRACE_S = 2.0
"""How long past the database-side timeout the client waits before cancelling itself."""
_SQLITE_PROGRESS_OPS = 1000
_MYSQL_CONNECTION_LOST = {2003, 2006, 2013, 2055}
_MYSQL_INTERRUPTED = {1317, 1969, 3024}  # KILL QUERY, MariaDB max_statement_time, MySQL max_execution_time


@dataclass
class ResultSet:
    """Rows of one query, as Python values in column order."""

    columns: list[ResultColumn]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    truncated: bool = False
    """The query had more than ``max_rows`` rows; only the first ``max_rows`` are here."""
    elapsed_s: float = 0.0


@dataclass
class _Fetched:
    columns: list[ResultColumn]
    rows: list[tuple[Any, ...]]


class _Interrupted(Exception):
    """The database cancelled the statement at its timeout."""


class _Rejected(Exception):
    """The database refused the statement; the argument is its message."""


class QueryExecutor:
    """Runs SQL read-only on target databases, one pooled engine per source."""

    def __init__(self, *, backstop_grace_s: float = BACKSTOP_GRACE_S) -> None:
        self._engines: dict[int, tuple[ParsedDsn, AsyncEngine]] = {}
        self._lock = asyncio.Lock()
        self._grace = backstop_grace_s

    async def execute(self, source: SourceRef, sql: str, *, max_rows: int, timeout_s: float) -> ResultSet:
        """Run ``sql`` on ``source``; at most ``max_rows`` rows, cancelled in the database after ``timeout_s``.

        Raises SourceUnreachable, QueryTimeout (DEADLINE_EXCEEDED) or QueryFailed.
        """
        if max_rows < 0 or timeout_s <= 0:
            raise ValueError("max_rows must be >= 0 and timeout_s > 0")
        started = time.perf_counter()
        engine = await self._engine(source)
        conn = await self._connect(engine, source)
        discard = True
        try:
            driver = (await conn.get_raw_connection()).driver_connection
            fetched = await self._run_with_backstop(source, engine, driver, sql, max_rows + 1, timeout_s)
            discard = False
        except _Interrupted:
            discard = False
            raise QueryTimeout(source.name, timeout_s) from None
        except _Rejected as exc:
            discard = False
            raise QueryFailed(source.name, _scrub(str(exc), source.dsn)) from None
        finally:
            if discard:
                await _invalidate(conn)
            await _close(conn)
        truncated = len(fetched.rows) > max_rows
        return ResultSet(columns=fetched.columns, rows=fetched.rows[:max_rows], truncated=truncated,
                         elapsed_s=time.perf_counter() - started)

    async def dispose_source(self, pk: int) -> None:
        """Close the pool of one source (after its settings changed or it was deleted)."""
        async with self._lock:
            entry = self._engines.pop(pk, None)
        if entry is not None:
            await entry[1].dispose()

    async def close(self) -> None:
        """Close every pool."""
        async with self._lock:
            entries = list(self._engines.values())
            self._engines.clear()
        for _, engine in entries:
            await engine.dispose()

    async def _engine(self, source: SourceRef) -> AsyncEngine:
        async with self._lock:
            entry = self._engines.get(source.pk)
            if entry is not None and entry[0] == source.dsn:
                return entry[1]
            engine = create_engine(source.dsn, read_only=True)
            self._engines[source.pk] = (source.dsn, engine)
        if entry is not None:
            await entry[1].dispose()  # the source's DSN changed since the pool was built
        return engine

    async def _connect(self, engine: AsyncEngine, source: SourceRef) -> AsyncConnection:
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S + 1):
                return await engine.connect()
        except Exception as exc:  # every way of failing to get a session means the source is not usable
            detail = _scrub(f"{type(exc).__name__}: {_first_line(exc)}", source.dsn)
            log.warning("source_unreachable", data_source=source.name, error=detail)
            raise SourceUnreachable(source.name, detail) from None

    async def _run_with_backstop(self, source: SourceRef, engine: AsyncEngine, driver: Any, sql: str, limit: int,
                                 timeout_s: float) -> _Fetched:
        runner = _RUNNERS[source.dialect]
        task = asyncio.ensure_future(runner(driver, sql, limit, timeout_s))
        try:
            return await asyncio.wait_for(asyncio.shield(task), timeout_s + self._grace)
        except TimeoutError:
            await _cancel_in_database(source.dialect, engine, driver)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            raise QueryTimeout(source.name, timeout_s) from None
        except (_Rejected, _Interrupted):
            raise
        except Exception as exc:
            raise _classify(exc, source) from None


# --- PostgreSQL -------------------------------------------------------------------------------

async def _run_postgres(conn: asyncpg.Connection, sql: str, limit: int, timeout_s: float) -> _Fetched:
    transaction = conn.transaction(readonly=True)
    await transaction.start()
    try:
        await conn.execute(f"SET LOCAL statement_timeout = {max(1, round(timeout_s * 1000))}")
        try:
            statement = await conn.prepare(sql)
            columns = [_column(a.name, a.type.name) for a in statement.get_attributes()]
            cursor = await statement.cursor()
            records = await cursor.fetch(limit) if limit else []
        except asyncpg.QueryCanceledError:
            raise _Interrupted() from None
        except asyncpg.PostgresError as exc:
            if _is_connection_error(exc):
                raise
            raise _Rejected(_postgres_message(exc)) from None
        return _Fetched(columns, _normalise([tuple(r) for r in records], columns))
    finally:
        await _quietly(transaction.rollback(), unless=conn.is_closed())


def _postgres_message(exc: asyncpg.PostgresError) -> str:
    detail = getattr(exc, "detail", None)
    return f"{exc}{f' ({detail})' if detail else ''}"


# --- MySQL / MariaDB --------------------------------------------------------------------------

async def _run_mysql(conn: aiomysql.Connection, sql: str, limit: int, timeout_s: float) -> _Fetched:
    async with conn.cursor() as control:
        if "mariadb" in (conn.get_server_info() or "").lower():
            await control.execute(f"SET SESSION max_statement_time = {max(timeout_s, 0.001):.3f}")
        else:
            await control.execute(f"SET SESSION max_execution_time = {max(1, round(timeout_s * 1000))}")
        await control.execute("START TRANSACTION READ ONLY")
        try:
            async with conn.cursor(aiomysql.SSCursor) as cursor:
                try:
                    await cursor.execute(sql)
                    description = cursor.description or ()
                    rows = list(await cursor.fetchmany(limit)) if limit else []
                except pymysql.err.MySQLError as exc:
                    raise _mysql_error(exc) from None
            columns = [_mysql_column(d, [r[i] for r in rows]) for i, d in enumerate(description)]
            return _Fetched(columns, _normalise([tuple(r) for r in rows], columns))
        finally:
            await _quietly(control.execute("ROLLBACK"), unless=conn.closed)


def _mysql_error(exc: pymysql.err.MySQLError) -> Exception:
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
    if code in _MYSQL_INTERRUPTED:
        return _Interrupted()
    if code in _MYSQL_CONNECTION_LOST:
        return exc
    message = exc.args[1] if len(exc.args) > 1 else str(exc)
    return _Rejected(f"({code}) {message}")


_MYSQL_TYPE_NAMES = {
    FIELD_TYPE.TINY: "TINYINT", FIELD_TYPE.SHORT: "SMALLINT", FIELD_TYPE.INT24: "MEDIUMINT",
    FIELD_TYPE.LONG: "INT", FIELD_TYPE.LONGLONG: "BIGINT", FIELD_TYPE.YEAR: "YEAR",
    FIELD_TYPE.FLOAT: "FLOAT", FIELD_TYPE.DOUBLE: "DOUBLE", FIELD_TYPE.DECIMAL: "DECIMAL",
    FIELD_TYPE.NEWDECIMAL: "DECIMAL", FIELD_TYPE.DATE: "DATE", FIELD_TYPE.NEWDATE: "DATE",
    FIELD_TYPE.DATETIME: "DATETIME", FIELD_TYPE.TIMESTAMP: "TIMESTAMP", FIELD_TYPE.TIME: "TIME",
    FIELD_TYPE.JSON: "JSON", FIELD_TYPE.BIT: "BIT", FIELD_TYPE.ENUM: "ENUM", FIELD_TYPE.SET: "SET",
    FIELD_TYPE.VARCHAR: "VARCHAR", FIELD_TYPE.VAR_STRING: "VARCHAR", FIELD_TYPE.STRING: "CHAR",
    FIELD_TYPE.TINY_BLOB: "TINYBLOB", FIELD_TYPE.MEDIUM_BLOB: "MEDIUMBLOB", FIELD_TYPE.LONG_BLOB: "LONGBLOB",
    FIELD_TYPE.BLOB: "BLOB", FIELD_TYPE.GEOMETRY: "GEOMETRY", FIELD_TYPE.NULL: "NULL",
}


def _mysql_column(description: Sequence[Any], values: list[Any]) -> ResultColumn:
    """A column from the driver's description; text and binary share type codes, so values tell them apart."""
    name, type_code = description[0], description[1]
    type_name = _MYSQL_TYPE_NAMES.get(type_code, "")
    if type_code == FIELD_TYPE.TINY and description[3] == 1:
        type_name = "TINYINT(1)"
    column = _column(name, type_name)
    present = [v for v in values if v is not None]
    if column.value_type in ("STRING", "BYTES") and present:
        kind = "BYTES" if all(isinstance(v, bytes | bytearray) for v in present) else "STRING"
        column = ResultColumn(name, kind, type_name)
    return column


# --- SQLite -----------------------------------------------------------------------------------

async def _run_sqlite(conn: aiosqlite.Connection, sql: str, limit: int, timeout_s: float) -> _Fetched:
    deadline = time.monotonic() + timeout_s

    def past_deadline() -> int:
        return 1 if time.monotonic() > deadline else 0

    await conn.set_progress_handler(past_deadline, _SQLITE_PROGRESS_OPS)
    try:
        cursor = await conn.execute(sql)
        try:
            rows = list(await cursor.fetchmany(limit)) if limit else []
            description = cursor.description or ()
        finally:
            await cursor.close()
    except sqlite3.OperationalError as exc:
        if "interrupt" in str(exc).lower():
            raise _Interrupted() from None
        raise _Rejected(str(exc)) from None
    except sqlite3.Error as exc:
        raise _Rejected(str(exc)) from None
    finally:
        await conn.set_progress_handler(None, 0)  # type: ignore[arg-type]  # None removes the handler
    columns = [_sqlite_column(d[0], [r[i] for r in rows]) for i, d in enumerate(description)]
    return _Fetched(columns, [tuple(r) for r in rows])


_SQLITE_STORAGE = ((bool, "INTEGER"), (int, "INTEGER"), (float, "REAL"), (str, "TEXT"), (bytes, "BLOB"))


def _sqlite_column(name: str, values: list[Any]) -> ResultColumn:
    """SQLite types values, not columns: the column's type is what its values share."""
    classes = {next((c for t, c in _SQLITE_STORAGE if isinstance(v, t)), "TEXT") for v in values if v is not None}
    if not classes:
        return ResultColumn(name, "STRING", "")
    if classes == {"INTEGER", "REAL"}:
        classes = {"REAL"}
    storage = classes.pop() if len(classes) == 1 else "TEXT"
    return _column(name, storage)


# --- shared -----------------------------------------------------------------------------------

_RUNNERS: dict[Dialect, Callable[[Any, str, int, float], Awaitable[_Fetched]]] = {
    Dialect.POSTGRESQL: _run_postgres,
    Dialect.MYSQL: _run_mysql,
    Dialect.SQLITE: _run_sqlite,
}


def _column(name: str, database_type: str) -> ResultColumn:
    return ResultColumn(name=name, value_type=value_type_for_database_type(database_type) if database_type else
                        "STRING", database_type=database_type)


def _normalise(rows: list[tuple[Any, ...]], columns: list[ResultColumn]) -> list[tuple[Any, ...]]:
    """JSON documents as Python values, whatever form the driver gave them in."""
    json_positions = [i for i, c in enumerate(columns) if c.value_type == "JSON"]
    if not json_positions:
        return rows
    out = []
    for row in rows:
        cells = list(row)
        for i in json_positions:
            if isinstance(cells[i], str | bytes):
                with contextlib.suppress(ValueError):  # not JSON after all: it travels as the text it is
                    cells[i] = json.loads(cells[i])
        out.append(tuple(cells))
    return out


def _is_connection_error(exc: BaseException) -> bool:
    if isinstance(exc, OSError | ConnectionError | asyncpg.InterfaceError | asyncpg.PostgresConnectionError):
        return True
    if isinstance(exc, asyncpg.PostgresError):
        return str(getattr(exc, "sqlstate", "") or "").startswith(("08", "57P"))
    if isinstance(exc, pymysql.err.MySQLError):
        return bool(exc.args) and exc.args[0] in _MYSQL_CONNECTION_LOST
    return False


def _classify(exc: BaseException, source: SourceRef) -> Exception:
    """A driver error that escaped a runner: a lost connection, or something the database said."""
    detail = _scrub(f"{type(exc).__name__}: {_first_line(exc)}", source.dsn)
    if _is_connection_error(exc):
        log.warning("source_connection_lost", data_source=source.name, error=detail)
        return SourceUnreachable(source.name, detail)
    return QueryFailed(source.name, _scrub(_first_line(exc), source.dsn))


async def _cancel_in_database(dialect: Dialect, engine: AsyncEngine, driver: Any) -> None:
    """The backstop: stop the statement in the database before the connection is thrown away."""
    try:
        if dialect is Dialect.SQLITE:
            await driver.interrupt()
        elif dialect is Dialect.MYSQL:
            async with engine.connect() as other:
                killer: Any = (await other.get_raw_connection()).driver_connection
                async with killer.cursor() as cursor:
                    await cursor.execute(f"KILL QUERY {int(driver.thread_id())}")
        # asyncpg sends the server a cancel request itself when the awaiting task is cancelled
    except Exception as exc:  # the connection is discarded either way
        log.warning("backstop_cancel_failed", dialect=dialect.value, error=type(exc).__name__)


async def _quietly(step: Awaitable[Any], *, unless: bool) -> None:
    """Run a clean-up step that must not hide the error being raised (e.g. ROLLBACK on a dead session)."""
    if unless:
        if asyncio.iscoroutine(step):
            step.close()
        return
    try:
        await step
    except Exception as exc:
        if not _is_connection_error(exc):
            raise


async def _invalidate(conn: AsyncConnection) -> None:
    try:
        await conn.invalidate()
    except Exception as exc:  # already gone
        log.debug("invalidate_failed", error=type(exc).__name__)


async def _close(conn: AsyncConnection) -> None:
    try:
        await conn.close()
    except Exception as exc:  # a dead connection cannot be returned cleanly; the pool replaces it
        log.debug("close_failed", error=type(exc).__name__)


def _scrub(text: str, dsn: ParsedDsn) -> str:
    password = dsn.url.password
    return text.replace(str(password), "***") if password else text


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
