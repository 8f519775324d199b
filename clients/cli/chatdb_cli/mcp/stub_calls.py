"""The call the MCP tools need that the Python SDK does not offer yet (SearchTables), made on the SDK
client's own channel with the generated stub and the same call metadata (credential, tenant, request
id) and error type (:class:`~chatdb_client.ChatDBError`) as the SDK's calls. When the SDK gains it,
the tool switches to the SDK and this module goes."""

from __future__ import annotations

import grpc

from chatdb.query.v1 import query_service_pb2, query_service_pb2_grpc
from chatdb_cli.connection import Connection
from chatdb_client import AsyncChatDBClient, ChatDBError
from chatdb_client.channel import call_metadata, new_request_id
from chatdb_client.operations import source_name


class StubCalls:
    """SearchTables through ``client``'s channel, authenticated as ``connection`` says (the SDK keeps the
    credential it was opened with private)."""

    def __init__(self, client: AsyncChatDBClient, connection: Connection) -> None:
        self._connection = connection
        self._query = query_service_pb2_grpc.QueryServiceStub(client.channel)

    async def search_tables(self, source: str, query: str, page_size: int) -> query_service_pb2.SearchTablesResponse:
        """The source's tables that best match ``query``, best first, then those that join them."""
        request = query_service_pb2.SearchTablesRequest(parent=source_name(source), query=query, page_size=page_size)
        request_id = new_request_id()
        metadata = call_metadata(self._connection.tenant, request_id, self._connection.api_key)
        try:
            reply: query_service_pb2.SearchTablesResponse = await self._query.SearchTables(
                request, timeout=self._connection.timeout, metadata=metadata)
        except grpc.RpcError as error:
            raise ChatDBError.from_rpc_error(error, request_id=request_id) from None
        return reply
