"""The four services and how each is wired into a server.

Each spec builds its servicer from the process's Components, and starts and stops
whatever background work the service owns (the training worker, the model engine).
A service whose domain is not built answers UNIMPLEMENTED through the generated base.
"""

from __future__ import annotations

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


def _unimplemented(base: type) -> Builder:
    async def build(_: Components) -> Any:
        return base()
    return build


async def _query_servicer(components: Components) -> Any:
    from chatdb.query.assembly import build_query_servicer

    return await build_query_servicer(components)


async def _start_query(components: Components) -> None:
    from chatdb.query.assembly import start_query

    await start_query(components)


async def _stop_query(components: Components) -> None:
    from chatdb.query.assembly import stop_query

    await stop_query(components)


def _suite(name: str) -> Builder:
    """A builder or hook of chatdb.query.assembly_services, imported when first used."""
    async def call(components: Components) -> Any:
        from chatdb.query import assembly_services

        return await getattr(assembly_services, name)(components)
    return call


def _full_name(module: Any, service: str) -> str:
    return str(module.DESCRIPTOR.services_by_name[service].full_name)


SERVICES: dict[str, ServiceSpec] = {
    "schema": ServiceSpec(
        "schema", _full_name(schema_service_pb2, "SchemaService"),
        schema_service_pb2_grpc.add_SchemaServiceServicer_to_server,
        _suite("build_schema_servicer")),
    "training": ServiceSpec(
        "training", _full_name(training_service_pb2, "TrainingService"),
        training_service_pb2_grpc.add_TrainingServiceServicer_to_server,
        _suite("build_training_servicer"), start=_suite("start_training"), stop=_suite("stop_training")),
    "query": ServiceSpec(
        "query", _full_name(query_service_pb2, "QueryService"),
        query_service_pb2_grpc.add_QueryServiceServicer_to_server,
        _query_servicer, start=_start_query, stop=_stop_query),
    "prediction": ServiceSpec(
        "prediction", _full_name(prediction_service_pb2, "PredictionService"),
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server,
        _suite("build_prediction_servicer"), start=_suite("start_prediction"), stop=_suite("stop_prediction")),
}
