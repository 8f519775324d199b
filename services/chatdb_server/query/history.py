"""The record of every ask and SQL execution of a source, and the feedback given on them.

Records are domain values; the contract's ``Query`` message is built from them at the edge
(:func:`chatdb_server.query.convert.query_to_proto`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from chatdb_server.errors import FailedPrecondition, NotFound
from chatdb_server.log import get_logger
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.models import QueryRow, as_utc, utcnow
from chatdb_server.names import parse_name
from chatdb_server.pagination import PageTokens
from chatdb_server.query.domain import QueryState, Rating, ServedBy
from chatdb_server.resilience.levels import Level
from chatdb_server.sql.structure import SourceRef

_INSERT_QUERY = insert(QueryRow)
"""Built once, so SQLAlchemy compiles it once (see ``metadata.group_commit.Statement``)."""

log = get_logger(__name__)

QUERY = "dataSources/{data_source}/queries/{query}"
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
    state: QueryState = QueryState.SUCCEEDED
    error_reason: str = ""
    error_message: str = ""
    served_by: ServedBy | None = None
    """None when the ask failed before anything served it."""
    model: str = ""
    level: Level = Level.FULL
    row_count: int = 0
    confidence: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per step of :data:`TIMING_STEPS`."""
    previous_query_id: str = ""
    """The query of the same source this ask followed up; empty when it started a conversation."""


@dataclass(frozen=True)
class Feedback:
    """A caller's judgement of a recorded query, and the golden example it made (if any)."""

    rating: Rating
    corrected_sql: str = ""
    comment: str = ""
    example: str = ""
    """``dataSources/{ds}/examples/{id}``, or empty."""
    create_time: datetime | None = None


@dataclass(frozen=True)
class StoredQuery:
    """A recorded query as read back."""

    name: str
    """``dataSources/{ds}/queries/{q}``."""
    query_id: str
    record: QueryRecord
    feedback: Feedback | None
    create_time: datetime

    @property
    def previous_query(self) -> str:
        """The name of the query this ask followed up, or empty."""
        previous = self.record.previous_query_id
        return f"{self.name.rsplit('/', 1)[0]}/{previous}" if previous else ""


@dataclass(frozen=True)
class Turn:
    """A recorded ask as a turn of a conversation."""

    question: str
    sql: str


@dataclass(frozen=True)
class QueryPage:
    """A page of recorded queries, newest first, and the next page's token."""

    queries: list[StoredQuery]
    next_page_token: str


