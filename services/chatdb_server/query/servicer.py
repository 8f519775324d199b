"""QueryService over gRPC: translation between messages and :class:`QueryService` calls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from chatdb.query.v1 import query_service_pb2 as pb
from chatdb.query.v1 import query_service_pb2_grpc
from chatdb_server.query.convert import (
    ask_options,
    ask_response,
    batch_message,
    batch_questions,
    execute_response,
    export_message,
    export_request,
    list_queries_response,
    query_to_proto,
    rating_from_proto,
    search_tables_response,
    seconds,
    stream_message,
    system_status_response,
    validate_response,
)
from chatdb_server.query.service import QueryService
from chatdb_server.rpc import CallInfo, streaming, unary


class QueryServicer(query_service_pb2_grpc.QueryServiceServicer):
    """The QueryService RPCs; the tenant comes from the call's metadata."""

    def __init__(self, service: QueryService) -> None:
        self._service = service

    @unary
    async def Ask(self, request: pb.AskRequest, context: Any, call: CallInfo) -> pb.AskResponse:
        answer = await self._service.ask(call.tenant, request.parent, request.question,
                                         ask_options(request.options, request.previous_query), call.request_id)
        return ask_response(answer)

    @streaming
    async def StreamAsk(self, request: pb.StreamAskRequest, context: Any,
                        call: CallInfo) -> AsyncIterator[pb.StreamAskResponse]:
        async for event in self._service.stream_ask(call.tenant, request.parent, request.question,
                                                    ask_options(request.options, request.previous_query),
                                                    request.batch_size,
                                                    call.request_id):
            yield stream_message(event)

    @streaming
    async def BatchAsk(self, request: pb.BatchAskRequest, context: Any,
                       call: CallInfo) -> AsyncIterator[pb.BatchAskResponse]:
        async for outcome in self._service.batch_ask(call.tenant, request.parent, batch_questions(request),
                                                     ask_options(request.options, request.previous_query),
                                                     call.request_id):
            yield batch_message(outcome)

    @streaming
    async def ExportQueryResult(self, request: pb.ExportQueryResultRequest, context: Any,
                                call: CallInfo) -> AsyncIterator[pb.ExportQueryResultResponse]:
        async with aclosing(self._service.export(call.tenant, export_request(request))) as events:
            async for event in events:
                yield export_message(event)

    @unary
    async def ExecuteSql(self, request: pb.ExecuteSqlRequest, context: Any, call: CallInfo) -> pb.ExecuteSqlResponse:
        timeout = seconds(request.timeout) if request.HasField("timeout") else None
        result = await self._service.execute_sql(call.tenant, request.parent, request.sql, request.max_rows, timeout)
        return execute_response(result)

    @unary
    async def ValidateSql(self, request: pb.ValidateSqlRequest, context: Any,
                          call: CallInfo) -> pb.ValidateSqlResponse:
        return validate_response(await self._service.validate_sql(call.tenant, request.parent, request.sql))

    @unary
    async def SearchTables(self, request: pb.SearchTablesRequest, context: Any,
                           call: CallInfo) -> pb.SearchTablesResponse:
        found = await self._service.search_tables(call.tenant, request.parent, request.query, request.page_size)
        return search_tables_response(found)

    @unary
    async def ListQueries(self, request: pb.ListQueriesRequest, context: Any,
                          call: CallInfo) -> pb.ListQueriesResponse:
        page = await self._service.list_queries(call.tenant, request.parent, request.page_size, request.page_token)
        return list_queries_response(page)

    @unary
    async def GetQuery(self, request: pb.GetQueryRequest, context: Any, call: CallInfo) -> pb.GetQueryResponse:
        return pb.GetQueryResponse(query=query_to_proto(await self._service.get_query(call.tenant, request.name)))

    @unary
    async def SubmitFeedback(self, request: pb.SubmitFeedbackRequest, context: Any,
                             call: CallInfo) -> pb.SubmitFeedbackResponse:
        stored = await self._service.submit_feedback(call.tenant, request.name, rating_from_proto(request.rating),
                                                     request.corrected_sql, request.comment, call.request_id)
        return pb.SubmitFeedbackResponse(query=query_to_proto(stored))

    @unary
    async def GetSystemStatus(self, request: pb.GetSystemStatusRequest, context: Any,
                              call: CallInfo) -> pb.GetSystemStatusResponse:
        return system_status_response(await self._service.system_status(call.tenant))
