"""The four services and how each is wired into a server.

Each service has a module in :mod:`chatdb_server.server.wiring` with ``build_servicer``,
``start`` and ``stop``: it builds the servicer from the process's Components, and starts and
stops whatever background work the service owns (the training worker, the model engine).
Heavy pieces (the embedding model, Milvus, a model engine) are built on first use, so a
process loads only what the services it hosts need.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import grpc

from chatdb.prediction.v1 import prediction_service_pb2, prediction_service_pb2_grpc
from chatdb.query.v1 import query_service_pb2, query_service_pb2_grpc
from chatdb.schema.v1 import schema_service_pb2, schema_service_pb2_grpc
from chatdb.training.v1 import training_service_pb2, training_service_pb2_grpc
from chatdb_server.server.components import Components
from chatdb_server.server.wiring import prediction, query, schema, training

Builder = Callable[[Components], Awaitable[Any]]
Hook = Callable[[Components], Awaitable[None]]


@dataclass(frozen=True)
class ServiceSpec:
    """How to host one service."""

    name: str
    full_name: str
    add_to_server: Callable[[Any, grpc.aio.Server], None]
    build_servicer: Builder
    start: Hook
    stop: Hook

    async def register(self, server: grpc.aio.Server, components: Components) -> None:
        """Build the servicer and add it to ``server``."""
        self.add_to_server(await self.build_servicer(components), server)


def _spec(name: str, pb2: Any, add_to_server: Callable[[Any, grpc.aio.Server], None], service: str,
          wiring: ModuleType) -> ServiceSpec:
    full_name = str(pb2.DESCRIPTOR.services_by_name[service].full_name)
    return ServiceSpec(name, full_name, add_to_server, wiring.build_servicer, start=wiring.start, stop=wiring.stop)


SERVICES: dict[str, ServiceSpec] = {
    "schema": _spec("schema", schema_service_pb2, schema_service_pb2_grpc.add_SchemaServiceServicer_to_server,
                    "SchemaService", schema),
    "training": _spec("training", training_service_pb2,
                      training_service_pb2_grpc.add_TrainingServiceServicer_to_server, "TrainingService", training),
    "query": _spec("query", query_service_pb2, query_service_pb2_grpc.add_QueryServiceServicer_to_server,
                   "QueryService", query),
    "prediction": _spec("prediction", prediction_service_pb2,
                        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server, "PredictionService",
                        prediction),
}
