"""Claiming and recovery with several replicas' connections racing on one metadata store (PostgreSQL,
and SQLite for the claims): each job is claimed exactly once, never while another job of its source
runs, and on PostgreSQL a replica whose host clock runs ahead does not take a live job for a dead one
(heartbeats and staleness are measured by the database's clock)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, update
from sqlalchemy.engine import make_url

from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.models import TrainingJobRow, utcnow
from chatdb_server.training import jobs as jobs_module
from chatdb_server.training.job_model import JobState, JobType
from chatdb_server.training.jobs import JobStore
from tests.support.databases import postgres_database
from tests.unit.training.job_fixtures import add_source, make_shop_database, open_stack, register_sqlite

REPLICAS = 6
SOURCES = 3
JOBS_PER_SOURCE = 8
SCHEMA = [JobType.SCHEMA]


def postgres_url() -> Iterator[str]:
    with postgres_database() as dsn:
        yield make_url(dsn).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


@pytest.fixture
def metadata_url() -> Iterator[str]:
    """A fresh PostgreSQL database."""
    yield from postgres_url()


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The one metadata store of every replica: a SQLite file or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'metadata.db'}"
        return
    yield from postgres_url()


@pytest.fixture
async def stores(shared_url: str) -> AsyncIterator[list[MetadataStore]]:
    """One metadata store (engine and pool) per replica, over one database."""
    opened = [MetadataStore(shared_url) for _ in range(REPLICAS)]
    await opened[0].migrate()
    try:
        yield opened
    finally:
        for store in opened:
            await store.close()


async def test_racing_replicas_claim_each_job_once_and_one_per_source_at_a_time(
        stores: list[MetadataStore]) -> None:
    sources = [await add_source(stores[0], "acme", f"s{i}") for i in range(SOURCES)]
    created = [await JobStore(stores[0]).create(source, JobType.SCHEMA)
               for _ in range(JOBS_PER_SOURCE) for source in sources]
    running: dict[int, set[str]] = {source.pk: set() for source in sources}
    overlaps: list[tuple[str, set[str]]] = []
    claimed: Counter[str] = Counter()

    async def replica(store: MetadataStore, worker: str) -> None:
        jobs = JobStore(store)
        while (taken := await jobs.claim(worker, SCHEMA)) is not None:
            lease, job = taken
            claimed[job.job_id] += 1
            if running[job.source_pk]:
                overlaps.append((job.job_id, set(running[job.source_pk])))
            running[job.source_pk].add(job.job_id)
            for _ in range(5):  # the job runs (its worker heartbeats) while the other replicas claim
                await jobs.heartbeat(lease)
            running[job.source_pk].discard(job.job_id)  # before the finish commits: no false overlap
            await jobs.finish(lease, JobState.SUCCEEDED)

    rounds = 0
    while sum(claimed.values()) < len(created):  # a replica stops when its source's jobs are all busy
        rounds += 1
        assert rounds < 10 * len(created), "jobs stay queued"
        await asyncio.gather(*(replica(store, f"w{i}") for i, store in enumerate(stores)))

    assert overlaps == []
    assert claimed == Counter({job.job_id: 1 for job in created})
    finished = [await JobStore(stores[0]).get("acme", job.job_id) for job in created]
    assert {(job.state, job.attempt) for job in finished} == {(JobState.SUCCEEDED, 1)}


async def test_a_replica_whose_clock_runs_ahead_leaves_live_jobs_alone(
        metadata_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stack = await open_stack(tmp_path / "chatdb", metadata_url=metadata_url, worker_id="recoverer")
    try:
        source = await register_sqlite(stack.catalog, "acme", "shop", make_shop_database(tmp_path / "shop.db"))
        jobs = stack.service.jobs
        await jobs.create(source, JobType.SCHEMA)
        taken = await jobs.claim("live-worker", SCHEMA)
        assert taken is not None
        lease, job = taken

        real = utcnow
        monkeypatch.setattr(jobs_module, "utcnow", lambda: real() + timedelta(hours=2))
        assert await stack.service.worker.recover() == []
        held = await jobs.get("acme", job.job_id)
        assert (held.state, held.worker_id) == (JobState.RUNNING, "live-worker")
        assert await jobs.heartbeat(lease) is False  # still the live worker's job
        monkeypatch.undo()

        async with stack.store.session() as session:  # its worker really stopped, by the database's clock
            await session.execute(update(TrainingJobRow).where(TrainingJobRow.pk == job.pk)
                                   .values(heartbeat_time=func.now() - timedelta(minutes=5)))
        (recovered,) = await stack.service.worker.recover()
        assert (recovered.job_id, recovered.state, recovered.worker_id) == (job.job_id, JobState.QUEUED, "")
    finally:
        await stack.close()
