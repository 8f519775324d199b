"""The worker's dispatch to registered handlers: progress from a thread, cancellation at the
handler's safe point, failures with their reason, graceful stop, and a deleted source."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

from chatdb_server.errors import FailedPrecondition
from chatdb_server.training.handlers import JobCancelled, JobContext
from chatdb_server.training.job_model import JobState, JobType, Stage
from tests.unit.training.job_fixtures import TrainingStack, make_shop_database, register_sqlite, stack

__all__ = ["stack"]


async def _source(stack: TrainingStack, tmp_path: Path) -> str:
    source = await register_sqlite(stack.catalog, "acme", "shop", make_shop_database(tmp_path / "shop.db"))
    return source.name


async def test_handler_progress_from_a_thread_and_its_result(stack: TrainingStack, tmp_path: Path) -> None:
    parent = await _source(stack, tmp_path)
    seen_threads: list[str] = []

    async def fine_tune(context: JobContext) -> dict[str, Any]:
        def train() -> None:  # a training loop in a worker thread, as a real fine-tune runs
            seen_threads.append(threading.current_thread().name)
            for stage, percent in (("DATASET", 10), ("TRAINING_STAGE_TRAIN", 60), ("REGISTER", 90)):
                context.progress(stage, percent)
        await asyncio.to_thread(train)
        return {"adapter_version": "adapters/shop-sql/versions/1", "dataset_size": 12, "loss_curve": [1.5, 0.7]}

    stack.service.register_handler("FINE_TUNE", fine_tune)
    job = await stack.service.create_job("acme", parent, [], JobType.FINE_TUNE, {"epochs": 2})
    stream = stack.service.watch("acme", job.name)
    await anext(stream)
    done = await stack.service.worker.run_once()
    assert seen_threads and seen_threads[0] != threading.main_thread().name
    assert done is not None and done.state is JobState.SUCCEEDED and done.progress_percent == 100
    assert done.result["adapter_version"] == "adapters/shop-sql/versions/1" and done.config == {"epochs": 2}
    stages = [s.stage async for s in stream]
    assert [st for st in dict.fromkeys(stages) if st is not Stage.UNSPECIFIED] == [
        Stage.DATASET, Stage.TRAIN, Stage.REGISTER, Stage.DONE]


async def test_handler_sees_cancel_and_stops(stack: TrainingStack, tmp_path: Path) -> None:
    parent = await _source(stack, tmp_path)
    started = asyncio.Event()
    cancelled_seen = asyncio.Event()

    async def fine_tune(context: JobContext) -> dict[str, Any]:
        started.set()
        while not context.should_cancel():
            await cancelled_seen.wait()
        raise JobCancelled(context.job.job_id)

    stack.service.register_handler(JobType.FINE_TUNE, fine_tune)
    job = await stack.service.create_job("acme", parent, [], JobType.FINE_TUNE)
    running = asyncio.create_task(stack.service.worker.run_once())
    await started.wait()
    assert (await stack.service.cancel_job("acme", job.name)).state is JobState.CANCELLING
    cancelled_seen.set()  # the cancel arrived through the change feed: the flag is already up
    ended = await running
    assert ended is not None and ended.state is JobState.CANCELLED


async def test_handler_failure_ends_the_job_with_its_reason(stack: TrainingStack, tmp_path: Path) -> None:
    parent = await _source(stack, tmp_path)

    async def broken(context: JobContext) -> dict[str, Any]:
        raise FailedPrecondition("the base model directory is missing", "BACKEND_UNAVAILABLE")

    async def crashing(context: JobContext) -> dict[str, Any]:
        raise RuntimeError("out of memory at postgresql://app:hunter2@db/prod")

    stack.service.register_handler(JobType.FINE_TUNE, broken)
    await stack.service.create_job("acme", parent, [], JobType.FINE_TUNE)
    failed = await stack.service.worker.run_once()
    assert failed is not None and (failed.state, failed.error_reason) == (JobState.FAILED, "BACKEND_UNAVAILABLE")
    assert failed.error_message == "the base model directory is missing"

    stack.service.register_handler(JobType.FINE_TUNE, crashing)
    await stack.service.create_job("acme", parent, [], JobType.FINE_TUNE)
    crashed = await stack.service.worker.run_once()
    assert crashed is not None and (crashed.state, crashed.error_reason) == (JobState.FAILED, "UNSPECIFIED")
    assert "RuntimeError: out of memory" in crashed.error_message and "hunter2" not in crashed.error_message


async def test_graceful_stop_requeues_a_job_that_does_not_finish(stack: TrainingStack, tmp_path: Path) -> None:
    parent = await _source(stack, tmp_path)
    started = asyncio.Event()

    async def endless(context: JobContext) -> dict[str, Any]:
        started.set()
        await asyncio.Event().wait()  # never set: only the stop ends this handler
        return {}

    stack.service.register_handler(JobType.FINE_TUNE, endless)
    job = await stack.service.create_job("acme", parent, [], JobType.FINE_TUNE)
    await stack.service.start()
    await started.wait()
    await stack.service.stop(grace_s=0.1)
    requeued = await stack.service.get_job("acme", job.name)
    assert (requeued.state, requeued.worker_id, requeued.attempt) == (JobState.QUEUED, "", 1)


async def test_deleting_a_source_removes_its_vectors_and_examples(stack: TrainingStack, tmp_path: Path) -> None:
    parent = await _source(stack, tmp_path)
    other = await register_sqlite(stack.catalog, "acme", "other", make_shop_database(tmp_path / "other.db"))
    await stack.service.create_job("acme", parent, [], JobType.SCHEMA)
    await stack.service.create_job("acme", other.name, [], JobType.SCHEMA)
    assert len(await stack.service.worker.run_until_idle()) == 2
    await stack.service.start()  # registers the catalog listeners (its worker finds nothing to do)
    await stack.service.create_example("acme", parent, "How many customers?", "SELECT COUNT(*) FROM customers")
    source = await stack.catalog.resolve("acme", parent)
    assert stack.vectors.count_tables(source.namespace) == 4 and stack.vectors.count_examples(source.namespace) == 1

    await stack.catalog.delete("acme", "shop")
    assert stack.vectors.count_tables(source.namespace) == 0 and stack.vectors.count_examples(source.namespace) == 0
    assert stack.vectors.count_tables(other.namespace) == 4  # the other source keeps its vectors


async def test_refresh_that_removes_tables_removes_their_vectors(stack: TrainingStack, tmp_path: Path) -> None:
    database = make_shop_database(tmp_path / "shop.db", extra_tables=2)
    source = await register_sqlite(stack.catalog, "acme", "shop", database)
    await stack.service.create_job("acme", source.name, [], JobType.SCHEMA)
    await stack.service.worker.run_until_idle()
    await stack.service.start()  # registers the catalog listeners
    assert stack.vectors.count_tables(source.namespace) == 6
    with sqlite3.connect(database) as conn:
        conn.execute("DROP TABLE side_001")
    report = await stack.catalog.refresh("acme", "shop")
    assert list(report.removed) == ["side_001"]
    assert "side_001" not in stack.vectors.table_names(source.namespace)
    assert stack.vectors.count_tables(source.namespace) == 5
