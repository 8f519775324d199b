"""The job state machine on a real (SQLite) metadata store: create, list, cancel, claim, fence, recover."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from chatdb_server.errors import FailedPrecondition, NotFound
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.models import utcnow
from chatdb_server.training.filters import JobFilter
from chatdb_server.training.job_model import JobState, JobType, Stage
from chatdb_server.training.jobs import JobStore, LeaseLost
from tests.unit.training.job_fixtures import add_source, jobs, metadata

__all__ = ["jobs", "metadata"]

SCHEMA = [JobType.SCHEMA]


async def test_create_queues_a_job_only_its_tenant_sees(metadata: MetadataStore, jobs: JobStore) -> None:
    source = await add_source(metadata, "acme", "sales")
    job = await jobs.create(source, JobType.SCHEMA, ["orders"])
    assert (job.state, job.stage, job.progress_percent, job.version) == (JobState.QUEUED, Stage.UNSPECIFIED, 0, 1)
    assert job.name.startswith("trainingJobs/") and job.data_source == "dataSources/sales"
    assert (await jobs.get("acme", job.job_id)) == job
    with pytest.raises(NotFound):
        await jobs.get("other", job.job_id)


async def test_list_is_newest_first_paged_and_filtered(metadata: MetadataStore, jobs: JobStore) -> None:
    sales = await add_source(metadata, "acme", "sales")
    hr = await add_source(metadata, "acme", "hr")
    created = [await jobs.create(sales if i % 2 else hr, JobType.SCHEMA) for i in range(5)]
    tune = await jobs.create(sales, JobType.FINE_TUNE)
    page, more = await jobs.list_jobs("acme", JobFilter(), 0, 4)
    assert [j.job_id for j in page] == [tune.job_id, *[j.job_id for j in reversed(created)][:3]]
    assert more
    rest, more = await jobs.list_jobs("acme", JobFilter(), 4, 4)
    assert [j.job_id for j in rest] == [created[1].job_id, created[0].job_id] and not more
    only_sales, _ = await jobs.list_jobs("acme", JobFilter(source_id="sales", job_type=JobType.SCHEMA), 0, 50)
    assert {j.job_id for j in only_sales} == {created[1].job_id, created[3].job_id}
    lease, _ = await _claim(jobs)
    running, _ = await jobs.list_jobs("acme", JobFilter(state=JobState.RUNNING), 0, 50)
    assert [j.job_id for j in running] == [lease.job_id]
    assert (await jobs.list_jobs("nobody", JobFilter(), 0, 50)) == ([], False)


async def test_cancel_queued_is_immediate_and_finished_jobs_refuse(metadata: MetadataStore, jobs: JobStore) -> None:
    job = await jobs.create(await add_source(metadata, "acme", "sales"), JobType.SCHEMA)
    cancelled = await jobs.cancel("acme", job.job_id)
    assert cancelled.state is JobState.CANCELLED and cancelled.end_time is not None
    assert cancelled.version == job.version + 1
    with pytest.raises(FailedPrecondition) as refused:
        await jobs.cancel("acme", job.job_id)
    assert refused.value.reason == "JOB_STATE"
    assert await jobs.claim("w1", SCHEMA) is None


async def test_cancel_running_asks_the_worker(metadata: MetadataStore, jobs: JobStore) -> None:
    await jobs.create(await add_source(metadata, "acme", "sales"), JobType.SCHEMA)
    lease, job = await _claim(jobs)
    assert (job.state, job.attempt, job.worker_id) == (JobState.RUNNING, 1, "w1")
    assert job.start_time is not None
    assert not await jobs.heartbeat(lease)
    cancelling = await jobs.cancel("acme", lease.job_id)
    assert cancelling.state is JobState.CANCELLING
    assert (await jobs.cancel("acme", lease.job_id)).version == cancelling.version  # idempotent
    assert await jobs.heartbeat(lease) and await jobs.cancel_requested(lease)
    done = await jobs.finish(lease, JobState.CANCELLED)
    assert done.state is JobState.CANCELLED and done.end_time is not None


async def test_progress_bumps_version_and_success_completes(metadata: MetadataStore, jobs: JobStore) -> None:
    await jobs.create(await add_source(metadata, "acme", "sales"), JobType.SCHEMA)
    lease, job = await _claim(jobs)
    versions = [job.version]
    for stage, percent in ((Stage.FETCH, 25), (Stage.ANALYZE, 50), (Stage.VECTORIZE, 75)):
        job = await jobs.progress(lease, stage=stage, percent=percent, total=3)
        versions.append(job.version)
    job = await jobs.progress(lease, trained=2, staged=["a", "b"])
    assert job.staged_tables == ("a", "b") and job.trained_table_count == 2
    versions.append(job.version)
    done = await jobs.finish(lease, JobState.SUCCEEDED, result={"dataset_size": 3})
    assert versions == sorted(set(versions)) and done.version > versions[-1]
    assert (done.stage, done.progress_percent, done.staged_tables) == (Stage.DONE, 100, ())
    assert done.result == {"dataset_size": 3}
    with pytest.raises(LeaseLost):
        await jobs.progress(lease, percent=10)


async def test_claim_respects_types_and_one_running_job_per_source(metadata: MetadataStore, jobs: JobStore) -> None:
    sales = await add_source(metadata, "acme", "sales")
    first = await jobs.create(sales, JobType.SCHEMA)
    second = await jobs.create(sales, JobType.SCHEMA)
    tune = await jobs.create(sales, JobType.FINE_TUNE)
    lease, _ = await _claim(jobs)
    assert lease.job_id == first.job_id
    assert await jobs.claim("w2", SCHEMA) is None  # the source is busy with a schema job
    other = await jobs.claim("w2", [JobType.FINE_TUNE])
    assert other is not None and other[0].job_id == tune.job_id
    await jobs.finish(lease, JobState.SUCCEEDED)
    nxt = await jobs.claim("w2", SCHEMA)
    assert nxt is not None and nxt[0].job_id == second.job_id
    assert await jobs.claim("w3", []) is None


async def test_concurrent_claims_on_one_store_take_each_job_once(metadata: MetadataStore) -> None:
    sources = [await add_source(metadata, "acme", f"s{i}") for i in range(12)]
    stores = [JobStore(MetadataStore(metadata.url)) for _ in range(3)]
    for source in sources:
        await stores[0].create(source, JobType.SCHEMA)

    async def drain(store: JobStore, worker: str) -> list[str]:
        taken = []
        while (claimed := await store.claim(worker, SCHEMA)) is not None:
            taken.append(claimed[0].job_id)
        return taken

    results = await asyncio.gather(*(drain(s, f"w{i}") for i, s in enumerate(stores)))
    everything = [job for taken in results for job in taken]
    assert len(everything) == len(set(everything)) == 12


async def test_recovery_requeues_then_fails_after_max_attempts(metadata: MetadataStore, jobs: JobStore) -> None:
    await jobs.create(await add_source(metadata, "acme", "sales"), JobType.SCHEMA)
    lease, _ = await _claim(jobs)
    await jobs.progress(lease, stage=Stage.VECTORIZE, percent=75, staged=["orders"])
    future = utcnow() + timedelta(seconds=1)
    assert await jobs.stale_jobs(utcnow() - timedelta(hours=1)) == []
    (stale,) = await jobs.stale_jobs(future)
    assert stale.staged_tables == ("orders",)
    recovery = await jobs.take_over(stale, "recoverer", future)
    assert recovery is not None
    assert await jobs.take_over(stale, "late-recoverer", future) is None  # only one replica recovers it
    with pytest.raises(LeaseLost):  # the lost worker can no longer write
        await jobs.progress(lease, percent=80)
    requeued = await jobs.release_recovered(recovery, max_attempts=2)
    assert (requeued.state, requeued.progress_percent, requeued.staged_tables) == (JobState.QUEUED, 0, ())
    lease, job = await _claim(jobs, "w2")
    assert job.attempt == 2
    (stale,) = await jobs.stale_jobs(utcnow() + timedelta(seconds=1))
    recovery = await jobs.take_over(stale, "recoverer", utcnow() + timedelta(seconds=1))
    assert recovery is not None
    failed = await jobs.release_recovered(recovery, max_attempts=2)
    assert failed.state is JobState.FAILED and "stopped unexpectedly 2 times" in failed.error_message


async def test_recovery_of_a_cancelling_job_cancels_it(metadata: MetadataStore, jobs: JobStore) -> None:
    await jobs.create(await add_source(metadata, "acme", "sales"), JobType.SCHEMA)
    lease, _ = await _claim(jobs)
    await jobs.cancel("acme", lease.job_id)
    cutoff = utcnow() + timedelta(seconds=1)
    (stale,) = await jobs.stale_jobs(cutoff)
    recovery = await jobs.take_over(stale, "recoverer", cutoff)
    assert recovery is not None
    assert (await jobs.release_recovered(recovery, max_attempts=5)).state is JobState.CANCELLED


async def _claim(jobs: JobStore, worker: str = "w1"):  # type: ignore[no-untyped-def]
    claimed = await jobs.claim(worker, SCHEMA)
    assert claimed is not None
    return claimed
