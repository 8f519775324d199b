"""Read-only execution of (guarded) SQL on a target database.

Read-only by construction for each dialect, not only by the guard's parsing:

- PostgreSQL: a ``BEGIN READ ONLY`` transaction with ``SET LOCAL statement_timeout``, the
  query sent through the extended protocol (one statement only, no stacking), always
  rolled back; the server cancels the query at the timeout.
- MySQL/MariaDB: the session's ``max_statement_time`` (MariaDB) or ``max_execution_time``
  (MySQL), then ``START TRANSACTION READ ONLY``, always rolled back; the driver does not
  enable multi-statements; the server interrupts the query at the timeout.
- SQLite: the file opened ``mode=ro`` with an authorizer and a progress handler that
  interrupts the statement at the timeout; sqlite3 runs one statement per call.

Each dialect's runner and backstop live in its module of ``chatdb_server.sql.dialects``.

Rows are fetched ``max_rows + 1`` at a time to tell whether the cap cut the result. One
pooled read-only engine per source. If a driver ever outlives the database-side timeout,
a client-side backstop cancels the statement in the database and discards the connection.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from chatdb_server import tracing
from chatdb_server.errors import ChatDBError
from chatdb_server.log import get_logger
from chatdb_server.sql.dialects import support
from chatdb_server.sql.dialects.running import Fetched, Interrupted, Rejected
from chatdb_server.sql.dsn import Dialect, ParsedDsn
from chatdb_server.sql.engines import CONNECT_TIMEOUT_S, create_engine
from chatdb_server.sql.errors import QueryFailed, QueryTimeout, SourceUnreachable
from chatdb_server.sql.structure import SourceRef
from chatdb_server.sql.values import ResultColumn

__all__ = ["QueryExecutor", "ResultColumn", "ResultSet"]

log = get_logger(__name__)

DB_SYSTEMS = {Dialect.POSTGRESQL: "postgresql", Dialect.MYSQL: "mysql", Dialect.SQLITE: "sqlite"}
"""OpenTelemetry's ``db.system`` value for each dialect."""

BACKSTOP_GRACE_S = 2.0
"""How long past the database-side timeout the client waits before cancelling itself."""


