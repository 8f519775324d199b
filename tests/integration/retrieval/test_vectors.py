"""The vector store on Milvus Lite and on a real Milvus server: upserts, isolation, deletes,
persistence, and reads that see the writes before them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from chatdb_server.errors import FailedPrecondition, InvalidArgument
from chatdb_server.retrieval.vectors import ExampleVector, TableVector, VectorStore, quote, vector_id
from chatdb_server.settings import Settings
from tests.support.milvus_server import MilvusBackend

DIM = 16


def unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


def tables(names: list[str], seed: int = 0, fingerprint: str = "fp1") -> list[TableVector]:
    return [TableVector(name, f"table {name}", unit(seed + i), fingerprint) for i, name in enumerate(names)]


@pytest.fixture(scope="module")
def store(milvus_backend: MilvusBackend, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VectorStore]:
    with milvus_backend.vector_store(tmp_path_factory.mktemp("milvus"), DIM) as vectors:
        yield vectors


def test_upsert_is_idempotent_and_replaces(store: VectorStore) -> None:
    names = ["orders", "customers", "products"]
    assert store.upsert_tables("acme/shop", tables(names, fingerprint="fp1")) == 3
    assert store.upsert_tables("acme/shop", tables(names, seed=10, fingerprint="fp2")) == 3
    assert store.count_tables("acme/shop") == 3
    assert store.table_names("acme/shop") == sorted(names)
    assert store.table_fingerprints("acme/shop") == dict.fromkeys(names, "fp2")
    hits = store.search_tables("acme/shop", unit(10), 1)
    assert hits[0][0] == "orders" and hits[0][1] == pytest.approx(1.0, abs=1e-4)


def test_searches_never_cross_namespaces(store: VectorStore) -> None:
    shared_names = ["events", "users"]
    store.upsert_tables("tenant-a/app", tables(shared_names, seed=100))
    store.upsert_tables("tenant-b/app", tables(shared_names, seed=200))
    store.upsert_tables("tenant-a/other", tables(["invoices"], seed=300))
    probe = unit(200)  # identical to tenant-b's "users" vector
    hits_a = store.search_tables("tenant-a/app", probe, 10)
    assert sorted(name for name, _ in hits_a) == shared_names
    assert all(score < 0.999 for _, score in hits_a)
    assert store.search_tables("tenant-b/app", probe, 10)[0][1] == pytest.approx(1.0, abs=1e-4)
    names, matrix = store.table_vectors("tenant-a/app")
    assert sorted(names) == shared_names and matrix.shape == (2, DIM)
    assert not any(np.allclose(row, probe, atol=1e-3) for row in matrix)
    assert store.count_tables("tenant-a/other") == 1
    assert store.search_tables("nobody/here", probe, 5) == []


def test_namespace_values_are_escaped_in_filters(store: VectorStore) -> None:
    tricky = 'evil" or namespace != "x\\'
    store.upsert_tables(tricky, tables(["secret"], seed=400))
    store.upsert_tables("victim/db", tables(["private"], seed=401))
    assert [name for name, _ in store.search_tables(tricky, unit(401), 10)] == ["secret"]
    assert store.count_tables(tricky) == 1
    assert json.loads(quote(tricky)) == tricky
    store.delete_namespace(tricky)
    assert store.count_tables("victim/db") == 1


def test_delete_tables_removes_only_those_in_that_namespace(store: VectorStore) -> None:
    store.upsert_tables("del/one", tables(["a", "b", "c"]))
    store.upsert_tables("del/two", tables(["a", "b"]))
    assert store.delete_tables("del/one", ["a", "missing"]) == 1
    assert store.table_names("del/one") == ["b", "c"]
    assert store.table_names("del/two") == ["a", "b"]
    assert store.delete_tables("del/one", []) == 0


def test_examples_upsert_search_and_delete(store: VectorStore) -> None:
    store.upsert_example("ex/db", "ex1", "how many orders", "SELECT COUNT(*) FROM orders", unit(500))
    store.upsert_examples("ex/db", [ExampleVector("ex2", "list customers", "SELECT * FROM customers", unit(501)),
                                    ExampleVector("ex1", "how many orders?", "SELECT COUNT(*) FROM orders",
                                                  unit(500))])
    store.upsert_example("ex/elsewhere", "ex1", "leak", "SELECT 1", unit(501))
    assert store.count_examples("ex/db") == 2
    hits = store.search_examples("ex/db", unit(501), 5)
    assert [h.example_id for h in hits] == ["ex2", "ex1"]
    assert hits[0].sql == "SELECT * FROM customers" and hits[0].score == pytest.approx(1.0, abs=1e-4)
    assert hits[1].question == "how many orders?"
    assert store.delete_example("ex/db", "ex2") is True
    assert store.delete_example("ex/db", "ex2") is False
    assert store.count_examples("ex/db") == 1
    assert store.count_examples("ex/elsewhere") == 1


def test_delete_namespace_removes_tables_and_examples(store: VectorStore) -> None:
    store.upsert_tables("gone/db", tables(["t1", "t2"]))
    store.upsert_example("gone/db", "e1", "q", "SELECT 1", unit(1))
    store.upsert_tables("kept/db", tables(["t1"]))
    before = store.generation("gone/db")
    store.delete_namespace("gone/db")
    assert store.count_tables("gone/db") == 0 and store.count_examples("gone/db") == 0
    assert store.count_tables("kept/db") == 1
    assert store.generation("gone/db") > before


def test_bad_input_is_invalid_argument(store: VectorStore) -> None:
    with pytest.raises(InvalidArgument) as caught:
        store.upsert_tables("ok/db", [TableVector("t", "doc", np.ones(DIM + 1, dtype=np.float32))])
    assert caught.value.metadata["field"] == "vector"
    with pytest.raises(InvalidArgument) as caught:
        store.count_tables("")
    assert caught.value.metadata["field"] == "namespace"
    with pytest.raises(InvalidArgument):
        store.upsert_example("ok/db", "", "q", "SELECT 1", unit(0))


def test_ids_are_deterministic_per_namespace_and_key() -> None:
    assert vector_id("a/b", "orders") == vector_id("a/b", "orders")
    assert vector_id("a/b", "orders") != vector_id("a/c", "orders")
    assert vector_id("a/b", "orders") != vector_id("a/b", "order")
    assert len(vector_id("a/b", "x" * 1000)) == 32


def test_long_texts_are_truncated_to_fit(store: VectorStore) -> None:
    long_doc = "é" * 20_000  # 40,000 bytes
    store.upsert_tables("long/db", [TableVector("wide_table", long_doc, unit(7))])
    stored = store.table_document("long/db", "wide_table")
    assert stored is not None and 0 < len(stored.encode()) <= 16_384 and set(stored) == {"é"}


_REOPEN = """
import json, sys
from chatdb_server.retrieval.vectors import VectorStore
store = VectorStore(sys.argv[1], dim=int(sys.argv[2]))
print(json.dumps({"tables": store.count_tables("p/db"), "examples": store.count_examples("p/db"),
                  "names": store.table_names("p/db"), "hit": store.search_tables("p/db", __import__("numpy").ones(
                  int(sys.argv[2]), dtype="float32"), 1)[0][0]}))
