"""Builds QueryService from a process's Components, and starts and stops what it owns.

Pieces other services also use come from chatdb_server.server.shared, so one process holds
one of each however many services it hosts.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from chatdb_server.prediction.engine import PredictionEngine
from chatdb_server.prediction.template import TemplateGenerator
from chatdb_server.query.cache import ResultCache
from chatdb_server.query.clients import Generator, PredictionClient, TrainingClient
from chatdb_server.query.history import QueryHistory
from chatdb_server.query.history_feedback import FeedbackDesk
from chatdb_server.query.pipeline import AskPipeline
from chatdb_server.query.pipeline_execution import GuardedExecution
from chatdb_server.query.pipeline_sources import SourceContexts
from chatdb_server.query.pipeline_sql import CallerSql
from chatdb_server.query.servicer import QueryServicer
from chatdb_server.resilience.breakers import Breakers, database_key
from chatdb_server.resilience.levels import METADATA, PREDICTION, TRAINING, HealthMonitor
from chatdb_server.resilience.metrics import MetricsServer
from chatdb_server.server.components import Components
from chatdb_server.server.shared import (
    shared_catalog,
    shared_embedder,
    shared_prediction_engine,
    shared_retriever,
    shared_vectors,
)
from chatdb_server.sql.executor import QueryExecutor
from chatdb_server.sql.guard import SqlGuard
from chatdb_server.sql.structure import SourceRef
from chatdb_server.training.examples import FEEDBACK, ExampleBook

CHANNEL_OPTIONS = [("grpc.max_receive_message_length", 64 * 1024 * 1024)]


@dataclass
class QueryParts:
    """What QueryService is made of in one process."""

    servicer: QueryServicer
    monitor: HealthMonitor
    breakers: Breakers
    executor: QueryExecutor
    channels: list[grpc.aio.Channel]
    prediction_engine: PredictionEngine | None
    metrics: MetricsServer | None = None


def query_parts(components: Components) -> QueryParts:
    """The one QueryService of the process."""
    parts: QueryParts = components.shared("query.parts", lambda: _build(components))
    return parts


def _build(components: Components) -> QueryParts:
    settings, store = components.settings, components.store
    breakers = Breakers(fail_max=settings.breaker_fail_max, reset_s=settings.breaker_reset_s)
    monitor = HealthMonitor(breakers)
    catalog = shared_catalog(components)
    contexts = SourceContexts(catalog)
    executor: QueryExecutor = components.shared("query.executor", QueryExecutor)
    retriever = shared_retriever(components)
    channels: list[grpc.aio.Channel] = []
    engine: PredictionEngine | None = None
    fallback: Generator
    if settings.prediction_address:
        channels.append(grpc.aio.insecure_channel(settings.prediction_address, options=CHANNEL_OPTIONS))
        prediction = PredictionClient(breakers.prediction, channel=channels[-1], deadline_s=settings.rpc_deadline_s)
        fallback = TemplateGenerator()
    else:
        engine = shared_prediction_engine(components)
        prediction = PredictionClient(breakers.prediction, local=engine)
        fallback = engine.template
    if settings.training_address:
        channels.append(grpc.aio.insecure_channel(settings.training_address, options=CHANNEL_OPTIONS))
        training = TrainingClient(breakers.training, channel=channels[-1], deadline_s=settings.rpc_deadline_s)
    else:
        book = ExampleBook(store, catalog, shared_vectors(components), shared_embedder(components))

        async def create_example(source: SourceRef, question: str, sql: str) -> str:
            return (await book.create(source, question, sql, FEEDBACK)).name

        training = TrainingClient(breakers.training, local=create_example)
    monitor.register(METADATA, store.ping)
    monitor.register(PREDICTION, prediction.probe, breakers.prediction)
    monitor.register(TRAINING, training.probe, breakers.training)

    cache = ResultCache(store, settings.result_cache_ttl_s)
    history = QueryHistory(store, components.pages)
    execution = GuardedExecution(settings, SqlGuard(), executor, cache, breakers, monitor)
    pipeline = AskPipeline(contexts, retriever, prediction, fallback, execution, history, monitor)

    async def forget(source: SourceRef) -> None:
        contexts.forget(source)
        breakers.forget_database(database_key(source.tenant, source.name))
        await executor.dispose_source(source.pk)

    catalog.add_delete_listener(forget)
    servicer = QueryServicer(pipeline, CallerSql(contexts, execution, history, monitor),
                             FeedbackDesk(contexts, history, execution, training, monitor), history, contexts, monitor)
    return QueryParts(servicer, monitor, breakers, executor, channels, engine)


async def build_servicer(components: Components) -> QueryServicer:
    """The ``build_servicer`` of the query ServiceSpec."""
    return query_parts(components).servicer


async def start(components: Components) -> None:
    """Start what QueryService owns: the in-process prediction engine and the metrics endpoint."""
    parts = query_parts(components)
    if parts.prediction_engine is not None:
        await parts.prediction_engine.start()
    settings = components.settings
    if settings.metrics_port > 0 and parts.metrics is None:
        parts.metrics = MetricsServer(settings.host, settings.metrics_port)
    await parts.monitor.level()


async def stop(components: Components) -> None:
    """Release what QueryService owns."""
    parts = query_parts(components)
    if parts.metrics is not None:
        parts.metrics.close()
        parts.metrics = None
    for channel in parts.channels:
        await channel.close()
    await parts.executor.close()
    if parts.prediction_engine is not None:
        await parts.prediction_engine.close()
