"""QueryService operations: questions, caller SQL, the query history and the system status."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chatdb.query.v1 import query_pb2, query_service_pb2
from chatdb_client.operations.core import (
    QUERY,
    Listing,
    Operation,
    child_name,
    enum_value,
    identity,
    listing,
    source_name,
)
from chatdb_client.results import (
    AskEvent,
    AskResult,
    BatchAnswer,
    ExportPart,
    QueryResult,
    SystemStatus,
    to_duration,
)


def ask_options(max_rows: int = 0, execute: bool = True, query_timeout: float | None = None,
                candidate_count: int = 0, model: str = "") -> query_pb2.AskOptions:
    """The options of an ask; 0 and None take the server's defaults."""
    options = query_pb2.AskOptions(max_rows=max_rows, execute=execute, candidate_count=candidate_count, model=model)
    if query_timeout is not None:
        options.timeout.CopyFrom(to_duration(query_timeout))
    return options


def ask(source: str, question: str, max_rows: int = 0, execute: bool = True, query_timeout: float | None = None,
        candidate_count: int = 0, model: str = "", timeout: float | None = None,
        previous_query: str = "") -> Operation[AskResult]:
    """Answer a question with guarded SQL and its typed rows (``.sql``, ``.columns``, ``.rows``,
    ``.degradation_level``); with ``execute`` False, generate and guard only. ``max_rows`` 0 and
    ``query_timeout`` None take the server's defaults; ``timeout`` is the call's deadline.
    ``previous_query`` (an earlier answer's ``.query``) makes the question a follow-up of that answer:
    "only those in Berlin", "sort them by price", "how many are there?" refine its SQL."""
    request = query_service_pb2.AskRequest(
        parent=source_name(source), question=question, previous_query=previous_query,
        options=ask_options(max_rows, execute, query_timeout, candidate_count, model))
    return Operation(QUERY, "Ask", request, AskResult.from_proto, timeout)


def stream_ask(source: str, question: str, max_rows: int = 0, execute: bool = True,
               query_timeout: float | None = None, candidate_count: int = 0, model: str = "",
               batch_size: int = 0, timeout: float | None = None, previous_query: str = "") -> Operation[AskEvent]:
    """Ask, streamed: an :class:`~chatdb_client.AskEvent` per stage reached, then per batch of
    ``batch_size`` rows, then the summary (an :class:`~chatdb_client.AskResult` without rows);
    ``previous_query`` as in :func:`ask`."""
    request = query_service_pb2.StreamAskRequest(
        parent=source_name(source), question=question, batch_size=batch_size, previous_query=previous_query,
        options=ask_options(max_rows, execute, query_timeout, candidate_count, model))
    return Operation(QUERY, "StreamAsk", request, AskEvent.from_proto, timeout)


def batch_ask(source: str, questions: Sequence[str] | Mapping[str, str], max_rows: int = 0, execute: bool = True,
              query_timeout: float | None = None, candidate_count: int = 0, model: str = "",
              timeout: float | None = None, previous_query: str = "") -> Operation[BatchAnswer]:
    """Ask many questions about one source, each a full Ask run a few at a time on the server: a
    :class:`~chatdb_client.BatchAnswer` per question as it completes, in no fixed order, with its answer or
    its typed error (one failing question does not end the batch). ``questions`` is a list of questions,
    or a mapping of your ids to questions. ``previous_query`` (an earlier answer's ``.query``) makes every
    question a follow-up of that answer, as in :func:`ask`: a batch of refinements of one answer."""
    pairs = list(questions.items()) if isinstance(questions, Mapping) else [("", q) for q in questions]
    texts = [question for _, question in pairs]
    request = query_service_pb2.BatchAskRequest(
        parent=source_name(source), previous_query=previous_query,
        questions=[query_pb2.BatchQuestion(id=ident, question=question) for ident, question in pairs],
        options=ask_options(max_rows, execute, query_timeout, candidate_count, model))

    def read(reply: query_service_pb2.BatchAskResponse) -> BatchAnswer:
        return BatchAnswer.from_proto(reply, texts[reply.index] if 0 <= reply.index < len(texts) else "")

    return Operation(QUERY, "BatchAsk", request, read, timeout)


