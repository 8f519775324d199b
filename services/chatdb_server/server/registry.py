"""The services and how each is wired into a server.

Each service has a module in :mod:`chatdb_server.server.wiring` with ``build_servicer``,
``start`` and ``stop``: it builds the servicer from the process's Components, and starts and
stops whatever background work the service owns (the training worker, the model engine).
Heavy pieces (the embedding model, Milvus, a model engine) are built on first use, so a
process loads only what the services it hosts need.

AccessService (keys, policies, audit) is the fifth, hosted by ``chatdb serve`` with no names
and nameable on its own (``chatdb serve access``). It is also a *companion* of SchemaService:
whatever process hosts ``schema`` (``chatdb serve schema``, the Kubernetes schema deployment)
hosts AccessService too — registered, started, and named in health and reflection — since
policies attach to data sources and a split deployment must still reach it.

WebhookService (subscriptions, the delivery log, and the dispatcher that sends the outbox's
events) is SchemaService's second companion, and nameable on its own (``chatdb serve webhook``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import grpc

from chatdb.access.v1 import access_service_pb2, access_service_pb2_grpc
from chatdb.prediction.v1 import prediction_service_pb2, prediction_service_pb2_grpc
from chatdb.query.v1 import query_service_pb2, query_service_pb2_grpc
from chatdb.schema.v1 import schema_service_pb2, schema_service_pb2_grpc
from chatdb.training.v1 import training_service_pb2, training_service_pb2_grpc
from chatdb.webhook.v1 import webhook_service_pb2, webhook_service_pb2_grpc
from chatdb_server.server.components import Components
from chatdb_server.server.wiring import access, prediction, query, schema, training, webhook

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
    companions: tuple[ServiceSpec, ...] = ()
    """Services hosted wherever this one is (the runtime adds them to what it is asked to host)."""

    async def register(self, server: grpc.aio.Server, components: Components) -> None:
        """Build the servicer and add it to ``server``."""
        self.add_to_server(await self.build_servicer(components), server)


def _spec(name: str, pb2: Any, add_to_server: Callable[[Any, grpc.aio.Server], None], service: str,
          wiring: ModuleType, companions: tuple[ServiceSpec, ...] = ()) -> ServiceSpec:
    full_name = str(pb2.DESCRIPTOR.services_by_name[service].full_name)
    return ServiceSpec(name, full_name, add_to_server, wiring.build_servicer, start=wiring.start, stop=wiring.stop,
                       companions=companions)


_ACCESS = _spec("access", access_service_pb2, access_service_pb2_grpc.add_AccessServiceServicer_to_server,
                "AccessService", access)
_WEBHOOK = _spec("webhook", webhook_service_pb2, webhook_service_pb2_grpc.add_WebhookServiceServicer_to_server,
                 "WebhookService", webhook)

SERVICES: dict[str, ServiceSpec] = {
    "schema": _spec("schema", schema_service_pb2, schema_service_pb2_grpc.add_SchemaServiceServicer_to_server,
                    "SchemaService", schema, companions=(_ACCESS, _WEBHOOK)),
    "training": _spec("training", training_service_pb2,
                      training_service_pb2_grpc.add_TrainingServiceServicer_to_server, "TrainingService", training),
    "query": _spec("query", query_service_pb2, query_service_pb2_grpc.add_QueryServiceServicer_to_server,
                   "QueryService", query),
    "prediction": _spec("prediction", prediction_service_pb2,
                        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server, "PredictionService",
                        prediction),
    "access": _ACCESS,
    "webhook": _WEBHOOK,
}
