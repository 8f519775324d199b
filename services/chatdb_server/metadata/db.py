"""The metadata engine: connection, sessions, single reads on the hot path, and migrations to head at start-up."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.sql import Executable

from chatdb_server.metadata.group_commit import GroupCommit, Statement
from chatdb_server.metadata.models import as_utc, utcnow

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
MIGRATION_LOCK_KEY = 0x63686174  # "chat": the advisory lock taken while migrating


class MetadataStore:
    """Owns the async engine and session factory of the metadata database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, object] = {"pool_pre_ping": True}
        if not self.is_sqlite:
            kwargs.update(pool_size=10, max_overflow=20)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        # Reads on the hot path: no liveness ping per checkout and, on PostgreSQL, no transaction around
        # the statement, so one read is one round trip (a session costs four).
        reads: dict[str, object] = {"pool_pre_ping": False}
        if not self.is_sqlite:
            reads.update(pool_size=4, max_overflow=16, isolation_level="AUTOCOMMIT")
        else:
            # Each aiosqlite connection is a thread: a pool that kept fewer than the concurrent reads opened
            # and closed one (and its thread) per read under load.
            reads.update(pool_size=16, max_overflow=16)
        self._reads: AsyncEngine = create_async_engine(url, **reads)
        if self.is_sqlite:
            for engine in (self.engine, self._reads):
                event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin_immediate)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._group = GroupCommit(self.engine)

    async def migrate(self) -> None:
        """Upgrade the schema to the newest migration.

        On PostgreSQL an advisory lock serialises replicas that start together, so
        exactly one runs each migration and the others find the schema at head."""
        async with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            await conn.run_sync(_upgrade)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction, committed on success and rolled back on error."""
        async with self.sessions() as session, session.begin():
            yield session

    async def write_together(self, *statements: Statement, replaces: str | None = None) -> None:
        """Run ``statements`` in one transaction shared with other callers' small writes (see
        :mod:`group_commit`): the way the hot path writes its history, audit and cache rows. ``replaces``
        names the row an upsert overwrites whole."""
        await self._group.write(*statements, replaces=replaces)

    async def read_first(self, statement: Executable,
                         parameters: Mapping[str, Any] | None = None) -> tuple[Any, ...] | None:
        """The first row of one read-only ``statement``, outside any transaction: for small reads made on
        every call (0.2-0.4 ms on PostgreSQL where a session takes about 1 ms). A pooled connection
        found dead (the server restarted) is replaced and the read made once more."""
        try:
            return await self._read_once(statement, parameters)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
        return await self._read_once(statement, parameters)

    async def _read_once(self, statement: Executable,
                         parameters: Mapping[str, Any] | None) -> tuple[Any, ...] | None:
        async with self._reads.connect() as conn:
            row = (await conn.execute(statement, dict(parameters or {}))).first()
        return None if row is None else tuple(row)

    async def clock(self) -> datetime:
        """Now, by the database's clock on PostgreSQL (replicas on hosts whose clocks disagree stamp and
        compare times by one clock); by this host's on SQLite, whose file one host shares."""
        if self.is_sqlite:
            return utcnow()
        async with self.session() as session:
            return as_utc((await session.execute(select(func.now()))).scalar_one())

    async def ping(self) -> None:
        """Raise when the store is unreachable."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        """Finish the writes handed in, then dispose of the pools."""
        await self._group.drain()
        await self._reads.dispose()
        await self.engine.dispose()


def _upgrade(connection: Connection) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _sqlite_pragmas(dbapi_connection: object, _: object) -> None:
    # The driver's own transaction handling begins a transaction only at the first write, so the reads
    # of a session before it saw no snapshot and a read-then-write lost updates; SQLAlchemy now says
    # when a transaction begins (see _sqlite_begin_immediate).
    dbapi_connection.isolation_level = None  # type: ignore[attr-defined]
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _sqlite_begin_immediate(connection: Connection) -> None:
    """A session on SQLite takes the write lock when it begins: one writer at a time, the others wait for
    it (busy_timeout) instead of failing. A deferred transaction that reads and then writes fails at
    once with "database is locked" when another writer committed in between, since its snapshot is
    stale and waiting cannot help; with the lock taken first, every read of the session sees the
    newest data and a read-then-write never loses an update."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")