def export_query_result(source: str = "", sql: str = "", query: str = "", format: str | int = "csv",
                        max_rows: int = 0, query_timeout: float | None = None,
                        timeout: float | None = None) -> Operation[ExportPart]:
    """The full result of ``sql`` (or of a recorded ``query`` run again) as a file in ``format``
    (``"csv"``, ``"json_lines"``, ``"arrow"``, ``"parquet"``), beyond Ask's row cap: an
    :class:`~chatdb_client.ExportPart` header, then chunks of the file, then the summary."""
    if bool(sql) == bool(query):
        raise ValueError("export SQL or a recorded query, not both")
    request = query_service_pb2.ExportQueryResultRequest(
        parent=source_name(source) if source else "", max_rows=max_rows,
        format=enum_value(query_pb2.ExportFormat, "EXPORT_FORMAT_", format))
    if sql:
        request.sql = sql
    else:
        request.query = query
    if query_timeout is not None:
        request.timeout.CopyFrom(to_duration(query_timeout))
    return Operation(QUERY, "ExportQueryResult", request, ExportPart.from_proto, timeout)


def execute_sql(source: str, sql: str, max_rows: int = 0, query_timeout: float | None = None,
                timeout: float | None = None) -> Operation[QueryResult]:
    """Run a read-only query of your own through the server's guard and read-only executor."""
    request = query_service_pb2.ExecuteSqlRequest(parent=source_name(source), sql=sql, max_rows=max_rows)
    if query_timeout is not None:
        request.timeout.CopyFrom(to_duration(query_timeout))
    return Operation(QUERY, "ExecuteSql", request, QueryResult.from_proto, timeout)


def validate_sql(source: str, sql: str) -> Operation[Any]:
    """The guard's verdict on SQL, running nothing (``ValidateSqlResponse``: ``valid``, ``sql`` as it
    would run, ``violations``)."""
    request = query_service_pb2.ValidateSqlRequest(parent=source_name(source), sql=sql)
    return Operation(QUERY, "ValidateSql", request, identity)


def search_tables(source: str, query: str, page_size: int = 0) -> Operation[Any]:
    """A trained source's tables that best match ``query`` (plain language or words of names), best
    first, with why each matched, then the tables that join them (``SearchTablesResponse``: ``tables``
    of ``TableMatch``, ``degradation_level``). ``page_size`` caps the tables found (0: the server's 10)."""
    request = query_service_pb2.SearchTablesRequest(parent=source_name(source), query=query, page_size=page_size)
    return Operation(QUERY, "SearchTables", request, identity)


def list_queries(source: str, page_size: int = 0) -> Listing[query_pb2.Query]:
    """A source's recorded asks and SQL executions, newest first."""
    request = query_service_pb2.ListQueriesRequest(parent=source_name(source), page_size=page_size)
    return listing(QUERY, "ListQueries", request, "queries")


def get_query(name: str, source: str = "") -> Operation[query_pb2.Query]:
    """One recorded query: ``AskResult.query`` (``"dataSources/{id}/queries/{query}"``), or its id with
    its ``source``."""
    request = query_service_pb2.GetQueryRequest(name=child_name(source, "queries", name))
    return Operation(QUERY, "GetQuery", request, lambda reply: reply.query)


def submit_feedback(query: str, correct: bool | None = None, corrected_sql: str = "",
                    comment: str = "") -> Operation[query_pb2.Query]:
    """Rate an answered query (``AskResult.query``); a correct rating, or a corrected SQL, becomes a
    golden example. ``correct`` may be left out when ``corrected_sql`` is given (which means incorrect)."""
    if correct is None and not corrected_sql:
        raise ValueError("say whether the query was correct, or give the corrected SQL")
    rating = query_pb2.FEEDBACK_RATING_CORRECT if correct else query_pb2.FEEDBACK_RATING_INCORRECT
    request = query_service_pb2.SubmitFeedbackRequest(name=query, rating=rating, corrected_sql=corrected_sql,
                                                      comment=comment)
    return Operation(QUERY, "SubmitFeedback", request, lambda reply: reply.query)


def get_system_status() -> Operation[SystemStatus]:
    """The degradation level, each dependency's health and each breaker's state."""
    return Operation(QUERY, "GetSystemStatus", query_service_pb2.GetSystemStatusRequest(), SystemStatus.from_proto)


system_status = get_system_status
