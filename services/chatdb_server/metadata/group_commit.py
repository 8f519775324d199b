"""Group commit: rows that concurrent calls must write before they answer, written together.

Every ask writes an audit event before its reply goes out (nothing audited is served unaudited), so at
32 concurrent asks the metadata store sees 32 one-row transactions at a time. On the embedded SQLite
store those take the one write lock in turn; on PostgreSQL each costs a round trip and a commit.
:class:`GroupInserter` keeps the guarantee and drops the cost: a caller's row joins the next batch, the
batch is inserted in one transaction, and each caller waits for that transaction, so it still learns
whether its own row was written (the commit's error, when there is one, goes to every caller in the
batch). A row that arrives while a batch is being written goes into the next one; a lone caller's batch
starts at once, so one caller waits no longer than before.
"""

from __future__ import annotations

import asyncio
from typing import Any

from chatdb_server.metadata.db import MetadataStore

MAX_BATCH = 500
"""Most rows one transaction inserts; more wait for the next."""


class GroupInserter:
    """Inserts ORM rows in shared transactions; ``add`` returns once the caller's row is committed."""

    def __init__(self, store: MetadataStore, max_batch: int = MAX_BATCH) -> None:
        self._store = store
        self._max_batch = max_batch
        self._pending: list[tuple[Any, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def add(self, row: Any) -> None:
        """Insert ``row``; raises what the transaction that carried it raised."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((row, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_batches(), name="metadata-group-commit")
        await asyncio.shield(done)  # a caller that goes away does not cancel the others' transaction

    async def _write_batches(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:self._max_batch], self._pending[self._max_batch:]
            try:
                async with self._store.session() as session:
                    session.add_all([row for row, _ in batch])
            except BaseException as error:  # every caller of the batch learns its row was not written
                failure = error if isinstance(error, Exception) else RuntimeError("the metadata write was cancelled")
                for _, done in batch:
                    if not done.done():
                        done.set_exception(failure)
                        done.exception()  # retrieved here too: a caller that went away would never read it
                if not isinstance(error, Exception):
                    raise
                continue
            for _, done in batch:
                if not done.done():
                    done.set_result(None)
