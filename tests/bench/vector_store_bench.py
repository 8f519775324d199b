"""Vector-store latencies on Milvus Lite and on a real Milvus standalone server.

For each backend a fresh store (default index: FLAT on Lite, HNSW on the server) receives 10,000
table vectors (384-d, random unit vectors: this measures the store, not recall) in 10 namespaces of
1,000; reads go to one namespace. Each figure is printed beside a floor measured in the same run
on the same backend:

- insert throughput of ``upsert_tables`` in batches of 1,000 (delete by id, then insert: how the
  store writes on every Milvus) — floor: the same rows inserted raw, one insert per batch, into a
  scratch collection of the same schema;
- filtered top-5 search in one namespace (``search_tables``, Session level), p50 / p99 — floor:
  the cheapest read of the same Milvus, a Session get of an id that does not exist;
- get by id at Session level (one row by primary key, as a search's caller would fetch it) —
  same floor;
- the store's own reads that must see every process's writes (``table_document``, and loading a
  namespace with ``table_vectors`` for an in-process index; Strong level) — floor: the same query
  at Session level, so the difference is what Strong costs.

    .venv/bin/python -m tests.bench.vector_store_bench [--namespaces 10] [--per-namespace 1000]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a plain script from anywhere

from chatdb_server import log
from chatdb_server.retrieval.vectors import TableVector, VectorStore, vector_id
from tests.support.milvus_server import MILVUS_VERSION, MilvusServerProcess

DIM = 384
BATCH = 1_000
SEARCHES = 300
GETS = 300
STRONG_READS = 30


def unit_rows(count: int, rng: np.random.Generator) -> np.ndarray:
    matrix = rng.standard_normal((count, DIM)).astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def timed(count: int, work: Callable[[int], object]) -> list[float]:
    samples = []
    for i in range(count):
        started = time.perf_counter()
        work(i)
        samples.append(time.perf_counter() - started)
    return samples


def p50_p99(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))] * 1000


def row(label: str, samples: list[float], floor: list[float]) -> None:
    (p50, p99), (floor50, _) = p50_p99(samples), p50_p99(floor)
    print(f"  {label:<64}{p50:>9.2f}{p99:>9.2f}{floor50:>9.2f}")


@contextlib.contextmanager
def backends(tmp: Path) -> Iterator[list[tuple[str, str]]]:
    """(label, URI) of Milvus Lite in ``tmp`` and of a real server started for the run."""
    with MilvusServerProcess(tmp / "server") as server:
        yield [("Milvus Lite", str(tmp / "lite" / "bench.db")), (f"Milvus {MILVUS_VERSION} server", server.uri)]


def measure(label: str, uri: str, namespaces: int, per_namespace: int) -> None:
    from pymilvus import MilvusClient

    rng = np.random.default_rng(7)
    started = time.perf_counter()
    store = VectorStore(uri, dim=DIM, collection_prefix="bench")
    floor_store = VectorStore(uri, dim=DIM, collection_prefix="floor")
    opened = time.perf_counter() - started
    client = MilvusClient(uri=uri)
    names = [f"table_{i:05d}" for i in range(per_namespace)]
    matrices = {f"tenant{n}/db": unit_rows(per_namespace, rng) for n in range(namespaces)}
    total = namespaces * per_namespace
    try:
        began = time.perf_counter()
        for namespace, matrix in matrices.items():
            for start in range(0, per_namespace, BATCH):
                store.upsert_tables(namespace, [TableVector(names[i], f"document of {names[i]}", matrix[i], "fp")
                                                for i in range(start, min(start + BATCH, per_namespace))],
                                    flush=False)
        store.flush()
        insert_s = time.perf_counter() - began
        raw_s = _raw_insert(client, floor_store, matrices, names)

        print(f"\n{label}: {total:,} vectors in {namespaces} namespaces, index {store.index_type}; "
              f"store opened (collections created) in {opened:.1f} s")
        print(f"  {'insert, rows/s (floor: raw inserts)':<64}{total / insert_s:>9,.0f}{'':>9}{total / raw_s:>9,.0f}")
        print(f"  {'p50 / p99 / floor p50 in ms':<64}{'p50':>9}{'p99':>9}{'floor':>9}")
        namespace, matrix = next(iter(matrices.items()))
        probes = unit_rows(SEARCHES, rng)
        absent = vector_id("nobody/db", "nothing")
        collection = store.tables_collection

        def floor_read(_: int) -> Any:
            return client.get(collection, ids=[absent], output_fields=["id"], consistency_level="Session")

        floor = timed(GETS, floor_read)
        row(f"filtered top-5 search, one {per_namespace:,}-table namespace", timed(
            SEARCHES, lambda i: store.search_tables(namespace, probes[i], 5)), floor)
        ids = [vector_id(namespace, names[i % per_namespace]) for i in range(GETS)]
        row("get by id (Session)", timed(
            GETS, lambda i: client.get(collection, ids=[ids[i]], output_fields=["text"],
                                       consistency_level="Session")), floor)
        row("table document by id (the store's read, Strong)", timed(
            STRONG_READS, lambda i: store.table_document(namespace, names[i])), timed(
            STRONG_READS, lambda i: client.get(collection, ids=[ids[i]], output_fields=["text"],
                                               consistency_level="Session")))
        row(f"load a {per_namespace:,}-table namespace for an in-process index (Strong)", timed(
            STRONG_READS, lambda _: store.table_vectors(namespace)), timed(
            STRONG_READS, lambda _: client.query(collection, filter=f'namespace == "{namespace}"',
                                                 output_fields=["table_name", "vector"], limit=16_384,
                                                 consistency_level="Session")))
    finally:
        client.close()
        floor_store.close()
        store.close()


def _raw_insert(client: Any, floor_store: VectorStore, matrices: dict[str, np.ndarray], names: list[str]) -> float:
    """Seconds to insert the same rows raw (one insert per batch; a flush at the end where the store
    would flush too)."""
    began = time.perf_counter()
    for namespace, matrix in matrices.items():
        rows = [{"id": vector_id(namespace, name), "namespace": namespace, "table_name": name, "fingerprint": "fp",
                 "text": f"document of {name}", "vector": matrix[i].tolist()} for i, name in enumerate(names)]
        for start in range(0, len(rows), BATCH):
            client.insert(floor_store.tables_collection, rows[start:start + BATCH])
    floor_store.flush()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--namespaces", type=int, default=10)
    parser.add_argument("--per-namespace", type=int, default=1_000)
    args = parser.parse_args()
    log.configure("warning", "console")
    with tempfile.TemporaryDirectory() as tmp, backends(Path(tmp)) as targets:
        for label, uri in targets:
            measure(label, uri, args.namespaces, args.per_namespace)


if __name__ == "__main__":
    main()
