"""Job lifecycle over a real gRPC server: the progress stream, cancelling queued and running jobs
without leaving half-written vectors. Real SQLite target, Milvus Lite and embedding model."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import grpc

from chatdb.training.v1 import training_pb2
from chatdb.training.v1 import training_service_pb2 as pb
from chatdb_server.retrieval.embeddings import Embedder
from chatdb_server.sql.structure import SourceRef
from chatdb_server.training.job_model import JobState, JobType
from tests.integration.training.conftest import ACME, Served
from tests.unit.training.job_fixtures import TrainingStack, make_shop_database, open_stack, register_sqlite

STATE = training_pb2.TrainingJobState


class GatedEmbedder:
    """The real embedder, holding its ``hold_on``-th batch until the test releases it.

    Makes "the job is in the middle of VECTORIZE" a deterministic point instead of a race.
    """

    def __init__(self, inner: Embedder, hold_on: int) -> None:
        self._inner = inner
        self._hold_on = hold_on
        self.calls = 0
        self.reached = asyncio.Event()
        self.release = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def aencode(self, texts: list[str]) -> Any:
        self.calls += 1
        if self.calls == self._hold_on:
            self.reached.set()
            await self.release.wait()
        return await self._inner.aencode(texts)


async def trained_count(stack: TrainingStack, source: SourceRef) -> int:
    return sum(t.trained_fingerprint is not None for t in await stack.catalog.stored_tables(source))


async def test_progress_streams_0_25_50_75_100(served: Served, tmp_path: Path) -> None:
    stack = served.stack
    source = await register_sqlite(stack.catalog, "acme", "shop", make_shop_database(tmp_path / "shop.db", 5))
    created = (await served.stub.CreateTrainingJob(pb.CreateTrainingJobRequest(parent="dataSources/shop"),
                                                   metadata=ACME)).training_job
    stream = served.stub.WatchTrainingJob(pb.WatchTrainingJobRequest(name=created.name), metadata=ACME)
    messages = [(await stream.read()).training_job]  # subscribed: the worker may start now
    await stack.service.start()
    while (message := await stream.read()) is not grpc.aio.EOF:
        messages.append(message.training_job)
    progress = list(dict.fromkeys(m.progress_percent for m in messages))
    assert progress == [0, 25, 50, 75, 100]
    states = list(dict.fromkeys(m.state for m in messages))
    assert states == [STATE.TRAINING_JOB_STATE_QUEUED, STATE.TRAINING_JOB_STATE_RUNNING,
                      STATE.TRAINING_JOB_STATE_SUCCEEDED]
    stages = list(dict.fromkeys(m.stage for m in messages))
    assert stages == [training_pb2.TRAINING_STAGE_UNSPECIFIED, training_pb2.TRAINING_STAGE_FETCH,
                      training_pb2.TRAINING_STAGE_ANALYZE, training_pb2.TRAINING_STAGE_VECTORIZE,
                      training_pb2.TRAINING_STAGE_DONE]
    assert len(messages) >= 7  # queued, claimed, three stages, at least one batch, done
    final = messages[-1]
    assert final.trained_table_count == final.total_table_count == 9 and final.attempt == 1
    assert final.end_time.seconds >= final.start_time.seconds > 0
    assert stack.vectors.count_tables(source.namespace) == 9 == await trained_count(stack, source)
    # retraining upserts in place: still one vector per table
    again = (await served.stub.CreateTrainingJob(pb.CreateTrainingJobRequest(parent="dataSources/shop"),
                                                 metadata=ACME)).training_job
    async for message in served.stub.WatchTrainingJob(pb.WatchTrainingJobRequest(name=again.name), metadata=ACME):
        final = message.training_job
    assert final.state == STATE.TRAINING_JOB_STATE_SUCCEEDED
    assert stack.vectors.count_tables(source.namespace) == 9


async def test_cancel_queued_job_never_runs(served: Served, tmp_path: Path) -> None:
    stack = served.stack
    source = await register_sqlite(stack.catalog, "acme", "shop", make_shop_database(tmp_path / "shop.db"))
    created = (await served.stub.CreateTrainingJob(pb.CreateTrainingJobRequest(parent="dataSources/shop"),
                                                   metadata=ACME)).training_job
    cancelled = (await served.stub.CancelTrainingJob(pb.CancelTrainingJobRequest(name=created.name),
                                                     metadata=ACME)).training_job
    assert cancelled.state == STATE.TRAINING_JOB_STATE_CANCELLED
    assert await stack.service.worker.run_once() is None
    assert stack.vectors.count_tables(source.namespace) == 0


async def test_cancel_running_job_rolls_back_its_vectors(tmp_path: Path, milvus_uri: str) -> None:
    gate = GatedEmbedder(Embedder.shared(), hold_on=3)
    stack = await open_stack(tmp_path / "chatdb", batch_size=2, embedder=gate,  # type: ignore[arg-type]
                             milvus_uri=milvus_uri)
    try:
        source = await register_sqlite(stack.catalog, "acme", "shop", make_shop_database(tmp_path / "shop.db", 4))
        # two tables trained before: a cancelled retrain must keep them
        first = await stack.service.create_job("acme", "dataSources/shop", ["customers", "orders"],
                                               JobType.SCHEMA)
        trained_first = await stack.service.worker.run_once()
        assert trained_first is not None and trained_first.state is JobState.SUCCEEDED
        assert first.job_id
        job = await stack.service.create_job("acme", "dataSources/shop", [], JobType.SCHEMA)
        stream = stack.service.watch("acme", job.name)
        assert (await anext(stream)).state is JobState.QUEUED
        running = asyncio.create_task(stack.service.worker.run_once())
        await gate.reached.wait()  # batch 1 of 4 is written, batch 2 is being embedded
        assert stack.vectors.count_tables(source.namespace) == 3  # the two trained + one new one, half-written
        cancelling = await stack.service.cancel_job("acme", job.name)
        assert cancelling.state is JobState.CANCELLING
        gate.release.set()
        ended = await running
        assert ended is not None and ended.state is JobState.CANCELLED and ended.staged_tables == ()
        states = [s.state async for s in stream]
        assert JobState.CANCELLING in states and states[-1] is JobState.CANCELLED
        assert await trained_count(stack, source) == 2
        assert stack.vectors.count_tables(source.namespace) == 2
        assert stack.vectors.table_names(source.namespace) == ["customers", "orders"]
    finally:
        await stack.close()
