"""Each client operation as data: which RPC, with which request, and how to read
the reply. The sync and async clients only differ in how they run these, so the
requests are built, and the replies read, in this one place.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import grpc

from chatdb.common.v1 import dialect_pb2
from chatdb.prediction.v1 import prediction_pb2, prediction_service_pb2
from chatdb.query.v1 import query_pb2, query_service_pb2
from chatdb.schema.v1 import schema_pb2, schema_service_pb2
from chatdb.training.v1 import training_pb2, training_service_pb2
from chatdb_client.errors import ChatDBError, TrainingJobFailed
from chatdb_client.results import AskResult, QueryResult, SystemStatus, to_duration

T = TypeVar("T")

SCHEMA = "chatdb.schema.v1.SchemaService"
TRAINING = "chatdb.training.v1.TrainingService"
QUERY = "chatdb.query.v1.QueryService"
PREDICTION = "chatdb.prediction.v1.PredictionService"

SOURCE_PREFIX = "dataSources/"

_TERMINAL_FAILURES = {
    training_pb2.TRAINING_JOB_STATE_FAILED: "FAILED",
    training_pb2.TRAINING_JOB_STATE_CANCELLED: "CANCELLED",
}
_TERMINAL_STATES = {training_pb2.TRAINING_JOB_STATE_SUCCEEDED, *_TERMINAL_FAILURES}


@dataclass(frozen=True)
class Operation(Generic[T]):
    """One RPC to make: the service's full name, the method, the request and the
    reader of the reply (for streams, of each message). ``timeout`` None means the
    client's default deadline (unary) or no deadline (streams)."""

    service: str
    method: str
    request: Any
    read: Callable[[Any], T]
    timeout: float | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing."""

    items: list[T]
    next_page_token: str


def source_name(source: str) -> str:
    """``"dataSources/{id}"`` for a data source given by id or by resource name."""
    if not source:
        raise ValueError("a data source id or name is required")
    return source if source.startswith(SOURCE_PREFIX) else SOURCE_PREFIX + source


def dialect_value(dialect: str | int) -> int:
    """A ``chatdb.common.v1.Dialect`` from ``"postgresql"``, ``"mysql"``, ``"sqlite"`` or the enum value."""
    if isinstance(dialect, int):
        return dialect
    return dialect_pb2.Dialect.Value("DIALECT_" + dialect.upper().removeprefix("DIALECT_"))


# --- SchemaService ---------------------------------------------------------------------------

def create_data_source(dsn: str, display_name: str = "", data_source_id: str = "",
                       schemas: Sequence[str] = ()) -> Operation[schema_pb2.DataSource]:
    """Register a database (its connection is tested and its schema discovered first)."""
    source = schema_pb2.DataSource(dsn=dsn, display_name=display_name, schemas=list(schemas))
    request = schema_service_pb2.CreateDataSourceRequest(data_source=source, data_source_id=data_source_id)
    return Operation(SCHEMA, "CreateDataSource", request, lambda reply: reply.data_source)


def get_data_source(source: str) -> Operation[schema_pb2.DataSource]:
    """One data source."""
    request = schema_service_pb2.GetDataSourceRequest(name=source_name(source))
    return Operation(SCHEMA, "GetDataSource", request, lambda reply: reply.data_source)


def list_data_sources(page_token: str, page_size: int = 0) -> Operation[Page[schema_pb2.DataSource]]:
    """One page of the tenant's data sources."""
    request = schema_service_pb2.ListDataSourcesRequest(page_size=page_size, page_token=page_token)
    return Operation(SCHEMA, "ListDataSources", request,
                     lambda reply: Page(list(reply.data_sources), reply.next_page_token))


def delete_data_source(source: str) -> Operation[None]:
    """Delete a data source and everything stored for it."""
    request = schema_service_pb2.DeleteDataSourceRequest(name=source_name(source))
    return Operation(SCHEMA, "DeleteDataSource", request, lambda reply: None)


def list_tables(source: str, page_token: str, full: bool = False,
                page_size: int = 0) -> Operation[Page[schema_pb2.Table]]:
    """One page of a source's tables; ``full`` adds columns, keys, indexes and samples."""
    view = schema_pb2.TABLE_VIEW_FULL if full else schema_pb2.TABLE_VIEW_BASIC
    request = schema_service_pb2.ListTablesRequest(parent=source_name(source), page_size=page_size,
                                                   page_token=page_token, view=view)
    return Operation(SCHEMA, "ListTables", request, lambda reply: Page(list(reply.tables), reply.next_page_token))


def get_schema_graph(source: str, min_confidence: float = 0.0) -> Operation[Any]:
    """The join graph: declared foreign keys and inferred joins."""
    request = schema_service_pb2.GetSchemaGraphRequest(parent=source_name(source), min_confidence=min_confidence)
    return Operation(SCHEMA, "GetSchemaGraph", request, lambda reply: reply)


# --- TrainingService -------------------------------------------------------------------------

def create_training_job(source: str, tables: Sequence[str] | None = None) -> Operation[training_pb2.TrainingJob]:
    """Queue a schema training job for some tables, or all when ``tables`` is empty."""
    request = training_service_pb2.CreateTrainingJobRequest(parent=source_name(source), tables=list(tables or ()),
                                                            type=training_pb2.TRAINING_JOB_TYPE_SCHEMA)
    return Operation(TRAINING, "CreateTrainingJob", request, lambda reply: reply.training_job)


