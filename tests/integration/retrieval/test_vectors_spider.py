"""Training every Spider dev database into Milvus (Lite and a server), reopening the store, and finding
exact counts."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatdb_server.retrieval.embeddings import Embedder
from chatdb_server.retrieval.table_indexing import index_tables
from chatdb_server.retrieval.vectors import VectorStore
from chatdb_server.settings import Settings
from tests.bench.spider_tables import load_sources
from tests.support.spider import database_ids, require_spider

pytestmark = [pytest.mark.spider, pytest.mark.slow]


async def test_spider_vectors_survive_a_restart_with_exact_counts(tmp_path: Path, milvus_uri: str) -> None:
    require_spider()
    sources = await load_sources(database_ids())
    embedder = Embedder.shared()
    uri = Settings(data_dir=tmp_path, milvus_uri=milvus_uri).resolved_milvus_uri
    store = VectorStore(uri, dim=embedder.dim)
    for source in sources.values():
        index_tables(embedder, store, source.ref.namespace, source.tables, source.joins)
        # Retraining the same tables replaces their vectors in place.
        index_tables(embedder, store, source.ref.namespace, source.tables[:2], source.joins)
    store.close()

    reopened = VectorStore(uri, dim=embedder.dim)
    try:
        for source in sources.values():
            assert reopened.count_tables(source.ref.namespace) == len(source.tables), source.db_id
            assert reopened.table_names(source.ref.namespace) == sorted(source.table_names)
            assert set(reopened.table_fingerprints(source.ref.namespace).values()) == {
                t.fingerprint for t in source.tables}
        car = sources["car_1"]
        hits = reopened.search_tables(car.ref.namespace, embedder.encode_query("average horsepower of cars"), 1)
        assert hits[0][0] == "cars_data"
    finally:
        reopened.close()
