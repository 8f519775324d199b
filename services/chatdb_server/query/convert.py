"""QueryService's protobuf edge: request fields → domain values, domain results → replies.

The only module of the query package, with the servicer, that knows the contract's messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import Any

from google.protobuf import duration_pb2

from chatdb.common.v1 import dialect_pb2, value_pb2
from chatdb.query.v1 import query_pb2, query_service_pb2
from chatdb.wire import timestamp, to_value
from chatdb_server.errors import InvalidArgument, to_status
from chatdb_server.query.batch import BatchOutcome, BatchQuestion
from chatdb_server.query.chart_hint import ChartHint
from chatdb_server.query.domain import QueryState, Rating, Rows, ServedBy, StageKind
from chatdb_server.query.export import ExportDone, ExportEvent, ExportRequest, ExportStart
from chatdb_server.query.export_formats import ExportFormat
from chatdb_server.query.history import TIMING_STEPS, Feedback, QueryPage, StoredQuery
from chatdb_server.query.pipeline import Answer, AskOptions, Stage
from chatdb_server.query.pipeline_sql import SqlRun, SqlValidation
from chatdb_server.query.service import SystemStatus
from chatdb_server.query.stream import AskEvent, RowBatch
from chatdb_server.query.table_search import TableSearchResult
from chatdb_server.resilience.levels import DependencyHealth
from chatdb_server.retrieval.retriever import JOIN_NEIGHBOR, ScoredTable
from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.values import ResultColumn, value_type_enum

DIALECT_TO_PROTO: dict[Dialect, dialect_pb2.Dialect] = {
    Dialect.POSTGRESQL: dialect_pb2.DIALECT_POSTGRESQL,
    Dialect.MYSQL: dialect_pb2.DIALECT_MYSQL,
    Dialect.SQLITE: dialect_pb2.DIALECT_SQLITE,
}
_REASONS = {JOIN_NEIGHBOR: query_pb2.RETRIEVAL_REASON_JOIN_NEIGHBOR}
_SERVED_BY: dict[ServedBy, query_pb2.ServedBy] = {s: query_pb2.ServedBy.Value(f"SERVED_BY_{s.value}") for s in ServedBy}
_STAGES: dict[StageKind, query_service_pb2.AskStage] = {
    k: query_service_pb2.AskStage.Value(f"ASK_STAGE_{k.value}") for k in StageKind}
_STATES: dict[QueryState, query_pb2.QueryState] = {
    s: query_pb2.QueryState.Value(f"QUERY_STATE_{s.value}") for s in QueryState}
_RATINGS: dict[Rating, query_pb2.FeedbackRating] = {
    r: query_pb2.FeedbackRating.Value(f"FEEDBACK_RATING_{r.value}") for r in Rating}
_FORMATS: dict[ExportFormat, query_pb2.ExportFormat] = {
    f: query_pb2.ExportFormat.Value(f"EXPORT_FORMAT_{f.value}") for f in ExportFormat}


# ---- requests → domain ------------------------------------------------------------------------------

def ask_options(message: query_pb2.AskOptions, previous_query: str = "") -> AskOptions:
    """The domain options of a request (unset fields take the defaults), with the query it follows up."""
    return AskOptions(
        max_rows=message.max_rows,
        timeout_s=seconds(message.timeout) if message.HasField("timeout") else None,
        execute=message.execute if message.HasField("execute") else True,
        candidate_count=message.candidate_count, model=message.model.strip(), previous_query=previous_query.strip())


def batch_questions(request: query_service_pb2.BatchAskRequest) -> list[BatchQuestion]:
    """The questions of a BatchAsk, in order."""
    return [BatchQuestion(q.id, q.question) for q in request.questions]


def export_request(request: query_service_pb2.ExportQueryResultRequest) -> ExportRequest:
    """What an ExportQueryResult asks for (an unset format is None: the service says it is required)."""
    kind = next((k for k, number in _FORMATS.items() if number == request.format), None)
    return ExportRequest(parent=request.parent, sql=request.sql, query=request.query.strip(), format=kind,
                         max_rows=request.max_rows,
                         timeout_s=seconds(request.timeout) if request.HasField("timeout") else None)


def seconds(value: duration_pb2.Duration) -> float:
    """A Duration in seconds."""
    return value.seconds + value.nanos / 1e9


def rating_from_proto(value: int) -> Rating | None:
    """The domain rating; None when unset (the service says it is required), InvalidArgument on ``rating``
    for a number the contract does not define."""
    rating = next((rating for rating, number in _RATINGS.items() if number == value), None)
    if rating is None and value != query_pb2.FEEDBACK_RATING_UNSPECIFIED:
        raise InvalidArgument("rating", f"{value} is not a feedback rating; use FEEDBACK_RATING_CORRECT or "
                                        "FEEDBACK_RATING_INCORRECT")
    return rating


# ---- domain → replies -------------------------------------------------------------------------------

def rows_to_proto(columns: Sequence[ResultColumn], rows: Iterable[Sequence[Any]]) -> list[value_pb2.Row]:
    """Rows on the wire, each cell typed by its column."""
    types = [c.value_type for c in columns]
    return [value_pb2.Row(values=[to_value(cell, types[i] if i < len(types) else "") for i, cell in enumerate(row)])
            for row in rows]


def columns_to_proto(columns: Sequence[ResultColumn]) -> list[value_pb2.ResultColumn]:
    """Result columns on the wire."""
    return [value_pb2.ResultColumn(name=c.name, type=value_type_enum(c.value_type),  # type: ignore[arg-type]
                                   database_type=c.database_type) for c in columns]


def served_by_to_proto(served_by: ServedBy) -> query_pb2.ServedBy:
    """The contract's ServedBy."""
    return _SERVED_BY[served_by]


