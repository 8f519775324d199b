"""Short-lived read-only connections to a target database, and what a refusal means.

Schema work (connection tests, discovery) opens its own small engine, so one
discovery reuses its connections across tables, and disposes of it when done.
Every failure to reach or read the database becomes one FAILED_PRECONDITION with
reason SOURCE_UNREACHABLE carrying the driver's own reason, scrubbed of the password:
a refused certificate, a server without the TLS the DSN insists on, a lost socket. The
admission rules an engine runs before each connection (``admission``) raise their own
PERMISSION_DENIED, which passes through unchanged.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from chatdb_server.errors import FailedPrecondition
from chatdb_server.log import redact_url_passwords
from chatdb_server.sql.dialects import support
from chatdb_server.sql.dsn import Dialect, ParsedDsn
from chatdb_server.sql.engines import create_engine
from chatdb_server.sql.errors import REACH_ERRORS

SOURCE_UNREACHABLE = "SOURCE_UNREACHABLE"
MAX_REASON_CHARS = 500


@dataclass(frozen=True)
class ConnectionReport:
    """The outcome of a successful connection test."""

    dialect: Dialect
    server_version: str
    latency_s: float
    """Round trip of one trivial query on the fresh connection."""


def driver_reason(error: BaseException, dsn: ParsedDsn) -> str:
    """The driver's own explanation of ``error``, without the DSN's password."""
    cause = getattr(error, "orig", None) or error
    reason = str(cause).strip() or type(cause).__name__
    reason = reason.split("\n[SQL:", 1)[0].split("\n(Background on this error", 1)[0].strip()
    reason = redact_url_passwords(reason)
    password = dsn.url.password
    if password:
        reason = reason.replace(str(password), "***")
    return reason[:MAX_REASON_CHARS]


def unreachable(dsn: ParsedDsn, error: BaseException) -> FailedPrecondition:
    """The status for a database that cannot be reached or read."""
    return FailedPrecondition(f"cannot connect to {dsn.redacted}: {driver_reason(error, dsn)}", SOURCE_UNREACHABLE,
                              {"dialect": dsn.dialect.name.lower()})


@asynccontextmanager
async def open_engine(dsn: ParsedDsn) -> AsyncIterator[AsyncEngine]:
    """A read-only engine for one piece of schema work, disposed afterwards."""
    engine = create_engine(dsn, read_only=True, pool=True)
    try:
        yield engine
    finally:
        await engine.dispose()


async def server_version(conn: AsyncConnection, dialect: Dialect) -> str:
    """The server's version string, e.g. "PostgreSQL 15.19" or "10.11.19-MariaDB"."""
    return await support(dialect).server_version(conn)


async def probe_connection(dsn: ParsedDsn) -> ConnectionReport:
    """Connect, time one trivial query and read the server version; SOURCE_UNREACHABLE on failure."""
    try:
        async with open_engine(dsn) as engine, engine.connect() as conn:
            started = time.perf_counter()
            await conn.execute(text("SELECT 1"))
            latency = time.perf_counter() - started
            version = await server_version(conn, dsn.dialect)
    except REACH_ERRORS as error:
        raise unreachable(dsn, error) from None
    return ConnectionReport(dsn.dialect, version, latency)
