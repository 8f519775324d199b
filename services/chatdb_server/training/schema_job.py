"""The SCHEMA job: one embedded document per table, committed all at once.

Stages: FETCH (25) reads the tables' stored structure; ANALYZE (50) gathers descriptions,
joins and value samples and writes each table's document; VECTORIZE (75) embeds the
documents in batches and upserts them under deterministic ids; then the tables are marked
trained with the fingerprint they were trained at, and the job is done (100).

FETCH uses the structure SchemaService stored at its last discovery rather than reading
the target database again: the vectors then describe exactly the structure whose
fingerprint is recorded as trained, so ListTables' TRAINED/STALE stays truthful, drift stays
RefreshSchema's business, and training works while the target database is unreachable.

Columns EXCLUDE policies name are left out of every document (``retrieval.documents.
stored_table_document``), read again at the commit so a policy created while the job ran is
honoured too; :meth:`SchemaTrainer.rebuild` re-documents trained tables in place when a policy
is created.

No half-written vectors: before each batch is upserted, its tables are recorded in the job
as *staged*. Marking tables trained is the commit. On cancel, failure or a crash, the staged
tables that are not trained are deleted (:meth:`SchemaTrainer.roll_back`), so the vector
count of a namespace always equals its number of trained tables. A table that was already
trained keeps its vector (overwritten with the newer document, same id), so the count holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from chatdb_server.access.exclusions import Exclusions
from chatdb_server.errors import NotFound
from chatdb_server.log import get_logger
from chatdb_server.retrieval.documents import stored_table_document
from chatdb_server.retrieval.embeddings import Embedder
from chatdb_server.retrieval.vectors import TableVector, VectorStore
from chatdb_server.sql.structure import JoinEdge, SourceRef, StoredTable
from chatdb_server.training.job_model import Stage, TrainingJob
from chatdb_server.training.job_run import JobRun
from chatdb_server.training.ports import TrainingCatalog

log = get_logger(__name__)

DEFAULT_BATCH = 64


class SchemaTrainer:
    """Runs SCHEMA jobs and rolls back what an unfinished one wrote."""

    def __init__(self, catalog: TrainingCatalog, vectors: VectorStore, embedder: Embedder,
                 batch_size: int = DEFAULT_BATCH) -> None:
        self._catalog = catalog
        self._vectors = vectors
        self._embedder = embedder
        self._batch_size = batch_size

    async def run(self, run: JobRun) -> dict[str, Any]:
        """Train the job's tables; JobCancelled / errors leave the staged vectors for :meth:`roll_back`."""
        source = run.source
        await run.enter(Stage.FETCH, 25)
        tables = await self._fetch(source, run.job.tables)
        await run.enter(Stage.ANALYZE, 50, total=len(tables))
        await run.checkpoint()
        exclusions = await self._catalog.exclusions(source)
        tables, documents = _longest_first(tables, await self._documents(source, tables, exclusions))
        await run.enter(Stage.VECTORIZE, 75)
        staged: list[str] = []
        for start in range(0, len(tables), self._batch_size):
            await run.checkpoint()
            batch = tables[start:start + self._batch_size]
            staged.extend(t.structure.name for t in batch)
            await run.record(staged=staged)
            await self._upsert(source, batch, documents[start:start + self._batch_size])
            await run.record(trained=len(staged))
        await run.checkpoint()
        await self._honour_new_exclusions(source, tables, exclusions)
        await self._catalog.mark_trained(source, {t.structure.name: t.fingerprint for t in tables})
        await self._drop_vanished(source, staged)
        return {}

    async def rebuild(self, source: SourceRef, names: Sequence[str]) -> list[str]:
        """Re-document the named tables that have vectors (trained or stale) in place, with the exclusions
        in force now, and mark them trained at the structure documented; the tables rebuilt. Tables never
        trained have no vector to clean and are left to their first job."""
        tables = [t for t in await self._catalog.stored_tables(source, names) if t.trained_fingerprint is not None]
        if not tables:
            return []
        documents = await self._documents(source, tables, await self._catalog.exclusions(source))
        await self._upsert(source, tables, documents)
        await self._catalog.mark_trained(source, {t.structure.name: t.fingerprint for t in tables})
        rebuilt = [t.structure.name for t in tables]
        log.info("training.documents_rebuilt", source=source.name, tables=rebuilt)
        return rebuilt

    async def _documents(self, source: SourceRef, tables: Sequence[StoredTable], exclusions: Exclusions) -> list[str]:
        touching = _joins_by_table(await self._catalog.join_edges(source))
        return [stored_table_document(t, touching.get(t.structure.name, []), exclusions) for t in tables]

    async def _upsert(self, source: SourceRef, tables: Sequence[StoredTable], documents: Sequence[str]) -> None:
        vectors = await self._embedder.aencode(list(documents))
        items = [TableVector(t.structure.name, doc, vec, t.fingerprint)
                 for t, doc, vec in zip(tables, documents, vectors, strict=True)]
        await asyncio.to_thread(self._vectors.upsert_tables, source.namespace, items)

    async def _honour_new_exclusions(self, source: SourceRef, tables: Sequence[StoredTable],
                                     documented: Exclusions) -> None:
        """Write the documents again (from the descriptions stored now) when an EXCLUDE policy came or went
        while they were written."""
        latest = await self._catalog.exclusions(source)
        if latest == documented:
            return
        stored = {t.structure.name: t for t in await self._catalog.stored_tables(source, [t.structure.name
                                                                                          for t in tables])}
        current = [stored.get(t.structure.name, t) for t in tables]
        await self._upsert(source, tables, await self._documents(source, current, latest))

    async def roll_back(self, source: SourceRef, job: TrainingJob) -> int:
        """Delete the vectors ``job`` staged but did not commit; how many were deleted."""
        if not job.staged_tables:
            return 0
        trained = {t.structure.name for t in await self._catalog.stored_tables(source)
                   if t.trained_fingerprint is not None}
        uncommitted = [name for name in job.staged_tables if name not in trained]
        if uncommitted:
            await asyncio.to_thread(self._vectors.delete_tables, source.namespace, uncommitted)
        log.info("training_job.rolled_back", job=job.name, deleted=len(uncommitted),
                 kept_trained=len(job.staged_tables) - len(uncommitted))
        return len(uncommitted)

    async def drop_staged(self, job: TrainingJob) -> None:
        """Delete everything ``job`` staged, for a job whose source was deleted while it ran."""
        if job.staged_tables:
            await asyncio.to_thread(self._vectors.delete_tables, job.namespace, list(job.staged_tables))

    async def _fetch(self, source: SourceRef, requested: Sequence[str]) -> list[StoredTable]:
        stored = await self._catalog.stored_tables(source)
        if not requested:
            return stored
        by_name = {t.structure.name: t for t in stored}
        missing = [name for name in requested if name not in by_name]
        if missing:
            raise NotFound(f"{source.name}/tables/{missing[0]}", "table")
        return [by_name[name] for name in dict.fromkeys(requested)]

    async def _drop_vanished(self, source: SourceRef, staged: list[str]) -> None:
        """Delete vectors of tables a concurrent schema refresh removed while the job ran."""
        existing = {t.structure.name for t in await self._catalog.stored_tables(source)}
        vanished = [name for name in staged if name not in existing]
        if vanished:
            await asyncio.to_thread(self._vectors.delete_tables, source.namespace, vanished)


def _longest_first(tables: Sequence[StoredTable], documents: Sequence[str]) -> tuple[list[StoredTable], list[str]]:
    """Tables and their documents, longest document first: a batch then holds documents of about one length, so
    the model pads little (it sorts by length only within a call, and a call is one forward pass or few)."""
    order = sorted(range(len(tables)), key=lambda i: -len(documents[i]))
    return [tables[i] for i in order], [documents[i] for i in order]


def _joins_by_table(joins: Sequence[JoinEdge]) -> dict[str, list[JoinEdge]]:
    """Each table's joins (from it or to it), found in one pass over the source's joins."""
    touching: dict[str, list[JoinEdge]] = {}
    for join in joins:
        for table in dict.fromkeys((join.from_table, join.to_table)):
            touching.setdefault(table, []).append(join)
    return touching

