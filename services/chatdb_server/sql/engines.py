"""Async SQLAlchemy engines for target databases.

Two kinds per source: a discovery engine (reflection and samples) and a query
engine (guarded SQL). Both connect read-only where the dialect has such a mode:
SQLite files are opened ``mode=ro`` with an authorizer; PostgreSQL sessions default
to read-only transactions; MySQL/MariaDB sessions to ``READ ONLY`` transactions. How
is each dialect's business (``chatdb_server.sql.dialects``).

Every connection an engine opens first runs the DSN's ``connect_check`` (the admission
rules, again: a host name may resolve elsewhere by now), then gets the driver arguments
the DSN's parameters ask for: the ``ssl`` context (``target_tls``) and MySQL's charset.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.util import await_

from chatdb_server.sql.dialects import CONNECT_TIMEOUT_S, support
from chatdb_server.sql.dialects.sqlite import sqlite_read_authorizer
from chatdb_server.sql.dsn import Dialect, ParsedDsn
from chatdb_server.sql.target_tls import mysql_ssl_argument, postgres_ssl_argument, refuse_plaintext_mysql

__all__ = ["CONNECT_TIMEOUT_S", "create_engine", "driver_arguments", "sqlite_read_authorizer"]

FILE_POOL_SIZE = 16
"""Connections a file database's pool keeps open. Each aiosqlite connection is a thread of its own; a
smaller pool under many clients opened and closed one (a thread and the admission check) per query."""
FILE_POOL_OVERFLOW = 16
"""Connections opened beyond the pool under a burst, closed when returned."""


def create_engine(dsn: ParsedDsn, *, read_only: bool = True, pool: bool = True) -> AsyncEngine:
    """An async engine for ``dsn`` with a connect timeout, read-only by default."""
    dialect = support(dsn.dialect)
    url = dialect.engine_url(dsn.async_url, read_only)
    # A server's connections are pinged at checkout; a file's are not: a file handle does not time out as a
    # socket does, and the ping was a second trip to the connection's thread per query.
    kwargs: dict[str, Any] = {"pool_pre_ping": dialect.server_pool}
    if not pool:
        kwargs["poolclass"] = NullPool
    elif dialect.server_pool:
        kwargs.update(pool_size=5, max_overflow=10, pool_recycle=1800)
    else:
        kwargs.update(pool_size=FILE_POOL_SIZE, max_overflow=FILE_POOL_OVERFLOW)
    engine = create_async_engine(url, connect_args=dialect.connect_args(read_only), **kwargs)
    _before_each_connection(engine, dsn)
    if dsn.dialect is Dialect.MYSQL and dsn.params.tls.mode.insists:
        event.listen(engine.sync_engine, "connect", lambda conn, _: refuse_plaintext_mysql(conn, dsn.params.tls))
    if read_only and dialect.on_read_only_connect is not None:
        event.listen(engine.sync_engine, "connect", dialect.on_read_only_connect)
    return engine


def driver_arguments(dsn: ParsedDsn) -> dict[str, Any]:
    """Connect arguments the DSN's parameters ask for; built per connection, so certificate files are read then."""
    if dsn.dialect is Dialect.POSTGRESQL:
        ssl = postgres_ssl_argument(dsn.params.tls)
        return {} if ssl is None else {"ssl": ssl}
    if dsn.dialect is Dialect.MYSQL:
        arguments: dict[str, Any] = {}
        context = mysql_ssl_argument(dsn.params.tls)
        if context is not None:
            arguments["ssl"] = context
        if dsn.params.charset:
            arguments["charset"] = dsn.params.charset
        return arguments
    return {}


def _before_each_connection(engine: AsyncEngine, dsn: ParsedDsn) -> None:
    """The admission check and the driver arguments, each time the pool opens a connection."""
    check = dsn.connect_check

    def prepare(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        if check is not None:
            await_(check(dsn))  # in SQLAlchemy's greenlet: the resolver's awaits run on the event loop
        cparams.update(driver_arguments(dsn))

    event.listen(engine.sync_engine, "do_connect", prepare)
