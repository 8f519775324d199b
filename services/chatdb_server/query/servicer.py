"""QueryServicer: the eight QueryService RPCs, translated to the ask pipeline and its neighbours."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from chatdb.query.v1 import query_pb2, query_service_pb2, query_service_pb2_grpc
from chatdb_server.query.convert import (
    ask_options,
    ask_response,
    execute_response,
    seconds,
    validate_response,
)
from chatdb_server.query.history import QueryHistory, query_message, query_name_parts
from chatdb_server.query.history_feedback import FeedbackDesk
from chatdb_server.query.pipeline import AskPipeline
from chatdb_server.query.pipeline_sources import SourceContexts, metadata_store_errors
from chatdb_server.query.pipeline_sql import CallerSql
from chatdb_server.query.stream import stream_ask
from chatdb_server.resilience.levels import HealthMonitor
from chatdb_server.rpc import CallInfo, streaming, unary


class QueryServicer(query_service_pb2_grpc.QueryServiceServicer):
    """Ask, StreamAsk, ExecuteSql, ValidateSql, ListQueries, GetQuery, SubmitFeedback, GetSystemStatus."""

    def __init__(self, pipeline: AskPipeline, caller_sql: CallerSql, feedback: FeedbackDesk,
                 history: QueryHistory, contexts: SourceContexts, monitor: HealthMonitor) -> None:
        self._pipeline = pipeline
        self._caller_sql = caller_sql
        self._feedback = feedback
        self._history = history
        self._contexts = contexts
        self._monitor = monitor

    @unary
    async def Ask(self, request: query_service_pb2.AskRequest, context: Any,
                  call: CallInfo) -> query_service_pb2.AskResponse:
        answer = await self._pipeline.ask(call.tenant, request.parent, request.question, ask_options(request.options),
                                          request_id=call.request_id)
        return ask_response(answer)

    @streaming
    async def StreamAsk(self, request: query_service_pb2.StreamAskRequest, context: Any,
                        call: CallInfo) -> AsyncIterator[query_service_pb2.StreamAskResponse]:
        async for message in stream_ask(self._pipeline, call.tenant, request.parent, request.question,
                                        ask_options(request.options), request.batch_size, call.request_id):
            yield message

    @unary
    async def ExecuteSql(self, request: query_service_pb2.ExecuteSqlRequest, context: Any,
                         call: CallInfo) -> query_service_pb2.ExecuteSqlResponse:
        timeout = seconds(request.timeout) if request.HasField("timeout") else None
        result = await self._caller_sql.execute(call.tenant, request.parent, request.sql, request.max_rows, timeout)
        return execute_response(result)

    @unary
    async def ValidateSql(self, request: query_service_pb2.ValidateSqlRequest, context: Any,
                          call: CallInfo) -> query_service_pb2.ValidateSqlResponse:
        source_context, verdict = await self._caller_sql.validate(call.tenant, request.parent, request.sql)
        return validate_response(source_context.source, verdict)

    @unary
    async def ListQueries(self, request: query_service_pb2.ListQueriesRequest, context: Any,
                          call: CallInfo) -> query_service_pb2.ListQueriesResponse:
        source = (await self._contexts.get(call.tenant, request.parent)).source
        async with metadata_store_errors():
            found, token = await self._history.list(source, request.page_size, request.page_token)
        return query_service_pb2.ListQueriesResponse(queries=[query_message(source, q) for q in found],
                                                     next_page_token=token)

    @unary
    async def GetQuery(self, request: query_service_pb2.GetQueryRequest, context: Any,
                       call: CallInfo) -> query_service_pb2.GetQueryResponse:
        source_id, query_id = query_name_parts(request.name)
        source = (await self._contexts.get(call.tenant, f"dataSources/{source_id}", "name")).source
        async with metadata_store_errors():
            stored = await self._history.get(source, query_id)
        return query_service_pb2.GetQueryResponse(query=query_message(source, stored))

    @unary
    async def SubmitFeedback(self, request: query_service_pb2.SubmitFeedbackRequest, context: Any,
                             call: CallInfo) -> query_service_pb2.SubmitFeedbackResponse:
        rating = query_pb2.FeedbackRating.Name(request.rating).removeprefix("FEEDBACK_RATING_")
        source_context, stored = await self._feedback.submit(call.tenant, request.name, rating, request.corrected_sql,
                                                             request.comment, call.request_id)
        return query_service_pb2.SubmitFeedbackResponse(query=query_message(source_context.source, stored))

    @unary
    async def GetSystemStatus(self, request: query_service_pb2.GetSystemStatusRequest, context: Any,
                              call: CallInfo) -> query_service_pb2.GetSystemStatusResponse:
        dependencies = await self._monitor.dependencies(call.tenant, fresh=True)  # the status RPC probes now
        level = await self._monitor.level()
        response = query_service_pb2.GetSystemStatusResponse(
            degradation_level=level.to_proto(),
            dependencies=[query_pb2.DependencyStatus(name=d.name, healthy=d.healthy, detail=d.detail,
                                                     breaker_state=d.breaker_state, failure_count=d.failure_count)
                          for d in dependencies])
        response.check_time.FromDatetime(datetime.now(UTC))
        return response
