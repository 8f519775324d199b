"""Builds QueryService from a process's Components, and starts and stops what it owns.

Pieces other services also use come from chatdb_server.server.shared, so one process holds
one of each however many services it hosts. This is where QueryService's ports
(chatdb_server.query.ports) meet their implementations: PredictionService and TrainingService
in-process, or over gRPC when ``prediction_address`` / ``training_address`` are set; the
schema catalog is always in-process.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from chatdb_server.access.masking import Masker
from chatdb_server.crypto import split_keys
from chatdb_server.generation.interface import SqlGenerator
from chatdb_server.prediction.client import LocalPrediction, RemotePrediction
from chatdb_server.prediction.engine import PredictionEngine
from chatdb_server.prediction.template import TemplateGenerator
from chatdb_server.query.ports import ExampleSink, Generator
from chatdb_server.query.service import QueryService
from chatdb_server.query.servicer import QueryServicer
from chatdb_server.resilience.breakers import Breakers
from chatdb_server.resilience.levels import HealthMonitor
from chatdb_server.server.access import shared_policies
from chatdb_server.server.components import Components
from chatdb_server.server.shared import (
    shared_catalog,
    shared_embedder,
    shared_prediction_engine,
    shared_retriever,
    shared_vectors,
)
from chatdb_server.server.tls import service_channel
from chatdb_server.sql.executor import QueryExecutor
from chatdb_server.training.client import LocalExamples, RemoteExamples
from chatdb_server.training.examples import ExampleBook


@dataclass
class QueryParts:
    """What QueryService is made of in one process."""

    servicer: QueryServicer
    service: QueryService
    monitor: HealthMonitor
    breakers: Breakers
    executor: QueryExecutor
    channels: list[grpc.aio.Channel]
    prediction_engine: PredictionEngine | None


def query_parts(components: Components) -> QueryParts:
    """The one QueryService of the process."""
    parts: QueryParts = components.shared("query.parts", lambda: _build(components))
    return parts


def _build(components: Components) -> QueryParts:
    settings, store = components.settings, components.store
    breakers = Breakers(fail_max=settings.breaker_fail_max, reset_s=settings.breaker_reset_s)
    monitor = HealthMonitor(breakers)
    catalog = shared_catalog(components)
    executor: QueryExecutor = components.shared("query.executor", QueryExecutor)
    channels: list[grpc.aio.Channel] = []
    engine: PredictionEngine | None = None
    generator: Generator
    fallback: SqlGenerator
    if settings.prediction_address:
        channels.append(service_channel(settings, settings.prediction_address))
        generator = RemotePrediction(channels[-1], deadline_s=settings.rpc_deadline_s)
        fallback = TemplateGenerator()
    else:
        engine = shared_prediction_engine(components)
        generator = LocalPrediction(engine)
        fallback = engine.template
    examples: ExampleSink
    if settings.training_address:
        channels.append(service_channel(settings, settings.training_address))
        examples = RemoteExamples(channels[-1], deadline_s=settings.rpc_deadline_s)
    else:
        examples = LocalExamples(ExampleBook(store, catalog, shared_vectors(components), shared_embedder(components)))
    service = QueryService(settings, store, components.pages, catalog, shared_retriever(components), executor,
                           generator, fallback, examples, breakers, monitor,
                           policies=shared_policies(components), masker=_masker(components),
                           streamer=executor)
    return QueryParts(QueryServicer(service), service, monitor, breakers, executor, channels, engine)


def _masker(components: Components) -> Masker:
    """Masks under the process's oldest secret key: replicas sharing the key mask alike, and a rotation
    (a new key put first) leaves masked values unchanged until the old key is dropped."""
    return Masker(split_keys(components.secret_key)[-1])


async def build_servicer(components: Components) -> QueryServicer:
    """The ``build_servicer`` of the query ServiceSpec."""
    return query_parts(components).servicer


async def start(components: Components) -> None:
    """Start what QueryService owns: the in-process prediction engine."""
    parts = query_parts(components)
    if parts.prediction_engine is not None:
        await parts.prediction_engine.start()
    await parts.monitor.level()


async def stop(components: Components) -> None:
    """Release what QueryService owns."""
    parts = query_parts(components)
    for channel in parts.channels:
        await channel.close()
    await parts.executor.close()
    if parts.prediction_engine is not None:
        await parts.prediction_engine.close()
