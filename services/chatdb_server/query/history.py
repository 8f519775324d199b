"""The record of every ask and SQL execution of a source, and the feedback given on them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from google.protobuf import duration_pb2
from sqlalchemy import select

from chatdb.query.v1 import query_pb2
from chatdb.wire import timestamp
from chatdb_server.errors import NotFound
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.models import QueryRow, as_utc, utcnow
from chatdb_server.names import parse_name
from chatdb_server.pagination import PageTokens
from chatdb_server.resilience.levels import Level
from chatdb_server.sql.structure import SourceRef

QUERY = "dataSources/{data_source}/queries/{query}"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
TIMING_STEPS = ("retrieval", "generation", "guard", "execution", "total")


def query_name_parts(name: str, field_name: str = "name") -> tuple[str, str]:
    """(data source id, query id) of ``dataSources/{ds}/queries/{q}``; InvalidArgument when malformed."""
    parts = parse_name(name, QUERY, field_name)
    return parts["data_source"], parts["query"]


@dataclass
class QueryRecord:
    """What is recorded of one ask or execution."""

    question: str = ""
    sql: str = ""
    state: str = SUCCEEDED
    error_reason: str = ""
    error_message: str = ""
    served_by: str = ""
    """A ServedBy name without prefix: MODEL, TEMPLATE, CACHE or CALLER_SQL."""
    model: str = ""
    level: Level = Level.FULL
    row_count: int = 0
    confidence: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per step of :data:`TIMING_STEPS`."""


@dataclass(frozen=True)
class StoredQuery:
    """A recorded query as read back."""

    query_id: str
    record: QueryRecord
    feedback: dict[str, Any]
    create_time: datetime


class QueryHistory:
    """Writes and reads the ``queries`` table."""

    def __init__(self, store: MetadataStore, pages: PageTokens) -> None:
        self._store = store
        self._pages = pages

    async def record(self, source: SourceRef, record: QueryRecord) -> str:
        """Store ``record``; returns its resource name."""
        query_id = "q" + uuid.uuid4().hex[:20]
        async with self._store.session() as session:
            session.add(QueryRow(
                query_id=query_id, tenant=source.tenant, source_pk=source.pk, question=record.question,
                sql=record.sql, state=record.state, error_reason=record.error_reason,
                error_message=record.error_message[:4000], served_by=record.served_by, model=record.model,
                degradation_level=int(record.level), row_count=record.row_count, confidence=record.confidence,
                timings={k: round(v, 6) for k, v in record.timings.items()}, feedback={}))
        return f"{source.name}/queries/{query_id}"

    async def get(self, source: SourceRef, query_id: str) -> StoredQuery:
        """One recorded query of ``source``; NotFound when there is none."""
        async with self._store.session() as session:
            row = await self._row(session, source, query_id)
            return _stored(row)

    async def list(self, source: SourceRef, page_size: int, page_token: str) -> tuple[list[StoredQuery], str]:
        """A page of ``source``'s queries, newest first, and the next page's token."""
        scope = f"queries:{source.tenant}:{source.source_id}"
        page = self._pages.page(page_size, page_token, scope)
        async with self._store.session() as session:
            rows = (await session.execute(
                select(QueryRow).where(QueryRow.source_pk == source.pk)
                .order_by(QueryRow.create_time.desc(), QueryRow.pk.desc())
                .offset(page.offset).limit(page.size + 1))).scalars().all()
        more = len(rows) > page.size
        found = [_stored(r) for r in rows[:page.size]]
        return found, self._pages.next_token(page, len(found), more, scope)

    async def set_feedback(self, source: SourceRef, query_id: str, feedback: dict[str, Any]) -> StoredQuery:
        """Attach feedback (replacing earlier feedback) to a recorded query."""
        async with self._store.session() as session:
            row = await self._row(session, source, query_id)
            row.feedback = {**feedback, "create_time": utcnow().isoformat()}
            return _stored(row)

    @staticmethod
    async def _row(session: Any, source: SourceRef, query_id: str) -> QueryRow:
        row = (await session.execute(select(QueryRow).where(
            QueryRow.source_pk == source.pk, QueryRow.query_id == query_id))).scalar_one_or_none()
        if row is None:
            raise NotFound(f"{source.name}/queries/{query_id}", "query")
        return row


def _stored(row: QueryRow) -> StoredQuery:
    record = QueryRecord(
        question=row.question, sql=row.sql, state=row.state, error_reason=row.error_reason,
        error_message=row.error_message, served_by=row.served_by, model=row.model,
        level=Level(row.degradation_level), row_count=row.row_count, confidence=row.confidence,
        timings=dict(row.timings or {}))
    return StoredQuery(row.query_id, record, dict(row.feedback or {}), as_utc(row.create_time))


def query_message(source: SourceRef, stored: StoredQuery) -> query_pb2.Query:
    """The contract's Query of a stored query."""
    record = stored.record
    message = query_pb2.Query(
        name=f"{source.name}/queries/{stored.query_id}", question=record.question, sql=record.sql,
        state=query_pb2.QueryState.Value(f"QUERY_STATE_{record.state}"), error_reason=record.error_reason,
        error_message=record.error_message, model=record.model, degradation_level=record.level.to_proto(),
        row_count=record.row_count, confidence=record.confidence, timings=timings_message(record.timings),
        create_time=timestamp(stored.create_time))
    if record.served_by:
        message.served_by = query_pb2.ServedBy.Value(f"SERVED_BY_{record.served_by}")
    feedback = stored.feedback
    if feedback.get("rating"):
        message.feedback.CopyFrom(query_pb2.Feedback(
            rating=query_pb2.FeedbackRating.Value(f"FEEDBACK_RATING_{feedback['rating']}"),
            corrected_sql=feedback.get("corrected_sql", ""), comment=feedback.get("comment", ""),
            example=feedback.get("example", ""),
            create_time=timestamp(datetime.fromisoformat(feedback["create_time"]))))
    return message


def timings_message(seconds: dict[str, float]) -> query_pb2.Timings:
    """Timings of seconds per step."""
    message = query_pb2.Timings()
    for step in TIMING_STEPS:
        if step in seconds:
            getattr(message, step).CopyFrom(duration(seconds[step]))
    return message


def duration(seconds: float) -> duration_pb2.Duration:
    """A Duration of ``seconds``."""
    message = duration_pb2.Duration()
    message.FromTimedelta(timedelta(seconds=seconds))
    return message

