"""Watching a job: every in-process change arrives through the feed; another replica's changes
arrive by polling; the stream ends at a terminal state."""

from __future__ import annotations

from chatdb_server.metadata.db import MetadataStore
from chatdb_server.training.job_model import JobState, JobType, Stage
from chatdb_server.training.jobs import JobStore
from chatdb_server.training.watch import watch_job
from tests.unit.training.job_fixtures import add_source, jobs, metadata

__all__ = ["jobs", "metadata"]

NO_POLLING = 3600.0
"""A poll interval no test reaches: anything seen must have come through the feed."""


async def test_every_in_process_change_is_streamed_in_order(metadata: MetadataStore, jobs: JobStore) -> None:
    job = await jobs.create(await add_source(metadata, "acme", "sales"), JobType.SCHEMA)
    stream = watch_job(jobs, jobs.feed, "acme", job.job_id, NO_POLLING)
    first = await anext(stream)
    assert (first.state, first.version) == (JobState.QUEUED, 1) and jobs.feed.watched(job.job_id)
    claimed = await jobs.claim("w1", [JobType.SCHEMA])
    assert claimed is not None
    lease, _ = claimed
    for stage, percent in ((Stage.FETCH, 25), (Stage.ANALYZE, 50), (Stage.VECTORIZE, 75)):
        await jobs.progress(lease, stage=stage, percent=percent)
    await jobs.progress(lease, trained=1)
    await jobs.finish(lease, JobState.SUCCEEDED)
    seen = [snapshot async for snapshot in stream]
    assert [s.version for s in seen] == list(range(2, 8))
    assert [s.progress_percent for s in seen] == [0, 25, 50, 75, 75, 100]
    assert seen[-1].state is JobState.SUCCEEDED
    assert not jobs.feed.watched(job.job_id)  # the channel goes with its last watcher


async def test_changes_by_another_replica_are_polled(metadata: MetadataStore, jobs: JobStore) -> None:
    job = await jobs.create(await add_source(metadata, "acme", "sales"), JobType.SCHEMA)
    replica_store = MetadataStore(metadata.url)
    replica = JobStore(replica_store)  # its own engine and feed, like another process
    try:
        stream = watch_job(jobs, jobs.feed, "acme", job.job_id, 0.02)
        assert (await anext(stream)).state is JobState.QUEUED
        cancelled = await replica.cancel("acme", job.job_id)
        seen = [snapshot async for snapshot in stream]
        assert seen == [cancelled]
    finally:
        await replica_store.close()


async def test_a_finished_job_streams_once(metadata: MetadataStore, jobs: JobStore) -> None:
    job = await jobs.create(await add_source(metadata, "acme", "sales"), JobType.SCHEMA)
    cancelled = await jobs.cancel("acme", job.job_id)
    assert [s async for s in watch_job(jobs, jobs.feed, "acme", job.job_id, NO_POLLING)] == [cancelled]