store.close()
"""


def test_vectors_persist_across_close_and_a_new_process(milvus_backend: MilvusBackend, tmp_path: Path) -> None:
    with milvus_backend.milvus_uri() as milvus_uri:
        uri = Settings(data_dir=tmp_path, milvus_uri=milvus_uri).resolved_milvus_uri
        first = VectorStore(uri, dim=DIM)
        ones = np.ones(DIM, dtype=np.float32) / np.sqrt(DIM)
        first.upsert_tables("p/db", [*tables(["a", "b"]), TableVector("closest", "doc", ones)])
        first.upsert_example("p/db", "e1", "q", "SELECT 1", unit(3))
        first.close()

        reopened = VectorStore(uri, dim=DIM)
        assert reopened.count_tables("p/db") == 3
        reopened.close()

        out = subprocess.run([sys.executable, "-c", _REOPEN, uri, str(DIM)], capture_output=True, text=True,
                             check=True, timeout=300)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"tables": 3, "examples": 1, "names": ["a", "b", "closest"], "hit": "closest"}


def test_a_file_held_by_another_process_is_a_clear_unavailable(tmp_path: Path) -> None:
    path = str(tmp_path / "nested" / "held.db")
    holder = VectorStore(path, dim=DIM)  # creates the missing directory
    try:
        script = ("import sys\nfrom chatdb_server.errors import Unavailable\n"
                  "from chatdb_server.retrieval.vectors import VectorStore\n"
                  "try:\n    VectorStore(sys.argv[1], dim=16)\nexcept Unavailable as exc:\n    print(exc.message)\n")
        out = subprocess.run([sys.executable, "-c", script, path], capture_output=True, text=True, check=True,
                             timeout=300)
        assert "one process owns a Milvus Lite file at a time" in out.stdout
    finally:
        holder.close()


def test_reopening_with_another_dimension_is_refused(milvus_backend: MilvusBackend, tmp_path: Path) -> None:
    with milvus_backend.milvus_uri() as milvus_uri:
        uri = Settings(data_dir=tmp_path, milvus_uri=milvus_uri).resolved_milvus_uri
        VectorStore(uri, dim=DIM).close()
        with pytest.raises(FailedPrecondition) as caught:
            VectorStore(uri, dim=DIM * 2)
    assert "16-d" in caught.value.message


def test_a_read_right_after_a_write_sees_it(store: VectorStore) -> None:
    """Every kind of read, issued the instant a write returns, sees that write (Milvus's default,
    Bounded, missed such writes every time on a server)."""
    for round_ in range(3):
        namespace = f"fresh/db{round_}"
        vector = unit(900 + round_)
        store.upsert_tables(namespace, [TableVector("orders", f"orders {round_}", vector, f"fp{round_}")])
        assert store.search_tables(namespace, vector, 1)[0][0] == "orders"
        assert store.count_tables(namespace) == 1
        assert store.table_names(namespace) == ["orders"]
        assert store.table_fingerprints(namespace) == {"orders": f"fp{round_}"}
        assert store.table_document(namespace, "orders") == f"orders {round_}"
        names, matrix = store.table_vectors(namespace)
        assert names == ["orders"] and np.allclose(matrix[0], vector, atol=1e-5)
        store.upsert_tables(namespace, [TableVector("orders", "rewritten", unit(950 + round_), "new")])
        assert store.table_fingerprints(namespace) == {"orders": "new"}
        assert store.search_tables(namespace, unit(950 + round_), 1)[0][1] == pytest.approx(1.0, abs=1e-4)
        store.upsert_example(namespace, "ex", "how many orders", "SELECT COUNT(*) FROM orders", vector)
        assert [hit.example_id for hit in store.search_examples(namespace, vector, 1)] == ["ex"]
        assert [hit.example_id for hit in store.examples(namespace)[0]] == ["ex"]
        assert store.delete_tables(namespace, ["orders"]) == 1
        assert store.count_tables(namespace) == 0 and store.search_tables(namespace, vector, 1) == []
        assert store.delete_example(namespace, "ex") is True
        assert store.count_examples(namespace) == 0


def test_rewriting_leaves_one_row_per_document_in_its_namespace(store: VectorStore) -> None:
    """Retraining rewrites every table's vector; each must stay one row that the namespace filter
    finds. (Milvus 2.3's upsert put rows of partition-key collections into the wrong partition,
    where namespace filters miss them: milvus-io/milvus#30607.)"""
    namespaces = [f"retrain-{n}/db" for n in range(12)]
    names = [f"table_{i}" for i in range(6)]
    for version in range(3):
        for n, namespace in enumerate(namespaces):
            store.upsert_tables(namespace, tables(names, seed=1000 * version + 10 * n, fingerprint=f"v{version}"))
    for n, namespace in enumerate(namespaces):
        assert store.count_tables(namespace) == len(names), namespace
        assert store.table_fingerprints(namespace) == dict.fromkeys(names, "v2"), namespace
        for i, name in enumerate(names):
            found = store.search_tables(namespace, unit(2000 + 10 * n + i), 1)
            assert found[0][0] == name and found[0][1] == pytest.approx(1.0, abs=1e-4), (namespace, name)
    ids = [vector_id(namespace, name) for namespace in namespaces for name in names]
    assert _rows_with_ids(store, ids) == len(ids)  # no stray copy anywhere in the collection


def _rows_with_ids(store: VectorStore, ids: list[str]) -> int:
    """How many rows of the tables collection carry ``ids``, in any partition (no namespace filter)."""
    from pymilvus import MilvusClient

    client = MilvusClient(uri=store.uri)
    try:
        rows = client.query(store.tables_collection, filter=f"id in {json.dumps(ids)}", output_fields=["count(*)"],
                            consistency_level="Strong")
    finally:
        client.close()
    return int(rows[0]["count(*)"])
