"""ExportQueryResult: the whole result of a query as a file, streamed: a header (format, columns, the SQL
that runs), the file's bytes in chunks of at most ``export_chunk_bytes``, then a summary.

The input is caller SQL, or a recorded query whose SQL runs again. Either passes the same guard and the
caller's column and row policies as ExecuteSql (:meth:`GuardedExecution.check`), with a row cap of its
own (``export_max_rows``) and a longer timeout (``export_query_timeout_s``). The database is read
through a server-side cursor a chunk of rows at a time (:meth:`QueryExecutor.stream`), each chunk is
masked, its cells cut to ``max_cell_bytes``, encoded and sent before the next is read, so the server
holds one chunk whatever the result's size. When the caller goes away the stream is closed and the
statement cancelled in the database.
"""

from __future__ import annotations

import sys
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field

from chatdb_server.access import context as call
from chatdb_server.access.masking import Masker
from chatdb_server.errors import FailedPrecondition, InvalidArgument
from chatdb_server.query.domain import ByteCaps, Rows, capped, plain_rows
from chatdb_server.query.export_formats import FORMAT_INFO, ExportFormat, FormatInfo, encoder
from chatdb_server.query.history import QueryHistory, query_name_parts
from chatdb_server.query.pipeline_execution import (
    GuardedExecution,
    Limits,
    PolicedVerdict,
    RowStreamer,
    refusal,
    require_sql,
)
from chatdb_server.query.pipeline_sources import SourceContext, SourceContexts, metadata_store_errors
from chatdb_server.settings import Settings
from chatdb_server.sql.structure import SourceRef
from chatdb_server.sql.values import ResultColumn

FETCH_ROWS = 5_000
"""Rows read from the database at a time, and encoded as one record batch (one Parquet row group)."""


@dataclass(frozen=True)
class ExportRequest:
    """What to export and how: ``sql`` on ``parent``, or the recorded ``query``."""

    parent: str
    sql: str
    query: str
    format: ExportFormat | None
    max_rows: int = 0
    timeout_s: float | None = None


@dataclass(frozen=True)
class ExportStart:
    """The first event: the file's format and the result's columns."""

    format: ExportFormat
    info: FormatInfo
    columns: list[ResultColumn]
    sql: str


@dataclass(frozen=True)
class ExportDone:
    """The last event: what was exported."""

    row_count: int
    byte_count: int
    truncated: bool
    warnings: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0


ExportEvent = ExportStart | bytes | ExportDone
"""What an export yields: its start, chunks of the file, then its end."""


class QueryExport:
    """Streams query results as files."""

    def __init__(self, settings: Settings, contexts: SourceContexts, execution: GuardedExecution,
                 history: QueryHistory, streamer: RowStreamer, masker: Masker | None = None) -> None:
        self._settings = settings
        self._contexts = contexts
        self._execution = execution
        self._history = history
        self._streamer = streamer
        self._masker = masker or Masker()

    def limits(self, max_rows: int, timeout_s: float | None) -> Limits:
        """The export's row cap and timeout: the export settings when unset, clamped to them."""
        if max_rows < 0:
            raise InvalidArgument("max_rows", "must not be negative")
        if timeout_s is not None and timeout_s < 0:
            raise InvalidArgument("timeout", "must not be negative")
        settings = self._settings
        return Limits(min(max_rows or settings.export_max_rows, settings.export_max_rows),
                      min(timeout_s or settings.export_query_timeout_s, settings.export_query_timeout_s))

    async def export(self, tenant: str, request: ExportRequest) -> AsyncGenerator[ExportEvent, None]:
        """The events of one export; INVALID_ARGUMENT (UNSAFE_SQL, INVALID_SQL) when the guard or the policies
        refuse the SQL, NOT_FOUND for an unknown source or query, the executor's errors while reading."""
        started = time.perf_counter()
        if request.format is None:
            raise InvalidArgument("format", "is required: EXPORT_FORMAT_CSV, EXPORT_FORMAT_JSON_LINES, "
                                            "EXPORT_FORMAT_ARROW or EXPORT_FORMAT_PARQUET")
        limits = self.limits(request.max_rows, request.timeout_s)
        context, sql, field_name = await self._input(tenant, request)
        source = context.source
        call.note(data_source=source.source_id, sql=sql)
        verdict = await self._execution.check(context, sql, limits.max_rows)
        if not verdict.valid:
            raise refusal(verdict, field_name)
        call.note(sql=verdict.sql)
        async for event in self._stream(source, verdict, limits, request.format):
            if isinstance(event, ExportDone):
                call.note(row_count=event.row_count)
                event = ExportDone(event.row_count, event.byte_count, event.truncated,
                                   [*verdict.warnings, *event.warnings], time.perf_counter() - started)
            yield event

    async def _input(self, tenant: str, request: ExportRequest) -> tuple[SourceContext, str, str]:
        """The source, the SQL to run and the request field it came from."""
        if request.query:
            source_id, query_id = query_name_parts(request.query, "query")
            parent = f"dataSources/{source_id}"
            if request.parent and request.parent != parent:
                raise InvalidArgument("parent", f"must be empty or {parent!r}, the data source of the query")
            call.note(resource=request.query)
            context = await self._contexts.get(tenant, parent, "query")
            async with metadata_store_errors():
                stored = await self._history.get(context.source, query_id)
            if not stored.record.sql:
                raise FailedPrecondition(f"query {request.query!r} has no SQL to run: it failed before any was "
                                         "produced", "NO_ANSWER", {"query": request.query})
            return context, stored.record.sql, "query"
        sql = require_sql(request.sql)
        return await self._contexts.get(tenant, request.parent), sql, "sql"

    async def _stream(self, source: SourceRef, verdict: PolicedVerdict, limits: Limits,
                      kind: ExportFormat) -> AsyncIterator[ExportEvent]:
        caps = ByteCaps(self._settings.max_cell_bytes, sys.maxsize)
        chunk_bytes = max(1, self._settings.export_chunk_bytes)
        writer = encoder(kind)
        pending = bytearray()
        rows_out = byte_count = 0
        truncated = started = False
        warnings: list[str] = []
        chunks = self._execution.stream(self._streamer, source, verdict, limits, FETCH_ROWS)
        async with aclosing(chunks):
            async for fetched in chunks:
                columns, cells = self._masker.result(fetched.columns, plain_rows(fetched.rows), verdict.masked)
                if not started:
                    started = True
                    yield ExportStart(kind, FORMAT_INFO[kind], columns, verdict.sql)
                    pending += writer.start(columns)
                room = limits.max_rows - rows_out
                if len(cells) > room:
                    cells, truncated = cells[:room], True
                rows, cut = capped(Rows(columns, cells, False), caps)
                warnings.extend(cut)
                pending += writer.rows(rows.rows)
                rows_out += len(rows.rows)
                while len(pending) >= chunk_bytes:
                    byte_count += chunk_bytes
                    yield bytes(pending[:chunk_bytes])
                    del pending[:chunk_bytes]
        pending += writer.finish()
        if truncated:
            warnings.append(f"only the first {rows_out:,} rows are exported: the row cap (max_rows, at most "
                            f"export_max_rows) cut the result")
        for start in range(0, len(pending), chunk_bytes):
            part = bytes(pending[start:start + chunk_bytes])
            byte_count += len(part)
            yield part
        yield ExportDone(rows_out, byte_count, truncated, list(dict.fromkeys(warnings)))
