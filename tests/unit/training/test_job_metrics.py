"""Training metrics on real metadata stores: the queue tally is the store's (also as a second replica on
the same PostgreSQL database reads it), the gauges export it, and a job's end is counted and timed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.engine import make_url

from chatdb_server.metadata.db import MetadataStore
from chatdb_server.training.job_model import JobState, JobType
from chatdb_server.training.jobs import JobStore
from chatdb_server.training.metrics import QueueGauges
from tests.unit.training.job_fixtures import add_source, jobs, metadata

__all__ = ["jobs", "metadata"]


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_the_tally_counts_queued_and_held_jobs_by_type(metadata: MetadataStore, jobs: JobStore) -> None:
    source = await add_source(metadata, "acme", "sales")
    first = await jobs.create(source, JobType.SCHEMA)
    second = await jobs.create(await add_source(metadata, "acme", "hr"), JobType.SCHEMA)
    await jobs.create(source, JobType.FINE_TUNE)
    claimed = await jobs.claim("w1", [JobType.SCHEMA])
    assert claimed is not None and claimed[1].job_id == first.job_id

    tally = await jobs.tally()
    schema, tune = tally.by_type[JobType.SCHEMA], tally.by_type[JobType.FINE_TUNE]
    assert (schema.queued, schema.running, tune.queued, tune.running) == (1, 1, 1, 0)
    assert schema.oldest_queued == second.create_time

    await QueueGauges(jobs, every_s=1.0).refresh()
    assert sample("chatdb_training_jobs_queued", type="SCHEMA") == 1
    assert sample("chatdb_training_jobs_running", type="SCHEMA") == 1
    assert sample("chatdb_training_jobs_queued", type="FINE_TUNE") == 1
    assert sample("chatdb_training_oldest_queued_seconds", type="SCHEMA") > 0

    await jobs.finish(claimed[0], JobState.SUCCEEDED)
    await jobs.cancel("acme", second.job_id)
    await QueueGauges(jobs, every_s=1.0).refresh()
    assert sample("chatdb_training_jobs_queued", type="SCHEMA") == 0
    assert sample("chatdb_training_jobs_running", type="SCHEMA") == 0
    assert sample("chatdb_training_oldest_queued_seconds", type="SCHEMA") == 0


async def test_a_failed_job_is_counted_with_its_reason_and_timed(metadata: MetadataStore, jobs: JobStore) -> None:
    await jobs.create(await add_source(metadata, "acme", "sales"), JobType.FINE_TUNE)
    claimed = await jobs.claim("w1", [JobType.FINE_TUNE])
    assert claimed is not None
    labels = {"type": "FINE_TUNE", "state": "FAILED"}
    failures = sample("chatdb_training_job_failures_total", type="FINE_TUNE", reason="BACKEND_UNAVAILABLE")
    finished = sample("chatdb_training_jobs_finished_total", **labels)
    timed = sample("chatdb_training_job_duration_seconds_count", **labels)

    ended = await jobs.finish(claimed[0], JobState.FAILED, reason="BACKEND_UNAVAILABLE", message="no model")

    assert ended.state is JobState.FAILED
    assert sample("chatdb_training_job_failures_total", type="FINE_TUNE", reason="BACKEND_UNAVAILABLE") == failures + 1
    assert sample("chatdb_training_jobs_finished_total", **labels) == finished + 1
    assert sample("chatdb_training_job_duration_seconds_count", **labels) == timed + 1


@pytest.fixture
async def shared_postgres(pg_dsn: str) -> AsyncIterator[tuple[MetadataStore, MetadataStore]]:
    """Two metadata stores on one PostgreSQL database, as two replicas hold them."""
    url = make_url(pg_dsn).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    first, second = MetadataStore(url), MetadataStore(url)
    await first.migrate()
    try:
        yield first, second
    finally:
        await second.close()
        await first.close()


async def test_a_replica_reads_the_queue_another_replica_filled(
        shared_postgres: tuple[MetadataStore, MetadataStore]) -> None:
    creating, reading = shared_postgres
    source = await add_source(creating, "acme", "sales")
    for _ in range(3):
        await JobStore(creating).create(source, JobType.SCHEMA)
    await QueueGauges(JobStore(reading), every_s=1.0).refresh()
    assert sample("chatdb_training_jobs_queued", type="SCHEMA") == 3
    claimed = await JobStore(reading).claim("replica-b", [JobType.SCHEMA])
    assert claimed is not None
    tally = await JobStore(creating).tally()
    assert (tally.by_type[JobType.SCHEMA].queued, tally.by_type[JobType.SCHEMA].running) == (2, 1)
