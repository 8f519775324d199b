"""Replies turned into plain Python objects where that helps a caller most:
query results with typed rows (as dicts, pandas DataFrames or Arrow tables), the events
of a streamed ask, the degradation level, the system status, a new API key with its secret.
Other replies are returned as the generated messages themselves.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from google.protobuf import duration_pb2, timestamp_pb2
from google.rpc import status_pb2

from chatdb.access.v1 import access_pb2
from chatdb.common.v1 import value_pb2
from chatdb.query.v1 import query_pb2, query_service_pb2
from chatdb.webhook.v1 import webhook_pb2
from chatdb_client import frames
from chatdb_client.errors import ChatDBError
from chatdb_client.values import from_rows


class DegradationLevel(enum.IntEnum):
    """The level a reply was served at, numbered 0 (everything works) to 4."""

    FULL = 0
    NO_TRAINING = 1
    NO_MODEL = 2
    NO_DATABASE = 3
    CRITICAL = 4

    @classmethod
    def from_proto(cls, value: int) -> DegradationLevel | None:
        """The level of a ``chatdb.common.v1.DegradationLevel`` (whose values are shifted by
        one, since 0 is UNSPECIFIED); None when unspecified."""
        return None if value <= 0 else cls(value - 1)


@dataclass(frozen=True)
class Column:
    """A result column: its label, wire type (e.g. ``"INTEGER"``) and database type."""

    name: str
    type: str
    database_type: str

    @classmethod
    def from_proto(cls, column: value_pb2.ResultColumn) -> Column:
        """The column of a ``ResultColumn``."""
        wire_type = value_pb2.ValueType.Name(column.type).removeprefix("VALUE_TYPE_")
        return cls(column.name, wire_type, column.database_type)


@dataclass(frozen=True)
class Chart:
    """A chart suggestion: ``type`` (``TABLE``, ``BAR``, ``LINE`` or ``PIE``) and the result columns it draws."""

    type: str
    x_column: str = ""
    y_columns: list[str] = field(default_factory=list)
    series_column: str = ""

    @classmethod
    def from_proto(cls, chart: query_pb2.ChartSuggestion) -> Chart:
        """The suggestion of a ``ChartSuggestion``."""
        return cls(query_pb2.ChartType.Name(chart.type).removeprefix("CHART_TYPE_"), chart.x_column,
                   list(chart.y_columns), chart.series_column)


@dataclass(frozen=True)
class QueryResult:
    """Rows from ExecuteSql, and the part of an Ask reply they share."""

    query: str
    """The recorded query's resource name."""
    sql: str
    """The SQL that ran, after the guard."""
    columns: list[Column]
    rows: list[tuple[Any, ...]]
    """Typed Python values, one tuple per row in column order."""
    row_count: int
    truncated: bool
    warnings: list[str]
    degradation_level: DegradationLevel | None
    served_by: str
    """``MODEL``, ``TEMPLATE``, ``CACHE`` or ``CALLER_SQL``."""
    stale: bool
    """True when the rows come from the cache because the database is unreachable."""
    raw: Any = field(repr=False)
    """The reply message itself, for fields not lifted here."""

    @property
    def column_names(self) -> list[str]:
        """The columns' labels."""
        return [column.name for column in self.columns]

    def to_dicts(self) -> list[dict[str, Any]]:
        """The rows as dicts keyed by column label, values typed as in :attr:`rows`."""
        names = self.column_names
        return [dict(zip(names, row, strict=True)) for row in self.rows]

    records = to_dicts

    def to_pandas(self) -> Any:
        """The rows as a ``pandas.DataFrame`` typed by the columns (needs ``chatdb-client[pandas]``;
        see :mod:`chatdb_client.frames` for the dtypes)."""
        return frames.to_pandas(self.columns, self.rows)

    def to_arrow(self) -> Any:
        """The rows as a ``pyarrow.Table`` typed by the columns (needs ``chatdb-client[arrow]``)."""
        return frames.to_arrow(self.columns, self.rows)

    @classmethod
    def from_proto(cls, reply: query_service_pb2.ExecuteSqlResponse) -> QueryResult:
        """The result of an ExecuteSql reply."""
        return cls(**_shared_fields(reply), raw=reply)


