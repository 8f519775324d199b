"""Golden examples: a question and the read-only SQL that answers it, per data source.

An example is checked by QueryService's SQL guard before it is stored (it parses in the
source's dialect, is one read-only query, and reads only the source's known tables and
columns), so a bad example can never teach the generator unsafe or wrong SQL. Its question
is embedded into the examples collection, in the source's namespace, for retrieval.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from chatdb_server.errors import InvalidArgument, NotFound
from chatdb_server.generation.interface import MAX_QUESTION_CHARS
from chatdb_server.log import get_logger
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.generations import bump_generation
from chatdb_server.metadata.models import ExampleRow, as_utc, utcnow
from chatdb_server.retrieval.embeddings import Embedder
from chatdb_server.retrieval.vectors import VectorStore
from chatdb_server.sql.guard import PARSE_ERROR, SqlGuard
from chatdb_server.sql.structure import SourceRef, known_columns
from chatdb_server.training.names import example_name, new_id
from chatdb_server.training.ports import TrainingCatalog

log = get_logger(__name__)

MAX_SQL_CHARS = 20_000
MANUAL = "MANUAL"
FEEDBACK = "FEEDBACK"
_ORIGINS = (MANUAL, FEEDBACK)


@dataclass(frozen=True)
class Example:
    """A stored golden example."""

    example_id: str
    source_id: str
    question: str
    sql: str
    origin: str
    tables: tuple[str, ...]
    create_time: datetime

    @property
    def name(self) -> str:
        """Resource name, ``dataSources/{source}/examples/{example}``."""
        return example_name(self.source_id, self.example_id)


class ExampleBook:
    """Creates, lists and deletes a source's examples, keeping rows and vectors together."""

    def __init__(self, store: MetadataStore, catalog: TrainingCatalog, vectors: VectorStore, embedder: Embedder,
                 guard: SqlGuard | None = None) -> None:
        self._store = store
        self._catalog = catalog
        self._vectors = vectors
        self._embedder = embedder
        self._guard = guard or SqlGuard()

    async def create(self, source: SourceRef, question: str, sql: str, origin: str = MANUAL) -> Example:
        """Check and store an example; InvalidArgument on ``example.question`` / ``example.sql`` when bad."""
        question, sql = question.strip(), sql.strip()
        _require(question, "example.question", MAX_QUESTION_CHARS)
        _require(sql, "example.sql", MAX_SQL_CHARS)
        if origin not in _ORIGINS:
            raise InvalidArgument("example.source", f"must be one of {', '.join(_ORIGINS)}")
        tables = await self.check_sql(source, sql)
        vector = await self._embedder.aencode_query(question)  # as a question is embedded: a repeat matches it
        row = ExampleRow(example_id=new_id("example"), tenant=source.tenant, source_pk=source.pk,
                         question=question, sql=sql, origin=origin, tables=tables, create_time=utcnow())
        async with self._store.session() as session:
            session.add(row)
            await session.flush()
            # The vector is written inside the row's transaction: if it fails, no row is kept.
            await asyncio.to_thread(self._vectors.upsert_example, source.namespace, row.example_id, question, sql,
                                    vector)
            await bump_generation(session, source.pk)
        example = _example(row, source.source_id)
        log.info("example.created", example=example.name, tables=len(tables))
        return example

    async def check_sql(self, source: SourceRef, sql: str) -> list[str]:
        """The tables ``sql`` reads; InvalidArgument (INVALID_SQL / UNSAFE_SQL) on ``example.sql`` otherwise."""
        stored = await self._catalog.stored_tables(source)
        verdict = self._guard.check(sql, source.dialect, known_columns([t.structure for t in stored]), max_rows=1)
        if not verdict.valid:
            first = verdict.violations[0]
            reason = "INVALID_SQL" if first.reason == PARSE_ERROR else "UNSAFE_SQL"
            raise InvalidArgument("example.sql", "; ".join(v.message for v in verdict.violations), reason=reason)
        by_lower = {t.structure.name.lower(): t.structure.name for t in stored}
        return [by_lower.get(name.lower(), name) for name in dict.fromkeys(verdict.tables)]

    async def list_examples(self, source: SourceRef, offset: int, limit: int) -> tuple[list[Example], bool]:
        """A page of the source's examples, newest first, and whether more follow."""
        query = (select(ExampleRow).where(ExampleRow.source_pk == source.pk)
                 .order_by(ExampleRow.create_time.desc(), ExampleRow.pk.desc()).offset(offset).limit(limit + 1))
        async with self._store.session() as session:
            rows = (await session.execute(query)).scalars().all()
        return [_example(r, source.source_id) for r in rows[:limit]], len(rows) > limit

    async def delete(self, source: SourceRef, example_id: str) -> None:
        """Delete an example's row and vector; NotFound when the source has no such example."""
        async with self._store.session() as session:
            result = await session.execute(delete(ExampleRow).where(ExampleRow.source_pk == source.pk,
                                                                    ExampleRow.example_id == example_id))
            if result.rowcount != 1:  # type: ignore[attr-defined]
                raise NotFound(example_name(source.source_id, example_id), "example")
            await asyncio.to_thread(self._vectors.delete_example, source.namespace, example_id)
            await bump_generation(session, source.pk)
        log.info("example.deleted", example=example_name(source.source_id, example_id))


def _require(value: str, field: str, max_chars: int) -> None:
    if not value:
        raise InvalidArgument(field, "is required")
    if len(value) > max_chars:
        raise InvalidArgument(field, f"must be at most {max_chars} characters", reason="TOO_LARGE")


def _example(row: ExampleRow, source_id: str) -> Example:
    return Example(example_id=row.example_id, source_id=source_id, question=row.question, sql=row.sql,
                   origin=row.origin, tables=tuple(row.tables or ()), create_time=as_utc(row.create_time) or utcnow())
