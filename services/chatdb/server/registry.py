"""The four services and how each is wired into a server.

Each service's package has an ``assembly`` module with ``build_servicer``, ``start`` and
``stop``: it builds the servicer from the process's Components, and starts and stops
whatever background work the service owns (the training worker, the model engine).
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc

from chatdb.prediction.v1 import prediction_service_pb2, prediction_service_pb2_grpc
from chatdb.query.v1 import query_service_pb2, query_service_pb2_grpc
from chatdb.schema.v1 import schema_service_pb2, schema_service_pb2_grpc
from chatdb.server.components import Components
from chatdb.training.v1 import training_service_pb2, training_service_pb2_grpc

Builder = Callable[[Components], Awaitable[Any]]
Hook = Callable[[Components], Awaitable[None]]


async def _nothing(_: Components) -> None:
    return None


@dataclass(frozen=True)
class ServiceSpec:
    """How to host one service."""

    name: str
    full_name: str
    add_to_server: Callable[[Any, grpc.aio.Server], None]
    build_servicer: Builder
    start: Hook = _nothing
    stop: Hook = _nothing

    async def register(self, server: grpc.aio.Server, components: Components) -> None:
        """Build the servicer and add it to ``server``."""
        self.add_to_server(await self.build_servicer(components), server)


def _assembly(name: str, hook: str) -> Builder:
    """``chatdb.<name>.assembly.<hook>``, imported on first use so a process loads only what it hosts."""
    async def call(components: Components) -> Any:
        module = importlib.import_module(f"chatdb.{name}.assembly")
        return await getattr(module, hook)(components)
    return call


def _spec(name: str, pb2: Any, add_to_server: Callable[[Any, grpc.aio.Server], None], service: str) -> ServiceSpec:
    return ServiceSpec(name, _full_name(pb2, service), add_to_server, _assembly(name, "build_servicer"),
                       start=_assembly(name, "start"), stop=_assembly(name, "stop"))


def _full_name(module: Any, service: str) -> str:
    return str(module.DESCRIPTOR.services_by_name[service].full_name)


SERVICES: dict[str, ServiceSpec] = {
    "schema": _spec("schema", schema_service_pb2, schema_service_pb2_grpc.add_SchemaServiceServicer_to_server,
                    "SchemaService"),
    "training": _spec("training", training_service_pb2,
                      training_service_pb2_grpc.add_TrainingServiceServicer_to_server, "TrainingService"),
    "query": _spec("query", query_service_pb2, query_service_pb2_grpc.add_QueryServiceServicer_to_server,
                   "QueryService"),
    "prediction": _spec("prediction", prediction_service_pb2,
                        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server, "PredictionService"),
}