def duration(value: float) -> duration_pb2.Duration:
    """A Duration of ``value`` seconds."""
    message = duration_pb2.Duration()
    message.FromTimedelta(timedelta(seconds=value))
    return message


def timings_message(steps: dict[str, float]) -> query_pb2.Timings:
    """Timings of seconds per step."""
    message = query_pb2.Timings()
    for step in TIMING_STEPS:
        if step in steps:
            getattr(message, step).CopyFrom(duration(steps[step]))
    return message


def retrieved_tables(tables: Sequence[ScoredTable]) -> list[query_pb2.RetrievedTable]:
    """What retrieval chose, best first."""
    return [query_pb2.RetrievedTable(table=t.name, score=t.score,
                                     reason=_REASONS.get(t.reason, query_pb2.RETRIEVAL_REASON_SEARCH))
            for t in tables]


def search_tables_response(result: TableSearchResult) -> query_service_pb2.SearchTablesResponse:
    """The SearchTablesResponse of a search."""
    return query_service_pb2.SearchTablesResponse(
        tables=[query_pb2.TableMatch(table=m.table, score=m.score,
                                     reason=_REASONS.get(m.reason, query_pb2.RETRIEVAL_REASON_SEARCH),
                                     matched_words=m.matched_words, matched_columns=m.matched_columns,
                                     joins_with=m.joins_with, description=m.description)
                for m in result.tables],
        degradation_level=result.level.to_proto())


