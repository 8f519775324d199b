"""The stubs of one ChatDB server's services over one channel, for tests that drive whole processes."""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc

from chatdb.query.v1 import query_service_pb2_grpc
from chatdb.schema.v1 import schema_pb2, schema_service_pb2, schema_service_pb2_grpc
from chatdb.training.v1 import training_service_pb2_grpc


@dataclass
class SuiteStubs:
    """Schema, training and query stubs of one process."""

    channel: grpc.aio.Channel
    schema: schema_service_pb2_grpc.SchemaServiceStub = field(init=False)
    training: training_service_pb2_grpc.TrainingServiceStub = field(init=False)
    query: query_service_pb2_grpc.QueryServiceStub = field(init=False)

    def __post_init__(self) -> None:
        self.schema = schema_service_pb2_grpc.SchemaServiceStub(self.channel)
        self.training = training_service_pb2_grpc.TrainingServiceStub(self.channel)
        self.query = query_service_pb2_grpc.QueryServiceStub(self.channel)

    async def register(self, source_id: str, dsn: str) -> str:
        """Register a data source; its resource name."""
        reply = await self.schema.CreateDataSource(schema_service_pb2.CreateDataSourceRequest(
            data_source_id=source_id, data_source=schema_pb2.DataSource(dsn=dsn)))
        return str(reply.data_source.name)
