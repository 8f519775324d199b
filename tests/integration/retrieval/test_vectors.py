"""The vector store on real Milvus Lite: upserts, isolation, deletes, persistence."""

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

DIM = 16


def unit(seed: int) -> np.ndarray:
    vector = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
    return vector / np.linalg.norm(vector)


def tables(names: list[str], seed: int = 0, fingerprint: str = "fp1") -> list[TableVector]:
    return [TableVector(name, f"table {name}", unit(seed + i), fingerprint) for i, name in enumerate(names)]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VectorStore]:
    vectors = VectorStore(str(tmp_path_factory.mktemp("milvus") / "vectors.db"), dim=DIM)
    yield vectors
    vectors.close()


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


def test_vectors_persist_across_close_and_a_new_process(tmp_path: Path) -> None:
    path = str(tmp_path / "persist.db")
    first = VectorStore(path, dim=DIM)
    ones = np.ones(DIM, dtype=np.float32) / np.sqrt(DIM)
    first.upsert_tables("p/db", [*tables(["a", "b"]), TableVector("closest", "doc", ones)])
    first.upsert_example("p/db", "e1", "q", "SELECT 1", unit(3))
    first.close()

    reopened = VectorStore(path, dim=DIM)
    assert reopened.count_tables("p/db") == 3
    reopened.close()

    out = subprocess.run([sys.executable, "-c", _REOPEN, path, str(DIM)], capture_output=True, text=True,
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


def test_reopening_with_another_dimension_is_refused(tmp_path: Path) -> None:
    path = str(tmp_path / "dims.db")
    VectorStore(path, dim=DIM).close()
    with pytest.raises(FailedPrecondition) as caught:
        VectorStore(path, dim=DIM * 2)
    assert "16-d" in caught.value.message
