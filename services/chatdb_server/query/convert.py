"""Domain results of QueryService → its protobuf replies."""

from __future__ import annotations

from google.protobuf import duration_pb2

from chatdb.query.v1 import query_pb2, query_service_pb2
from chatdb.wire import timestamp
from chatdb_server.query.clients import DIALECT_TO_PROTO
from chatdb_server.query.history import duration, timings_message
from chatdb_server.query.pipeline import Answer, AskOptions, Stage
from chatdb_server.query.pipeline_sql import SqlRun
from chatdb_server.retrieval.retriever import JOIN_NEIGHBOR, ScoredTable
from chatdb_server.sql.guard import GuardVerdict
from chatdb_server.sql.structure import SourceRef

_REASONS = {JOIN_NEIGHBOR: query_pb2.RETRIEVAL_REASON_JOIN_NEIGHBOR}


def ask_options(message: query_pb2.AskOptions) -> AskOptions:
    """The domain options of a request (unset fields take the defaults)."""
    return AskOptions(
        max_rows=message.max_rows,
        timeout_s=seconds(message.timeout) if message.HasField("timeout") else None,
        execute=message.execute if message.HasField("execute") else True,
        candidate_count=message.candidate_count, model=message.model.strip())


def seconds(value: duration_pb2.Duration) -> float:
    """A Duration in seconds."""
    return value.seconds + value.nanos / 1e9


def retrieved_tables(tables: list[ScoredTable] | tuple[ScoredTable, ...]) -> list[query_pb2.RetrievedTable]:
    """What retrieval chose, best first."""
    return [query_pb2.RetrievedTable(table=t.name, score=t.score,
                                     reason=_REASONS.get(t.reason, query_pb2.RETRIEVAL_REASON_SEARCH))
            for t in tables]


def ask_response(answer: Answer, *, with_rows: bool = True) -> query_service_pb2.AskResponse:
    """The AskResponse of an answer (without its rows for StreamAsk's summary)."""
    response = query_service_pb2.AskResponse(
        query=answer.query, sql=answer.sql, explanation=answer.explanation, confidence=answer.confidence,
        retrieved_tables=retrieved_tables(answer.retrieved), tables_used=answer.tables_used,
        warnings=answer.warnings, timings=timings_message(answer.timings),
        degradation_level=answer.level.to_proto(), served_by=query_pb2.ServedBy.Value(f"SERVED_BY_{answer.served_by}"),
        model=answer.model, stale=answer.stale, executed=answer.executed)
    if answer.rows is not None:
        response.columns.extend(answer.rows.columns)
        response.row_count = len(answer.rows.rows)
        response.truncated = answer.rows.truncated
        if with_rows:
            response.rows.extend(answer.rows.rows)
    if answer.cached_time is not None and answer.stale:
        response.cached_time.CopyFrom(timestamp(answer.cached_time))
    return response


def stage_event(stage: Stage) -> query_service_pb2.StreamAskResponse:
    """A StreamAsk stage event."""
    event = query_service_pb2.StageEvent(
        stage=query_service_pb2.AskStage.Value(f"ASK_STAGE_{stage.kind}"), sql=stage.sql,
        retrieved_tables=retrieved_tables(stage.retrieved), columns=list(stage.columns),
        elapsed=duration(stage.elapsed_s))
    return query_service_pb2.StreamAskResponse(stage=event)


def execute_response(result: SqlRun) -> query_service_pb2.ExecuteSqlResponse:
    """The ExecuteSqlResponse of a run."""
    rows = result.run.rows
    return query_service_pb2.ExecuteSqlResponse(
        query=result.query, sql=result.verdict.sql, columns=rows.columns, rows=rows.rows, row_count=len(rows.rows),
        truncated=rows.truncated, warnings=[*result.verdict.warnings, *result.run.warnings],
        timings=timings_message(result.timings), degradation_level=result.level.to_proto(),
        served_by=query_pb2.ServedBy.Value(f"SERVED_BY_{result.served_by}"), stale=result.run.stale)


def validate_response(source: SourceRef, verdict: GuardVerdict) -> query_service_pb2.ValidateSqlResponse:
    """The ValidateSqlResponse of a verdict."""
    return query_service_pb2.ValidateSqlResponse(
        valid=verdict.valid, sql=verdict.sql if verdict.valid else "",
        violations=[query_service_pb2.Violation(reason=v.reason, message=v.message) for v in verdict.violations],
        tables=verdict.tables, dialect=DIALECT_TO_PROTO[source.dialect], warnings=verdict.warnings)
