"""Async SQLAlchemy engines for target databases.

Two kinds per source: a discovery engine (reflection and samples) and a query
engine (guarded SQL). Both connect read-only where the dialect has such a mode:
SQLite files are opened ``mode=ro`` with an authorizer; PostgreSQL sessions default
to read-only transactions; MySQL/MariaDB sessions to ``READ ONLY`` transactions. How
is each dialect's business (``chatdb_server.sql.dialects``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from chatdb_server.sql.dialects import CONNECT_TIMEOUT_S, support
from chatdb_server.sql.dialects.sqlite import sqlite_read_authorizer
from chatdb_server.sql.dsn import ParsedDsn

__all__ = ["CONNECT_TIMEOUT_S", "create_engine", "sqlite_read_authorizer"]


def create_engine(dsn: ParsedDsn, *, read_only: bool = True, pool: bool = True) -> AsyncEngine:
    """An async engine for ``dsn`` with a connect timeout, read-only by default."""
    dialect = support(dsn.dialect)
    url = dialect.engine_url(dsn.async_url, read_only)
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if not pool:
        kwargs["poolclass"] = NullPool
    elif dialect.server_pool:
        kwargs.update(pool_size=5, max_overflow=10, pool_recycle=1800)
    engine = create_async_engine(url, connect_args=dialect.connect_args(read_only), **kwargs)
    if read_only and dialect.on_read_only_connect is not None:
        event.listen(engine.sync_engine, "connect", dialect.on_read_only_connect)
    return engine
