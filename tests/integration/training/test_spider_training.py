"""Train every Spider dev database as a data source, restart, and check the vectors survived with
exact counts per namespace and that a search in one namespace never returns another's rows."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from chatdb_server.retrieval.embeddings import Embedder
from chatdb_server.training.job_model import JobState, JobType
from tests.support.spider import database_ids, database_path, questions, require_spider
from tests.unit.training.job_fixtures import open_stack, register_sqlite

pytestmark = pytest.mark.spider


def _source_id(db_id: str) -> str:
    return "spider-" + db_id.lower().replace("_", "-")


async def test_train_all_spider_databases_then_restart(tmp_path: Path, milvus_uri: str) -> None:
    require_spider()
    data_dir = tmp_path / "chatdb"
    ids = database_ids()
    stack = await open_stack(data_dir, milvus_uri=milvus_uri)
    expected: dict[str, int] = {}
    try:
        for db_id in ids:
            source = await register_sqlite(stack.catalog, "acme", _source_id(db_id), database_path(db_id))
            expected[source.namespace] = len(await stack.catalog.stored_tables(source))
            await stack.service.create_job("acme", source.name, [], JobType.SCHEMA)
        started = time.perf_counter()
        finished = await stack.service.worker.run_until_idle()
        elapsed = time.perf_counter() - started
        print(f"trained {sum(expected.values())} tables of {len(ids)} databases in {elapsed:.1f}s")
        assert len(finished) == len(ids)
        assert all(job.state is JobState.SUCCEEDED for job in finished), [j.error_message for j in finished]
    finally:
        await stack.close()

    reopened = await open_stack(data_dir, milvus_uri=milvus_uri)
    try:
        embedder = Embedder.shared()
        by_db = {q.db_id: q.question for q in questions()}
        for db_id in ids:
            source = await reopened.catalog.resolve("acme", f"dataSources/{_source_id(db_id)}")
            tables = await reopened.catalog.stored_tables(source)
            assert all(t.training_state == "TRAINED" for t in tables)
            assert reopened.vectors.count_tables(source.namespace) == expected[source.namespace] == len(tables)
            own = {t.structure.name for t in tables}
            assert set(reopened.vectors.table_names(source.namespace)) == own
            # ask this namespace another database's question, with k far above its table count
            foreign = next(by_db[other] for other in ids if other != db_id and other in by_db)
            hits = reopened.vectors.search_tables(source.namespace, embedder.encode([foreign])[0], k=100)
            assert hits and {name for name, _ in hits} <= own and len(hits) <= len(own)
    finally:
        await reopened.close()