def _result_fields(rows: Rows, with_rows: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {"columns": columns_to_proto(rows.columns), "row_count": len(rows.rows),
                              "truncated": rows.truncated}
    if with_rows:
        fields["rows"] = rows_to_proto(rows.columns, rows.rows)
    return fields


def ask_response(answer: Answer, *, with_rows: bool = True) -> query_service_pb2.AskResponse:
    """The AskResponse of an answer (without its rows for StreamAsk's summary)."""
    response = query_service_pb2.AskResponse(
        query=answer.query, sql=answer.sql, explanation=answer.explanation, confidence=answer.confidence,
        retrieved_tables=retrieved_tables(answer.retrieved), tables_used=answer.tables_used,
        warnings=answer.warnings, timings=timings_message(answer.timings),
        degradation_level=answer.level.to_proto(), served_by=served_by_to_proto(answer.served_by),
        model=answer.model, stale=answer.stale, executed=answer.executed, trace_id=answer.trace_id,
        answer_text=answer.reading.text, chart=chart_to_proto(answer.reading.chart),
        low_confidence=answer.reading.low_confidence, suggested_question=answer.reading.suggested_question,
        **(_result_fields(answer.rows, with_rows) if answer.rows is not None else {}))
    if answer.cached_time is not None and answer.stale:
        response.cached_time.CopyFrom(timestamp(answer.cached_time))
    return response


def chart_to_proto(hint: ChartHint) -> query_pb2.ChartSuggestion:
    """The contract's ChartSuggestion."""
    return query_pb2.ChartSuggestion(type=query_pb2.ChartType.Value(f"CHART_TYPE_{hint.type.value}"),
                                     x_column=hint.x_column, y_columns=hint.y_columns,
                                     series_column=hint.series_column)


def stage_event(stage: Stage) -> query_service_pb2.StreamAskResponse:
    """A StreamAsk stage event."""
    event = query_service_pb2.StageEvent(
        stage=_STAGES[stage.kind], sql=stage.sql, retrieved_tables=retrieved_tables(stage.retrieved),
        columns=columns_to_proto(stage.columns), elapsed=duration(stage.elapsed_s))
    return query_service_pb2.StreamAskResponse(stage=event)


def stream_message(event: AskEvent) -> query_service_pb2.StreamAskResponse:
    """The StreamAsk message of a streamed ask's event."""
    if isinstance(event, Stage):
        return stage_event(event)
    if isinstance(event, RowBatch):
        return query_service_pb2.StreamAskResponse(
            rows=query_service_pb2.RowBatch(rows=rows_to_proto(event.columns, event.rows)))
    return query_service_pb2.StreamAskResponse(summary=ask_response(event, with_rows=False))


def batch_message(outcome: BatchOutcome) -> query_service_pb2.BatchAskResponse:
    """The BatchAskResponse of one question's outcome: its answer, or its error as a google.rpc.Status."""
    message = query_service_pb2.BatchAskResponse(index=outcome.index, id=outcome.id)
    if outcome.answer is not None:
        message.answer.CopyFrom(ask_response(outcome.answer))
    elif outcome.error is not None:
        message.error.ParseFromString(to_status(outcome.error).SerializeToString())
    return message


def export_message(event: ExportEvent) -> query_service_pb2.ExportQueryResultResponse:
    """The ExportQueryResult message of an export's event."""
    if isinstance(event, bytes):
        return query_service_pb2.ExportQueryResultResponse(chunk=event)
    if isinstance(event, ExportStart):
        return query_service_pb2.ExportQueryResultResponse(header=query_service_pb2.ExportHeader(
            format=_FORMATS[event.format], content_type=event.info.content_type,
            file_extension=event.info.extension, columns=columns_to_proto(event.columns), sql=event.sql))
    done: ExportDone = event
    return query_service_pb2.ExportQueryResultResponse(summary=query_service_pb2.ExportSummary(
        row_count=done.row_count, byte_count=done.byte_count, truncated=done.truncated, warnings=done.warnings,
        elapsed=duration(done.elapsed_s)))


def execute_response(result: SqlRun) -> query_service_pb2.ExecuteSqlResponse:
    """The ExecuteSqlResponse of a run."""
    return query_service_pb2.ExecuteSqlResponse(
        query=result.query, sql=result.verdict.sql, warnings=[*result.verdict.warnings, *result.run.warnings],
        timings=timings_message(result.timings), degradation_level=result.level.to_proto(),
        served_by=served_by_to_proto(result.served_by), stale=result.run.stale,
        **_result_fields(result.run.rows, True))


def validate_response(validation: SqlValidation) -> query_service_pb2.ValidateSqlResponse:
    """The ValidateSqlResponse of a verdict."""
    verdict = validation.verdict
    return query_service_pb2.ValidateSqlResponse(
        valid=verdict.valid, sql=verdict.sql if verdict.valid else "",
        violations=[query_service_pb2.Violation(reason=v.reason, message=v.message) for v in verdict.violations],
        tables=verdict.tables, dialect=DIALECT_TO_PROTO[validation.dialect], warnings=verdict.warnings)


def feedback_to_proto(feedback: Feedback) -> query_pb2.Feedback:
    """The contract's Feedback."""
    return query_pb2.Feedback(rating=_RATINGS[feedback.rating], corrected_sql=feedback.corrected_sql,
                              comment=feedback.comment, example=feedback.example,
                              create_time=timestamp(feedback.create_time))


def query_to_proto(stored: StoredQuery) -> query_pb2.Query:
    """The contract's Query of a recorded query."""
    record = stored.record
    message = query_pb2.Query(
        name=stored.name, question=record.question, sql=record.sql,
        state=_STATES[record.state], error_reason=record.error_reason,
        error_message=record.error_message, model=record.model, degradation_level=record.level.to_proto(),
        row_count=record.row_count, confidence=record.confidence, timings=timings_message(record.timings),
        create_time=timestamp(stored.create_time), previous_query=stored.previous_query)
    if record.served_by is not None:
        message.served_by = served_by_to_proto(record.served_by)
    if stored.feedback is not None:
        message.feedback.CopyFrom(feedback_to_proto(stored.feedback))
    return message


def list_queries_response(page: QueryPage) -> query_service_pb2.ListQueriesResponse:
    """The ListQueriesResponse of a page."""
    return query_service_pb2.ListQueriesResponse(queries=[query_to_proto(q) for q in page.queries],
                                                 next_page_token=page.next_page_token)


def dependency_to_proto(health: DependencyHealth) -> query_pb2.DependencyStatus:
    """One dependency's DependencyStatus."""
    return query_pb2.DependencyStatus(name=health.name, healthy=health.healthy, detail=health.detail,
                                      breaker_state=health.breaker_state, failure_count=health.failure_count)


def system_status_response(status: SystemStatus) -> query_service_pb2.GetSystemStatusResponse:
    """The GetSystemStatusResponse of a status."""
    return query_service_pb2.GetSystemStatusResponse(
        degradation_level=status.level.to_proto(),
        dependencies=[dependency_to_proto(d) for d in status.dependencies], check_time=timestamp(status.check_time))
