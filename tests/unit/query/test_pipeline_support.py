"""Helpers shared by the QueryService unit tests (no tests of its own)."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.models import DataSourceRow
from chatdb_server.prediction.client import LocalPrediction, RemotePrediction
from chatdb_server.prediction.engine import PredictionEngine
from chatdb_server.prediction.template import TemplateGenerator
from chatdb_server.query.history import QueryHistory
from chatdb_server.query.history_feedback import FeedbackDesk
from chatdb_server.query.pipeline import AskPipeline
from chatdb_server.query.pipeline_execution import GuardedExecution
from chatdb_server.query.pipeline_sources import SourceContexts
from chatdb_server.query.pipeline_sql import CallerSql
from chatdb_server.query.ports import ExampleSink, Generator
from chatdb_server.query.service import QueryService
from chatdb_server.query.servicer import QueryServicer
from chatdb_server.resilience.breakers import Breakers
from chatdb_server.resilience.levels import HealthMonitor
from chatdb_server.retrieval.embeddings import Embedder
from chatdb_server.retrieval.retriever import Retriever
from chatdb_server.samples.shop import build_shop_database
from chatdb_server.settings import Settings
from chatdb_server.sql.dsn import parse_dsn
from chatdb_server.sql.executor import QueryExecutor
from chatdb_server.sql.structure import SourceRef
from chatdb_server.training.client import LocalExamples, RemoteExamples
from chatdb_server.training.job_model import JobState, JobType
from tests.unit.training.job_fixtures import TrainingStack, open_stack, register_sqlite


async def add_source_row(store: MetadataStore, source_id: str, dsn: str = "", tenant: str = "default") -> SourceRef:
    """A bare data source row (history and cache hang off it) and its reference."""
    parsed = parse_dsn(dsn or f"sqlite:///{source_id}.db")
    async with store.session() as session:
        row = DataSourceRow(tenant=tenant, source_id=source_id, dialect=parsed.dialect.value, dsn_sealed="x",
                            dsn_redacted=parsed.redacted)
        session.add(row)
        await session.flush()
        pk = row.pk
    return SourceRef(pk=pk, tenant=tenant, source_id=source_id, dialect=parsed.dialect, dsn=parsed)


@dataclass
class QueryStack:
    """QueryService's domain on real parts: metadata store, catalog, Milvus Lite, the embedding model,
    a trained SQLite shop, the template generator, the guard and the read-only executor."""

    training: TrainingStack
    source: SourceRef
    shop_path: Path
    breakers: Breakers
    monitor: HealthMonitor
    contexts: SourceContexts
    execution: GuardedExecution
    history: QueryHistory
    pipeline: AskPipeline
    caller_sql: CallerSql
    feedback: FeedbackDesk
    executor: QueryExecutor
    service: QueryService
    servicer: QueryServicer
    channels: list[grpc.aio.Channel] = field(default_factory=list)

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close()
        await self.executor.close()
        await self.training.close()


def unreachable_address() -> str:
    """A loopback address where nothing listens (a port bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


async def train(stack: TrainingStack, source: SourceRef) -> None:
    """Run a schema training job for the source to completion."""
    await stack.service.create_job(source.tenant, source.name, [], JobType.SCHEMA)
    finished = await stack.service.worker.run_until_idle()
    assert finished and all(job.state is JobState.SUCCEEDED for job in finished), finished


async def open_query_stack(directory: Path, *, prediction_address: str = "", training_address: str = "",
                           trained: bool = True, **settings: Any) -> QueryStack:
    """A QueryService over a trained sample shop; remote Prediction/Training when addresses are given."""
    (directory / "chatdb").mkdir(parents=True, exist_ok=True)
    training = await open_stack(directory / "chatdb")
    shop_path = build_shop_database(directory / "shop.db")
    source = await register_sqlite(training.catalog, "default", "shop", shop_path)
    if trained:
        await train(training, source)
    config = Settings(data_dir=directory, **settings)
    breakers = Breakers(fail_max=config.breaker_fail_max, reset_s=config.breaker_reset_s)
    monitor = HealthMonitor(breakers, probe_ttl_s=0)
    channels: list[grpc.aio.Channel] = []
    template = TemplateGenerator()
    generator: Generator
    if prediction_address:
        channels.append(grpc.aio.insecure_channel(prediction_address))
        generator = RemotePrediction(channels[-1], deadline_s=2.0)
    else:
        generator = LocalPrediction(PredictionEngine(template))
    examples: ExampleSink
    if training_address:
        channels.append(grpc.aio.insecure_channel(training_address))
        examples = RemoteExamples(channels[-1], deadline_s=2.0)
    else:
        examples = LocalExamples(training.service.examples)
    executor = QueryExecutor()
    retriever = Retriever(Embedder.shared(), training.vectors)
    service = QueryService(config, training.store, training.service.pages, training.catalog, retriever, executor,
                           generator, template, examples, breakers, monitor, contexts_ttl_s=0)
    return QueryStack(training, source, shop_path, breakers, monitor, service.contexts, service.execution,
                      service.history, service.pipeline, service.caller_sql, service.feedback, executor, service,
                      QueryServicer(service), channels)
