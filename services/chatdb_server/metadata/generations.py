"""How every replica learns that a data source changed: the source's generation.

Each change an answer depends on bumps ``data_sources.generation`` inside the transaction that
makes it: tables marked trained (a training job's commit) or untrained, a golden example added or
removed, a schema refresh or update, a column or row policy created or deleted. The bump becomes
visible exactly when the change does, in every process sharing the metadata store.

A process that keeps something of a source (its schema context, its in-process copy of the
source's vectors) remembers the :class:`SourceVersion` it was built at (which source, by row and
creation time, and its generation), reads the current one per ask and rebuilds what differs.
The read is one indexed single-row ``SELECT`` without a transaction
(:meth:`chatdb_server.metadata.db.MetadataStore.read_first`), 0.2-0.4 ms. Unlike a notification
(PostgreSQL's LISTEN/NOTIFY) it works on every store, SQLite too, and cannot be missed: a replica
whose connection dropped simply reads the newer number on its next ask.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatdb_server.metadata.models import DataSourceRow, as_utc


@dataclass(frozen=True)
class SourceVersion:
    """Which state of which source something was built from."""

    pk: int
    created: datetime
    """With ``pk``, which source this is: a source deleted and created again under the same id is another
    source, and SQLite may even give it the same row id."""
    generation: int
    """How many changes an answer depends on the source has seen."""

    def same_source(self, other: SourceVersion) -> bool:
        """Whether ``other`` is a version of the same source (not one deleted and created again)."""
        return (self.pk, self.created) == (other.pk, other.created)

    @classmethod
    def of(cls, row: Sequence[Any]) -> SourceVersion:
        """The version in a row of :data:`VERSION_QUERY`."""
        return cls(pk=row[0], created=as_utc(row[1]), generation=row[2])


async def bump_generation(session: AsyncSession, source_pk: int) -> None:
    """Count one change of the source in ``session``'s transaction (visible when it commits)."""
    await session.execute(update(DataSourceRow).where(DataSourceRow.pk == source_pk)
                          .values(generation=DataSourceRow.generation + 1)
                          .execution_options(synchronize_session=False))


VERSION_QUERY = select(DataSourceRow.pk, DataSourceRow.create_time, DataSourceRow.generation).where(
    DataSourceRow.tenant == bindparam("tenant"), DataSourceRow.source_id == bindparam("source_id"))
"""The version of the source ``source_id`` of ``tenant`` (no row when there is none): see :meth:`SourceVersion.of`.
Built once: building a statement per question would cost as much as running it."""
