"""Group commit: the small writes of concurrent calls (history, audit, result cache) in one transaction.

Every ask writes three rows. One transaction each costs a begin, a commit and, on SQLite, the file's
single write lock, so under load the writers queued behind the lock instead of the work; with 32
callers some waited past the busy timeout and failed. Here a caller hands in its statements and
returns once the transaction that holds them has committed (so an audited call is still answered only
after its event is stored), while the writes of everyone who arrived meanwhile share that transaction.

One flusher task runs while writes are waiting and ends when none are. It is not the caller's task, so
a caller that is cancelled while waiting does not cancel a transaction that holds other callers'
writes; its own write is still made. When a shared transaction fails, each write is tried alone, so
one bad statement fails only its own caller.

Writes that replace one row (an upsert: the result cache's entry of one query) name that row with a
``replaces`` key. A shared transaction makes only the last write of each such row, and takes the rows in
key order after the plain inserts: two replicas' transactions then lock shared rows in the same order and
cannot deadlock (PostgreSQL broke such deadlocks after a second, failing both batches).

A transaction once begun always ends (committed or rolled back) before the flusher stops, even when
the flusher itself is cancelled at shutdown: a connection abandoned inside ``BEGIN IMMEDIATE`` would
keep SQLite's write lock from every later writer. :meth:`GroupCommit.drain` lets the store's close
wait for the writes already handed in.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.sql import Executable

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

Statement = Executable | tuple[Executable, Mapping[str, Any]]
"""A statement, or a constant statement with its parameters: a statement built once is compiled once, where one
built per call with its values is traversed for SQLAlchemy's compiled-cache key on every call."""

MAX_BATCH = 256
"""Writes in one transaction at most; the rest wait for the next."""


@dataclass
class _Write:
    statements: Sequence[Statement]
    replaces: str | None = None
    done: asyncio.Future[None] = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    def settle(self, error: BaseException | None = None) -> None:
        if self.done.done():  # its caller was cancelled while waiting
            return
        if error is None:
            self.done.set_result(None)
        else:
            self.done.set_exception(error)


class GroupCommit:
    """Commits the statements of concurrent callers together."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._waiting: list[_Write] = []
        self._flusher: asyncio.Task[None] | None = None

    async def write(self, *statements: Statement, replaces: str | None = None) -> None:
        """Run ``statements`` in a transaction shared with other callers' writes; return once it has
        committed, or raise what made this caller's statements fail. ``replaces`` names the one row the
        statements overwrite whole, when they do: a later write of that row in the same transaction
        supersedes this one."""
        write = _Write(statements, replaces)
        self._waiting.append(write)
        if self._flusher is None:
            # A fresh context: the flusher works for every caller, so it carries no caller's trace or principal.
            self._flusher = asyncio.get_running_loop().create_task(self._flush(), context=contextvars.Context())
        await write.done

    async def _flush(self) -> None:
        batch: list[_Write] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
                commit = asyncio.ensure_future(self._commit(batch))
                try:
                    await asyncio.shield(commit)
                except asyncio.CancelledError:
                    await commit  # the transaction in flight ends, committed or rolled back, before shutdown
                    raise
                batch = []
        except BaseException as error:  # cancelled at shutdown: nobody may wait for ever
            for write in [*batch, *self._waiting]:
                write.settle(error if isinstance(error, Exception) else ConnectionError("the metadata store closed"))
            self._waiting = []
            raise
        finally:
            self._flusher = None

    async def drain(self) -> None:
        """Return once every write handed in so far has been committed or failed."""
        while (flusher := self._flusher) is not None:
            await asyncio.wait([flusher])

    async def _commit(self, batch: list[_Write]) -> None:
        try:
            await self._transaction(batch)
        except Exception as error:
            if len(batch) == 1:
                batch[0].settle(error)
                return
            for write in batch:  # find whose statement failed: each alone
                try:
                    await self._transaction([write])
                except Exception as own:
                    write.settle(own)

    async def _transaction(self, batch: list[_Write]) -> None:
        async with self._engine.begin() as connection:
            for write in _in_lock_order(batch):
                for statement in write.statements:
                    if isinstance(statement, tuple):
                        await connection.execute(statement[0], dict(statement[1]))
                    else:
                        await connection.execute(statement)
        for write in batch:
            write.settle()


def _in_lock_order(batch: list[_Write]) -> list[_Write]:
    """The writes to make, in the order that keeps concurrent transactions from deadlocking: the plain ones
    as they came, then the last write of each replaced row, by row key."""
    plain = [write for write in batch if write.replaces is None]
    last = {write.replaces: write for write in batch if write.replaces is not None}
    return plain + [last[key] for key in sorted(last)]