@dataclass(frozen=True)
class AskResult(QueryResult):
    """The answer to a question: the SQL, how it was produced, and its rows."""

    explanation: str = ""
    confidence: float = 0.0
    model: str = ""
    """The model or adapter that generated the SQL, ``template`` for the template generator."""
    retrieved_tables: list[str] = field(default_factory=list)
    """What retrieval chose, best first."""
    tables_used: list[str] = field(default_factory=list)
    executed: bool = False
    cached_time: dt.datetime | None = None
    trace_id: str = ""
    """The call's trace id, to find its spans and the server's log lines."""
    answer_text: str = ""
    """The answer in one plain-language sentence, e.g. ``"There are 120 customers."``; may be empty."""
    chart: Chart | None = None
    """The chart the result's shape suggests; None when the server suggested none."""
    low_confidence: bool = False
    """True when the answer fell below the source's ``min_confidence``: no rows, the closest tables in
    :attr:`retrieved_tables` and a rephrasing in :attr:`suggested_question`."""
    suggested_question: str = ""

    @classmethod
    def from_proto(cls, reply: query_service_pb2.AskResponse) -> AskResult:  # type: ignore[override]
        """The result of an Ask reply."""
        return cls(**_shared_fields(reply), raw=reply, explanation=reply.explanation,
                   confidence=reply.confidence, model=reply.model,
                   retrieved_tables=[t.table for t in reply.retrieved_tables],
                   tables_used=list(reply.tables_used), executed=reply.executed, trace_id=reply.trace_id,
                   cached_time=to_datetime(reply.cached_time) if reply.HasField("cached_time") else None,
                   answer_text=reply.answer_text,
                   chart=Chart.from_proto(reply.chart) if reply.HasField("chart") else None,
                   low_confidence=reply.low_confidence, suggested_question=reply.suggested_question)


@dataclass(frozen=True)
class AskEvent:
    """One message of a streamed ask: ``kind`` is ``"stage"`` (``stage`` reached: ``RETRIEVED`` with
    ``retrieved_tables``, ``GENERATED`` with ``sql``, ``EXECUTED`` with ``columns``), ``"rows"`` (a batch
    of typed ``rows``) or ``"summary"`` (``summary``: the answer without its rows)."""

    kind: str
    stage: str = ""
    sql: str = ""
    retrieved_tables: list[str] = field(default_factory=list)
    columns: list[Column] = field(default_factory=list)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    summary: AskResult | None = None
    raw: Any = field(default=None, repr=False)

    @classmethod
    def from_proto(cls, reply: query_service_pb2.StreamAskResponse) -> AskEvent:
        """The event of a StreamAsk message."""
        kind = reply.WhichOneof("event") or ""
        if kind == "stage":
            event = reply.stage
            return cls(kind, stage=query_service_pb2.AskStage.Name(event.stage).removeprefix("ASK_STAGE_"),
                       sql=event.sql, retrieved_tables=[t.table for t in event.retrieved_tables],
                       columns=[Column.from_proto(c) for c in event.columns], raw=reply)
        if kind == "rows":
            return cls(kind, rows=from_rows(reply.rows.rows), raw=reply)
        return cls(kind, summary=AskResult.from_proto(reply.summary) if kind == "summary" else None, raw=reply)


@dataclass(frozen=True)
class BatchAnswer:
    """The outcome of one question of a batch: its ``index`` in the request, its ``id`` and
    ``question``, and either ``result`` or ``error`` (the typed error its Ask would have raised)."""

    index: int
    id: str
    question: str
    result: AskResult | None
    error: ChatDBError | None
    raw: Any = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """Whether the question was answered."""
        return self.error is None

    def unwrap(self) -> AskResult:
        """The answer; raises the question's error when it has none."""
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result

    @classmethod
    def from_proto(cls, reply: query_service_pb2.BatchAskResponse, question: str = "") -> BatchAnswer:
        """The answer of a BatchAsk message; ``question`` is the text the request gave at its index."""
        if reply.WhichOneof("result") == "answer":
            return cls(reply.index, reply.id, question, AskResult.from_proto(reply.answer), None, reply)
        status = status_pb2.Status.FromString(reply.error.SerializeToString())  # the same fields, by design
        return cls(reply.index, reply.id, question, None, ChatDBError.from_status(status), reply)


