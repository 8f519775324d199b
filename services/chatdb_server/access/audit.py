"""The audit log: one append-only event for every call that reads data or changes configuration.

Events name their principal, tenant, method, resource, question, final SQL, outcome, rows and
duration; they never hold a secret (a DSN, a key, a token). They are rows of the metadata store
that name resources without referencing them, so deleting a data source keeps its events. They
can also be written as JSON lines (stdout or a file) for a SIEM.
"""

from __future__ import annotations

import json
import sys
import threading
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

from sqlalchemy import insert, select

from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.models import AuditEventRow, as_utc, utcnow
from chatdb_server.pagination import PageTokens

_INSERT_EVENT = insert(AuditEventRow)
"""Built once, so SQLAlchemy compiles it once (see ``group_commit.Statement``)."""

MAX_TEXT = 10_000
"""Questions and SQL longer than this are cut in the log."""


@dataclass
class AuditEvent:
    """One audited call; the interceptor fills who and how, the service fills what."""

    principal: str
    tenant: str
    method: str
    status_code: str = "OK"
    resource: str = ""
    data_source: str = ""
    question: str = ""
    sql: str = ""
    row_count: int = 0
    duration_ms: float = 0.0
    request_id: str = ""
    peer: str = ""
    time: datetime = field(default_factory=utcnow)
    event_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def name(self) -> str:
        """Resource name, ``auditEvents/{id}``."""
        return f"auditEvents/{self.event_id}"


@dataclass(frozen=True)
class AuditFilter:
    """What ListAuditEvents narrows to; empty fields do not filter."""

    tenant: str | None = None
    """None lists every tenant (operators)."""
    principal: str = ""
    data_source: str = ""
    """A source id (``dataSources/{id}`` is accepted too)."""
    start_time: datetime | None = None
    end_time: datetime | None = None


class JsonLinesSink:
    """Events as JSON lines on stdout or appended to a file, for log shippers."""

    def __init__(self, target: str) -> None:
        self._lock = threading.Lock()
        self._own = target != "stdout"
        # Held open for the life of the process (closed by close()), so each event is one write.
        self._stream: IO[str] = sys.stdout if not self._own else Path(target).open("a", encoding="utf-8")  # noqa: SIM115

    def write(self, event: AuditEvent) -> None:
        """Append one event."""
        record = asdict(event)
        record["time"] = event.time.isoformat()
        record["audit"] = True
        with self._lock:
            self._stream.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._stream.flush()

    def close(self) -> None:
        """Close the file (stdout stays open)."""
        if self._own:
            self._stream.close()


class AuditLog:
    """Appends and lists audit events."""

    def __init__(self, store: MetadataStore, pages: PageTokens, sink: JsonLinesSink | None = None) -> None:
        self._store = store
        self._pages = pages
        self._sink = sink

    async def append(self, event: AuditEvent) -> None:
        """Record ``event`` (and copy it to the JSON-lines sink)."""
        await self._store.write_together((_INSERT_EVENT, dict(
            event_id=event.event_id, time=event.time, principal=event.principal[:255], tenant=event.tenant,
            method=event.method, resource=event.resource[:255], data_source=_source_id(event.data_source),
            question=event.question[:MAX_TEXT], sql=event.sql[:MAX_TEXT], status_code=event.status_code,
            row_count=event.row_count, duration_ms=event.duration_ms, request_id=event.request_id[:64],
            peer=event.peer[:255])))
        if self._sink is not None:
            self._sink.write(event)

    async def list(self, where: AuditFilter, page_size: int = 0, page_token: str = "") -> tuple[list[AuditEvent], str]:
        """Events matching ``where``, newest first, a page at a time."""
        scope = f"audit:{where.tenant}:{where.principal}:{where.data_source}:{where.start_time}:{where.end_time}"
        page = self._pages.page(page_size, page_token, scope, default=100)
        query = select(AuditEventRow).order_by(AuditEventRow.time.desc(), AuditEventRow.pk.desc())
        if where.tenant is not None:
            query = query.where(AuditEventRow.tenant == where.tenant)
        if where.principal:
            query = query.where(AuditEventRow.principal == where.principal)
        if where.data_source:
            query = query.where(AuditEventRow.data_source == _source_id(where.data_source))
        if where.start_time is not None:
            query = query.where(AuditEventRow.time >= where.start_time)
        if where.end_time is not None:
            query = query.where(AuditEventRow.time < where.end_time)
        async with self._store.session() as session:
            rows = list((await session.execute(query.offset(page.offset).limit(page.size + 1))).scalars())
        events = [_event_of(row) for row in rows[:page.size]]
        return events, self._pages.next_token(page, len(events), len(rows) > page.size, scope)

    def close(self) -> None:
        """Close the sink."""
        if self._sink is not None:
            self._sink.close()


def _source_id(data_source: str) -> str:
    return data_source.removeprefix("dataSources/").split("/", 1)[0]


def _event_of(row: AuditEventRow) -> AuditEvent:
    return AuditEvent(principal=row.principal, tenant=row.tenant, method=row.method, status_code=row.status_code,
                      resource=row.resource, data_source=row.data_source, question=row.question, sql=row.sql,
                      row_count=row.row_count, duration_ms=row.duration_ms, request_id=row.request_id,
                      peer=row.peer, time=as_utc(row.time), event_id=row.event_id)