class QueryHistory:
    """Writes and reads the ``queries`` table."""

    def __init__(self, store: MetadataStore, pages: PageTokens) -> None:
        self._store = store
        self._pages = pages

    async def record(self, source: SourceRef, record: QueryRecord) -> str:
        """Store ``record``; returns its resource name."""
        query_id = "q" + uuid.uuid4().hex[:20]
        await self._store.write_together((_INSERT_QUERY, dict(
            query_id=query_id, tenant=source.tenant, source_pk=source.pk, question=record.question,
            sql=record.sql, state=record.state.value, error_reason=record.error_reason,
            error_message=record.error_message[:4000],
            served_by=record.served_by.value if record.served_by else "", model=record.model,
            degradation_level=int(record.level), row_count=record.row_count, confidence=record.confidence,
            timings={k: round(v, 6) for k, v in record.timings.items()}, feedback={},
            create_time=utcnow(), previous_query_id=record.previous_query_id)))
        return f"{source.name}/queries/{query_id}"

    async def get(self, source: SourceRef, query_id: str) -> StoredQuery:
        """One recorded query of ``source``; NotFound when there is none."""
        async with self._store.session() as session:
            row = await self._row(session, source, query_id)
            return _stored(source, row)

    async def conversation(self, source: SourceRef, query_id: str, max_turns: int) -> list[Turn]:
        """The conversation that ends with ``source``'s query ``query_id``: it and the asks it followed up, at
        most ``max_turns``, oldest first. NotFound when ``query_id`` is not recorded; FailedPrecondition when it
        is not a successful ask (nothing to refine). Earlier turns that failed are left out."""
        turns: list[Turn] = []
        async with self._store.session() as session:
            row: QueryRow | None = await self._row(session, source, query_id)
            if row is None or row.state != QueryState.SUCCEEDED.value or not row.question or not row.sql:
                raise FailedPrecondition(f"{source.name}/queries/{query_id} is not an answered question, so there "
                                         "is nothing to follow up: ask without previous_query",
                                         "NOT_FOLLOWABLE", {"previous_query": f"{source.name}/queries/{query_id}"})
            seen = set()
            while row is not None and len(turns) < max_turns and row.query_id not in seen:
                seen.add(row.query_id)
                if row.state == QueryState.SUCCEEDED.value and row.question and row.sql:
                    turns.append(Turn(row.question, row.sql))
                row = await self._previous(session, source, row)
        return turns[::-1]

    @staticmethod
    async def _previous(session: Any, source: SourceRef, row: QueryRow) -> QueryRow | None:
        """The query ``row`` followed up, if any."""
        if not row.previous_query_id:
            return None
        found: QueryRow | None = (await session.execute(select(QueryRow).where(
            QueryRow.source_pk == source.pk, QueryRow.query_id == row.previous_query_id))).scalar_one_or_none()
        return found

    async def list(self, source: SourceRef, page_size: int, page_token: str) -> QueryPage:
        """A page of ``source``'s queries, newest first, and the next page's token."""
        scope = f"queries:{source.tenant}:{source.source_id}"
        page = self._pages.page(page_size, page_token, scope)
        async with self._store.session() as session:
            rows = (await session.execute(
                select(QueryRow).where(QueryRow.source_pk == source.pk)
                .order_by(QueryRow.create_time.desc(), QueryRow.pk.desc())
                .offset(page.offset).limit(page.size + 1))).scalars().all()
        more = len(rows) > page.size
        found = [_stored(source, r) for r in rows[:page.size]]
        return QueryPage(found, self._pages.next_token(page, len(found), more, scope))

    async def set_feedback(self, source: SourceRef, query_id: str, feedback: Feedback) -> StoredQuery:
        """Attach feedback (replacing earlier feedback) to a recorded query; its time is now."""
        async with self._store.session() as session:
            row = await self._row(session, source, query_id)
            row.feedback = {"rating": feedback.rating.value, "corrected_sql": feedback.corrected_sql,
                            "comment": feedback.comment, "example": feedback.example,
                            "create_time": utcnow().isoformat()}
            return _stored(source, row)

    @staticmethod
    async def _row(session: Any, source: SourceRef, query_id: str) -> QueryRow:
        row = (await session.execute(select(QueryRow).where(
            QueryRow.source_pk == source.pk, QueryRow.query_id == query_id))).scalar_one_or_none()
        if row is None:
            raise NotFound(f"{source.name}/queries/{query_id}", "query")
        return row


def _stored(source: SourceRef, row: QueryRow) -> StoredQuery:
    record = QueryRecord(
        question=row.question, sql=row.sql, state=QueryState(row.state), error_reason=row.error_reason,
        error_message=row.error_message, served_by=_served_by(row.served_by), model=row.model,
        level=Level(row.degradation_level), row_count=row.row_count, confidence=row.confidence,
        timings=dict(row.timings or {}), previous_query_id=row.previous_query_id or "")
    return StoredQuery(f"{source.name}/queries/{row.query_id}", row.query_id, record,
                       _feedback(dict(row.feedback or {})), as_utc(row.create_time))


def _served_by(text: str) -> ServedBy | None:
    try:
        return ServedBy(text) if text else None
    except ValueError:
        log.warning("history.unknown_served_by", served_by=text)
        return None


def _feedback(stored: dict[str, Any]) -> Feedback | None:
    if not stored.get("rating"):
        return None
    created = stored.get("create_time")
    return Feedback(Rating(stored["rating"]), corrected_sql=stored.get("corrected_sql", ""),
                    comment=stored.get("comment", ""), example=stored.get("example", ""),
                    create_time=datetime.fromisoformat(created) if created else None)
