"""SchemaService over gRPC: request fields in, SchemaCatalog calls, messages out."""

from __future__ import annotations

from typing import Any

from chatdb.schema.v1 import schema_pb2, schema_service_pb2, schema_service_pb2_grpc
from chatdb_server.errors import InvalidArgument
from chatdb_server.names import data_source_id, table_name_parts
from chatdb_server.rpc import CallInfo, unary
from chatdb_server.schema import convert
from chatdb_server.schema.catalog import SchemaCatalog


class SchemaServicer(schema_service_pb2_grpc.SchemaServiceServicer):
    """Translates SchemaService requests to the catalog of the caller's tenant."""

    def __init__(self, catalog: SchemaCatalog) -> None:
        self._catalog = catalog

    @unary
    async def CreateDataSource(self, request: schema_service_pb2.CreateDataSourceRequest, context: Any,
                               call: CallInfo) -> schema_service_pb2.CreateDataSourceResponse:
        if not request.HasField("data_source"):
            raise InvalidArgument("data_source", "is required")
        info = await self._catalog.create(call.tenant, convert.spec_from_proto(request.data_source),
                                          request.data_source_id)
        return schema_service_pb2.CreateDataSourceResponse(data_source=convert.data_source_to_proto(info))

    @unary
    async def GetDataSource(self, request: schema_service_pb2.GetDataSourceRequest, context: Any,
                            call: CallInfo) -> schema_service_pb2.GetDataSourceResponse:
        info = await self._catalog.get(call.tenant, data_source_id(request.name, "name"))
        return schema_service_pb2.GetDataSourceResponse(data_source=convert.data_source_to_proto(info))

    @unary
    async def ListDataSources(self, request: schema_service_pb2.ListDataSourcesRequest, context: Any,
                              call: CallInfo) -> schema_service_pb2.ListDataSourcesResponse:
        sources, token = await self._catalog.list_sources(call.tenant, request.page_size, request.page_token)
        return schema_service_pb2.ListDataSourcesResponse(
            data_sources=[convert.data_source_to_proto(s) for s in sources], next_page_token=token)

    @unary
    async def UpdateDataSource(self, request: schema_service_pb2.UpdateDataSourceRequest, context: Any,
                               call: CallInfo) -> schema_service_pb2.UpdateDataSourceResponse:
        if not request.HasField("data_source"):
            raise InvalidArgument("data_source", "is required")
        source_id = data_source_id(request.data_source.name, "data_source.name")
        if not request.HasField("update_mask"):
            raise InvalidArgument("update_mask", "is required")
        info = await self._catalog.update(call.tenant, source_id, convert.spec_from_proto(request.data_source),
                                          list(request.update_mask.paths))
        return schema_service_pb2.UpdateDataSourceResponse(data_source=convert.data_source_to_proto(info))

    @unary
    async def DeleteDataSource(self, request: schema_service_pb2.DeleteDataSourceRequest, context: Any,
                               call: CallInfo) -> schema_service_pb2.DeleteDataSourceResponse:
        await self._catalog.delete(call.tenant, data_source_id(request.name, "name"))
        return schema_service_pb2.DeleteDataSourceResponse()

    @unary
    async def TestConnection(self, request: schema_service_pb2.TestConnectionRequest, context: Any,
                             call: CallInfo) -> schema_service_pb2.TestConnectionResponse:
        target = request.WhichOneof("target")
        if target is None:
            raise InvalidArgument("target", "set name (a stored data source) or dsn")
        if target == "name":
            report = await self._catalog.test_connection(call.tenant, name=request.name)
        else:
            report = await self._catalog.test_connection(call.tenant, dsn=request.dsn)
        return convert.connection_to_proto(report)

    @unary
    async def ListTables(self, request: schema_service_pb2.ListTablesRequest, context: Any,
                         call: CallInfo) -> schema_service_pb2.ListTablesResponse:
        source_id = data_source_id(request.parent, "parent")
        tables, token, total = await self._catalog.list_tables(call.tenant, source_id, request.page_size,
                                                               request.page_token)
        full = request.view == schema_pb2.TABLE_VIEW_FULL
        return schema_service_pb2.ListTablesResponse(
            tables=[convert.table_to_proto(source_id, t, full) for t in tables], next_page_token=token,
            total_size=total)

    @unary
    async def GetTable(self, request: schema_service_pb2.GetTableRequest, context: Any,
                       call: CallInfo) -> schema_service_pb2.GetTableResponse:
        source_id, table = table_name_parts(request.name, "name")
        stored = await self._catalog.get_table(call.tenant, source_id, table)
        full = request.view != schema_pb2.TABLE_VIEW_BASIC
        return schema_service_pb2.GetTableResponse(table=convert.table_to_proto(source_id, stored, full))

    @unary
    async def RefreshSchema(self, request: schema_service_pb2.RefreshSchemaRequest, context: Any,
                            call: CallInfo) -> schema_service_pb2.RefreshSchemaResponse:
        report = await self._catalog.refresh(call.tenant, data_source_id(request.name, "name"))
        return convert.refresh_to_proto(report)

    @unary
    async def GetSchemaGraph(self, request: schema_service_pb2.GetSchemaGraphRequest, context: Any,
                             call: CallInfo) -> schema_service_pb2.GetSchemaGraphResponse:
        source_id = data_source_id(request.parent, "parent")
        if not 0.0 <= request.min_confidence <= 1.0:
            raise InvalidArgument("min_confidence", "must be between 0 and 1")
        tables, edges = await self._catalog.graph(call.tenant, source_id, request.min_confidence)
        return schema_service_pb2.GetSchemaGraphResponse(tables=tables,
                                                         edges=[convert.edge_to_proto(e) for e in edges])