def get_training_job(name: str) -> Operation[training_pb2.TrainingJob]:
    """One training job, ``trainingJobs/{id}``."""
    request = training_service_pb2.GetTrainingJobRequest(name=name)
    return Operation(TRAINING, "GetTrainingJob", request, lambda reply: reply.training_job)


def watch_training_job(name: str, timeout: float | None = None) -> Operation[training_pb2.TrainingJob]:
    """A stream of the job's states until it ends."""
    request = training_service_pb2.WatchTrainingJobRequest(name=name)
    return Operation(TRAINING, "WatchTrainingJob", request, lambda reply: reply.training_job, timeout)


class Deadline:
    """What is left of ``timeout`` seconds (None: no bound) across several calls."""

    def __init__(self, timeout: float | None) -> None:
        self._end = None if timeout is None else time.monotonic() + timeout

    def remaining(self) -> float | None:
        """Seconds left; a spent deadline leaves a millisecond, so the next call fails DEADLINE_EXCEEDED."""
        return None if self._end is None else max(self._end - time.monotonic(), 0.001)


def watch_resumes(error: ChatDBError, delivered: bool) -> bool:
    """Whether a broken WatchTrainingJob is started again: it had delivered updates (the job exists, a
    server answered) and ended with UNAVAILABLE, as a stream does when its server closes an aged
    connection or stops. Any other error is the caller's to see."""
    return delivered and error.code is grpc.StatusCode.UNAVAILABLE


def is_finished(job: training_pb2.TrainingJob) -> bool:
    """Whether the job reached a terminal state."""
    return job.state in _TERMINAL_STATES


def succeeded(job: training_pb2.TrainingJob) -> training_pb2.TrainingJob:
    """The job if it succeeded; raises :class:`TrainingJobFailed` if it failed or was cancelled."""
    if job.state in _TERMINAL_FAILURES:
        raise TrainingJobFailed(job, _TERMINAL_FAILURES[job.state])
    return job


# --- QueryService ----------------------------------------------------------------------------

def ask(source: str, question: str, max_rows: int = 0, execute: bool = True, query_timeout: float | None = None,
        candidate_count: int = 0, model: str = "", timeout: float | None = None) -> Operation[AskResult]:
    """Answer a question: generate guarded SQL and, unless ``execute`` is False, run it."""
    options = query_pb2.AskOptions(max_rows=max_rows, execute=execute, candidate_count=candidate_count,
                                   model=model)
    if query_timeout is not None:
        options.timeout.CopyFrom(to_duration(query_timeout))
    request = query_service_pb2.AskRequest(parent=source_name(source), question=question, options=options)
    return Operation(QUERY, "Ask", request, AskResult.from_proto, timeout)


def execute_sql(source: str, sql: str, max_rows: int = 0, query_timeout: float | None = None,
                timeout: float | None = None) -> Operation[QueryResult]:
    """Run caller-supplied SQL through the guard and the read-only executor."""
    request = query_service_pb2.ExecuteSqlRequest(parent=source_name(source), sql=sql, max_rows=max_rows)
    if query_timeout is not None:
        request.timeout.CopyFrom(to_duration(query_timeout))
    return Operation(QUERY, "ExecuteSql", request, QueryResult.from_proto, timeout)


def validate_sql(source: str, sql: str) -> Operation[Any]:
    """The guard's verdict on SQL (``valid``, ``sql`` as it would run, ``violations``)."""
    request = query_service_pb2.ValidateSqlRequest(parent=source_name(source), sql=sql)
    return Operation(QUERY, "ValidateSql", request, lambda reply: reply)


def submit_feedback(query: str, correct: bool | None = None, corrected_sql: str = "",
                    comment: str = "") -> Operation[query_pb2.Query]:
    """Rate a recorded query; a correct rating, or a corrected SQL, becomes a golden example.

    ``correct`` may be left out when ``corrected_sql`` is given (which means incorrect)."""
    if correct is None and not corrected_sql:
        raise ValueError("say whether the query was correct, or give the corrected SQL")
    rating = query_pb2.FEEDBACK_RATING_CORRECT if correct else query_pb2.FEEDBACK_RATING_INCORRECT
    request = query_service_pb2.SubmitFeedbackRequest(name=query, rating=rating, corrected_sql=corrected_sql,
                                                      comment=comment)
    return Operation(QUERY, "SubmitFeedback", request, lambda reply: reply.query)


def system_status() -> Operation[SystemStatus]:
    """The degradation level, each dependency's health and each breaker's state."""
    return Operation(QUERY, "GetSystemStatus", query_service_pb2.GetSystemStatusRequest(), SystemStatus.from_proto)


# --- PredictionService -----------------------------------------------------------------------

def generate_sql(question: str, dialect: str | int, schema_context: prediction_pb2.SchemaContext,
                 examples: Sequence[tuple[str, str]] = (), candidate_count: int = 0, model: str = "",
                 constrained_decoding: bool = False) -> Operation[Any]:
    """SQL candidates for a question over the given schema context (examples are (question, sql) pairs)."""
    request = prediction_service_pb2.GenerateSqlRequest(
        question=question, dialect=dialect_value(dialect), schema_context=schema_context,
        examples=[prediction_pb2.ExampleContext(question=q, sql=s) for q, s in examples],
        candidate_count=candidate_count, model=model, constrained_decoding=constrained_decoding)
    return Operation(PREDICTION, "GenerateSql", request, lambda reply: reply)