@dataclass
class ResultSet:
    """Rows of one query, as Python values in column order."""

    columns: list[ResultColumn]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    truncated: bool = False
    """The query had more than ``max_rows`` rows; only the first ``max_rows`` are here."""
    elapsed_s: float = 0.0


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
        with tracing.db_span(DB_SYSTEMS[source.dsn.dialect], sql, _database_name(source.dsn)):
            return await self._execute(source, sql, max_rows=max_rows, timeout_s=timeout_s)

    async def _execute(self, source: SourceRef, sql: str, *, max_rows: int, timeout_s: float) -> ResultSet:
        started = time.perf_counter()
        engine = await self._engine(source)
        conn = await self._connect(engine, source)
        discard = True
        try:
            driver = (await conn.get_raw_connection()).driver_connection
            fetched = await self._run_with_backstop(source, engine, driver, sql, max_rows + 1, timeout_s)
            discard = False
        except Interrupted:
            discard = False
            raise QueryTimeout(source.name, timeout_s) from None
        except Rejected as exc:
            discard = False
            raise QueryFailed(source.name, _scrub(str(exc), source.dsn)) from None
        finally:
            if discard:
                await _invalidate(conn)
            await _close(conn)
        truncated = len(fetched.rows) > max_rows
        return ResultSet(columns=fetched.columns, rows=fetched.rows[:max_rows], truncated=truncated,
                         elapsed_s=time.perf_counter() - started)

    async def stream(self, source: SourceRef, sql: str, *, timeout_s: float,
                     chunk_rows: int) -> AsyncGenerator[Fetched, None]:
        """Run ``sql`` read-only on ``source`` and yield its rows in chunks of up to ``chunk_rows`` (with the
        columns; the first chunk comes even when there are no rows), read through a server-side cursor so
        that memory stays flat whatever the result's size.

        The whole read is bounded by ``timeout_s`` (the database's statement timeout, and the backstop past
        it). Closed early (the consumer stopped, or its task was cancelled) the statement is cancelled in the
        database and the connection discarded. Raises like :meth:`execute`. Use it inside
        ``contextlib.aclosing`` so that an early end cancels at once."""
        if timeout_s <= 0 or chunk_rows <= 0:
            raise ValueError("timeout_s and chunk_rows must be > 0")
        with tracing.db_span(DB_SYSTEMS[source.dsn.dialect], sql, _database_name(source.dsn)):
            engine = await self._engine(source)
            conn = await self._connect(engine, source)
            settled = False  # the statement ended (read to its end, or refused by the database)
            driver: Any = None
            try:
                driver = (await conn.get_raw_connection()).driver_connection
                chunks = support(source.dialect).streamer(driver, sql, timeout_s, chunk_rows)
                deadline = asyncio.get_running_loop().time() + timeout_s + self._grace
                async with aclosing(chunks):
                    while True:
                        try:
                            async with asyncio.timeout_at(deadline):
                                fetched = await anext(chunks)
                        except StopAsyncIteration:
                            break
                        except TimeoutError:
                            raise QueryTimeout(source.name, timeout_s) from None
                        except Interrupted:
                            settled = True
                            raise QueryTimeout(source.name, timeout_s) from None
                        except Rejected as exc:
                            settled = True
                            raise QueryFailed(source.name, _scrub(str(exc), source.dsn)) from None
                        except ChatDBError:
                            raise
                        except Exception as exc:
                            raise _classify(exc, source) from None
                        yield fetched
                settled = True
            finally:
                if not settled:
                    if driver is not None:
                        await _cancel_in_database(source, engine, driver)
                    await _invalidate(conn)
                await _close(conn)

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
        except ChatDBError:  # the source may no longer be reached (admission, checked on every connect)
            raise
        except Exception as exc:  # every way of failing to get a session means the source is not usable
            detail = _scrub(f"{type(exc).__name__}: {_first_line(exc)}", source.dsn)
            log.warning("source_unreachable", data_source=source.name, error=detail)
            raise SourceUnreachable(source.name, detail) from None

    async def _run_with_backstop(self, source: SourceRef, engine: AsyncEngine, driver: Any, sql: str, limit: int,
                                 timeout_s: float) -> Fetched:
        task = asyncio.ensure_future(support(source.dialect).runner(driver, sql, limit, timeout_s))
        try:
            return await asyncio.wait_for(asyncio.shield(task), timeout_s + self._grace)
        except TimeoutError:
            await _cancel_in_database(source, engine, driver)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            raise QueryTimeout(source.name, timeout_s) from None
        except (Rejected, Interrupted):
            raise
        except Exception as exc:
            raise _classify(exc, source) from None


def _classify(exc: BaseException, source: SourceRef) -> Exception:
    """A driver error that escaped a runner: a lost connection, or something the database said."""
    detail = _scrub(f"{type(exc).__name__}: {_first_line(exc)}", source.dsn)
    if support(source.dialect).is_connection_error(exc):
        log.warning("source_connection_lost", data_source=source.name, error=detail)
        return SourceUnreachable(source.name, detail)
    return QueryFailed(source.name, _scrub(_first_line(exc), source.dsn))


async def _cancel_in_database(source: SourceRef, engine: AsyncEngine, driver: Any) -> None:
    """The backstop: stop the statement in the database before the connection is thrown away."""
    try:
        await support(source.dialect).cancel(engine, driver)
    except Exception as exc:  # the connection is discarded either way
        log.warning("backstop_cancel_failed", dialect=source.dialect.value, error=type(exc).__name__)


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


def _database_name(dsn: ParsedDsn) -> str:
    """The database's name for a span: PostgreSQL's and MySQL's; none for SQLite (a file path)."""
    return "" if dsn.dialect is Dialect.SQLITE else str(dsn.url.database or "")


def _scrub(text: str, dsn: ParsedDsn) -> str:
    password = dsn.url.password
    return text.replace(str(password), "***") if password else text


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