@dataclass(frozen=True)
class ExportPart:
    """One message of an export: ``kind`` is ``"header"`` (``content_type``, ``file_extension``,
    ``columns``, ``sql``), ``"chunk"`` (the next ``data`` of the file) or ``"summary"`` (``row_count``,
    ``byte_count``, ``truncated``, ``warnings``)."""

    kind: str
    data: bytes = b""
    content_type: str = ""
    file_extension: str = ""
    columns: list[Column] = field(default_factory=list)
    sql: str = ""
    row_count: int = 0
    byte_count: int = 0
    truncated: bool = False
    warnings: list[str] = field(default_factory=list)
    raw: Any = field(default=None, repr=False)

    @classmethod
    def from_proto(cls, reply: query_service_pb2.ExportQueryResultResponse) -> ExportPart:
        """The part of an ExportQueryResult message."""
        kind = reply.WhichOneof("part") or ""
        if kind == "header":
            header = reply.header
            return cls(kind, content_type=header.content_type, file_extension=header.file_extension,
                       columns=[Column.from_proto(c) for c in header.columns], sql=header.sql, raw=reply)
        if kind == "summary":
            summary = reply.summary
            return cls(kind, row_count=summary.row_count, byte_count=summary.byte_count, truncated=summary.truncated,
                       warnings=list(summary.warnings), raw=reply)
        return cls(kind, data=reply.chunk, raw=reply)


class CreatedApiKey(NamedTuple):
    """A new API key and its secret, which the server shows this once."""

    api_key: access_pb2.ApiKey
    secret: str


class CreatedWebhook(NamedTuple):
    """A new webhook and the secret that signs its deliveries, which the server shows this once."""

    webhook: webhook_pb2.Webhook
    secret: str


@dataclass(frozen=True)
class DependencyHealth:
    """One dependency in the system status, with its circuit breaker."""

    name: str
    healthy: bool
    detail: str
    breaker_state: str
    failure_count: int


@dataclass(frozen=True)
class SystemStatus:
    """The degradation level and each dependency's health."""

    degradation_level: DegradationLevel | None
    dependencies: list[DependencyHealth]
    check_time: dt.datetime | None

    @classmethod
    def from_proto(cls, reply: query_service_pb2.GetSystemStatusResponse) -> SystemStatus:
        """The status of a GetSystemStatus reply."""
        return cls(
            DegradationLevel.from_proto(reply.degradation_level),
            [DependencyHealth(d.name, d.healthy, d.detail, d.breaker_state, d.failure_count)
             for d in reply.dependencies],
            to_datetime(reply.check_time) if reply.HasField("check_time") else None,
        )


def to_datetime(stamp: timestamp_pb2.Timestamp) -> dt.datetime:
    """An aware UTC datetime."""
    return stamp.ToDatetime(tzinfo=dt.UTC)


def to_duration(seconds: float) -> duration_pb2.Duration:
    """A Duration of that many seconds."""
    duration = duration_pb2.Duration()
    duration.FromTimedelta(dt.timedelta(seconds=seconds))
    return duration


def _shared_fields(reply: Any) -> dict[str, Any]:
    return {
        "query": reply.query,
        "sql": reply.sql,
        "columns": [Column.from_proto(c) for c in reply.columns],
        "rows": from_rows(reply.rows),
        "row_count": reply.row_count,
        "truncated": reply.truncated,
        "warnings": list(reply.warnings),
        "degradation_level": DegradationLevel.from_proto(reply.degradation_level),
        "served_by": query_pb2.ServedBy.Name(reply.served_by).removeprefix("SERVED_BY_"),
        "stale": reply.stale,
    }
