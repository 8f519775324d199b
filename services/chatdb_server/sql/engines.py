"""Async SQLAlchemy engines for target databases.

Two kinds per source: a discovery engine (reflection and samples) and a query
engine (guarded SQL). Both connect read-only where the dialect has such a mode:
SQLite files are opened ``mode=ro``; PostgreSQL sessions default to read-only
transactions; MySQL/MariaDB sessions to ``READ ONLY`` transactions.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.util import await_

from chatdb_server.sql.dsn import Dialect, ParsedDsn

CONNECT_TIMEOUT_S = 5


def create_engine(dsn: ParsedDsn, *, read_only: bool = True, pool: bool = True) -> AsyncEngine:
    """An async engine for ``dsn`` with a connect timeout, read-only by default."""
    url = dsn.async_url
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    connect_args: dict[str, Any] = {}
    if dsn.dialect is Dialect.SQLITE:
        path = url.database or ""
        if read_only:
            url = url.set(database=f"file:{path}?mode=ro", query={"uri": "true"})
        connect_args["timeout"] = CONNECT_TIMEOUT_S
    elif dsn.dialect is Dialect.POSTGRESQL:
        connect_args["timeout"] = CONNECT_TIMEOUT_S
        if read_only:
            connect_args["server_settings"] = {"default_transaction_read_only": "on",
                                               "application_name": "chatdb"}
    else:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
        if read_only:
            connect_args["init_command"] = "SET SESSION TRANSACTION READ ONLY"
    if not pool:
        kwargs["poolclass"] = NullPool
    elif dsn.dialect is not Dialect.SQLITE:
        kwargs.update(pool_size=5, max_overflow=10, pool_recycle=1800)
    engine = create_async_engine(url, connect_args=connect_args, **kwargs)
    if dsn.dialect is Dialect.SQLITE and read_only:
        event.listen(engine.sync_engine, "connect", _sqlite_read_only_guard)
    return engine


def _sqlite_read_only_guard(dbapi_connection: Any, _: Any) -> None:
    """Deny at the engine level what ``mode=ro`` still allows (ATTACH, VACUUM INTO, PRAGMA writes, temp tables).

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


_SQLITE_ALLOWED = {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION,
                   sqlite3.SQLITE_RECURSIVE}
_SQLITE_SAFE_PRAGMAS = {"table_info", "table_xinfo", "index_list", "index_info", "index_xinfo",
                        "foreign_key_list", "table_list", "database_list", "compile_options"}
_SQLITE_DENIED_FUNCTIONS = {"load_extension", "readfile", "writefile", "edit", "fts3_tokenizer"}


def sqlite_read_authorizer(action: int, arg1: str | None, arg2: str | None, db: str | None,
                           trigger: str | None) -> int:
    """sqlite3 authorizer: reads, reflection PRAGMAs and safe functions only."""
    if action == sqlite3.SQLITE_PRAGMA:
        # arg2 is the pragma's argument: a table or index name for these read-only pragmas.
        return sqlite3.SQLITE_OK if (arg1 or "").lower() in _SQLITE_SAFE_PRAGMAS else sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION:
        return sqlite3.SQLITE_DENY if (arg2 or "").lower() in _SQLITE_DENIED_FUNCTIONS else sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_TRANSACTION:
        return sqlite3.SQLITE_OK  # BEGIN/COMMIT of the driver itself; writes are denied below
    return sqlite3.SQLITE_OK if action in _SQLITE_ALLOWED else sqlite3.SQLITE_DENY
