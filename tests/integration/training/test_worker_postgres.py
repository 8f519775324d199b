"""Two TrainingService replicas sharing one PostgreSQL metadata store: every queued job runs
exactly once (claims use SELECT ... FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from chatdb_server.training.handlers import JobContext
from chatdb_server.training.job_model import JobState, JobType
from tests.unit.training.job_fixtures import make_shop_database, open_stack, register_sqlite

SOURCES = 4
FINE_TUNES_PER_SOURCE = 6


async def test_two_workers_run_each_job_exactly_once(pg_dsn: str, tmp_path: Path, milvus_uri: str) -> None:
    metadata_url = make_url(pg_dsn).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)
    data_dir = tmp_path / "chatdb"
    first = await open_stack(data_dir, metadata_url=metadata_url, worker_id="replica-a", milvus_uri=milvus_uri)
    second = await open_stack(data_dir, metadata_url=metadata_url, worker_id="replica-b", vectors=first.vectors)
    executions: Counter[str] = Counter()
    runners: dict[str, str] = {}

    def counting_handler(replica: str) -> Any:
        async def handler(context: JobContext) -> dict[str, Any]:
            executions[context.job.job_id] += 1
            runners[context.job.job_id] = replica
            context.progress("TRAIN", 50)
            return {"dataset_size": 1, "base_model": "tiny"}
        return handler

    first.service.register_handler(JobType.FINE_TUNE, counting_handler("replica-a"))
    second.service.register_handler(JobType.FINE_TUNE, counting_handler("replica-b"))
    try:
        sources = [await register_sqlite(first.catalog, "acme", f"shop-{i}", make_shop_database(tmp_path / f"{i}.db"))
                   for i in range(SOURCES)]
        created = []
        for source in sources:
            created.append(await first.service.create_job("acme", source.name, [], JobType.SCHEMA))
            for _ in range(FINE_TUNES_PER_SOURCE):
                created.append(await first.service.create_job("acme", source.name, [], JobType.FINE_TUNE))
        await first.service.start()
        await second.service.start()
        finished = []
        for job in created:  # follow each job to its end; the replicas' loops run meanwhile
            async for snapshot in second.service.watch("acme", job.name):
                last = snapshot
            finished.append(last)
    finally:
        await second.service.stop(grace_s=5.0)
        await first.service.stop(grace_s=5.0)

    try:
        assert all(job.state is JobState.SUCCEEDED for job in finished), [j.error_message for j in finished]
        assert all(job.attempt == 1 for job in finished)
        fine_tunes = [job.job_id for job in created if job.job_type is JobType.FINE_TUNE]
        assert sorted(executions) == sorted(fine_tunes) and set(executions.values()) == {1}
        assert all(job.result.get("dataset_size") == 1 for job in finished if job.job_type is JobType.FINE_TUNE)
        print(f"fine-tune jobs per replica: {Counter(runners.values())}")
        for source in sources:
            tables = await first.catalog.stored_tables(source)
            assert all(t.training_state == "TRAINED" for t in tables)
            assert first.vectors.count_tables(source.namespace) == len(tables) == 4
    finally:
        await second.store.close()
        await first.close()
