"""Retrieval latency at 100,000 table vectors: many namespaces in one Milvus Lite, search in one.

The store holds 90 namespaces of 1,000 tables and one of 10,000 (100,000 vectors). One
namespace's documents are embedded for real (synthetic schema, real model); the others are
noisy copies of those vectors, so the store has a realistic distribution without embedding
100,000 documents. Reported, p50 / p99 in milliseconds:

- Milvus Lite filtered top-5 search in one namespace, per index type (FLAT, IVF_FLAT, HNSW);
- question embedding alone (uncached questions);
- a warm retrieval beyond the embedding (question cached; in-process index, and Milvus search);
- a full retrieval of a new question (embedding + search + joins + context);
- loading a namespace into the in-process index (the first question of a namespace).

Run: ``python tests/bench/retrieval_latency.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from chatdb_server.retrieval.embeddings import Embedder, Vector
from chatdb_server.retrieval.retriever import RetrievalSettings, Retriever
from chatdb_server.retrieval.table_indexing import table_vectors
from chatdb_server.retrieval.vectors import TableVector, VectorStore
from chatdb_server.sql.dsn import parse_dsn
from chatdb_server.sql.structure import JoinEdge, SourceRef, StoredTable
from tests.bench.training_scale import synthetic_schema

SMALL_NAMESPACES = 90
SMALL_SIZE = 1_000
LARGE_SIZE = 10_000
INDEX_TYPES = ("FLAT", "IVF_FLAT", "HNSW")
SEARCHES = 200
QUESTIONS = 200

_ASKS = ("How many {e} records have status open?", "List the {a} of every {e}", "Total amount of {e} per city",
         "Which {e} was created most recently?", "Average score of active {e} in the {area} area",
         "Show {e} with their {a} and email")


def questions(count: int, seed: int = 3) -> list[str]:
    """Distinct plausible questions about the synthetic schema's words."""
    rng = random.Random(seed)
    areas = ("sales", "billing", "hr", "inventory", "shipping", "support")
    entities = ("customers", "orders", "invoices", "payments", "employees", "products", "shipments", "tickets")
    attrs = ("name", "phone", "due date", "priority", "country code", "quantity")
    out: dict[str, None] = {}
    while len(out) < count:
        text = rng.choice(_ASKS).format(e=rng.choice(entities), a=rng.choice(attrs), area=rng.choice(areas))
        out[f"{text} ({len(out)})"] = None
    return list(out)


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p99 in milliseconds."""
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p99 * 1000


def noisy(matrix: Vector, rng: np.random.Generator, scale: float = 0.15) -> Vector:
    """A perturbed, renormalised copy of ``matrix``."""
    out = matrix + rng.standard_normal(matrix.shape).astype(np.float32) * scale / np.sqrt(matrix.shape[1])
    return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


def fill(store: VectorStore, names: list[str], base: Vector) -> None:
    """90 namespaces of 1,000 tables and one of 10,000, all noisy copies of ``base``."""
    rng = np.random.default_rng(11)
    for n in range(SMALL_NAMESPACES):
        matrix = base if n == 0 else noisy(base, rng)
        store.upsert_tables(f"tenant{n}/db", [TableVector(name, "", matrix[i]) for i, name in enumerate(names)])
    for copy in range(LARGE_SIZE // SMALL_SIZE):
        matrix = noisy(base, rng)
        store.upsert_tables("big/db", [TableVector(f"{name}_{copy}", "", matrix[i]) for i, name in enumerate(names)])


def time_calls(call: Callable[[], object], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def searcher(store: VectorStore, namespace: str, probes: Vector) -> Callable[[], object]:
    """A call that searches ``namespace`` for the next of ``probes`` (cycling)."""
    cycle = itertools.cycle(list(probes))
    return lambda: store.search_tables(namespace, next(cycle), 5)


async def time_retrievals(retrievers: Iterable[Retriever], ref: SourceRef, tables: list[StoredTable],
                          joins: list[JoinEdge], texts: list[str]) -> list[float]:
    """Seconds of each retrieval of ``texts``, each text by the next of ``retrievers``."""
    samples = []
    for retriever, text in zip(retrievers, texts, strict=False):
        started = time.perf_counter()
        await retriever.retrieve(ref, text, tables, joins)
        samples.append(time.perf_counter() - started)
    return samples


def source(namespace: str) -> SourceRef:
    tenant, source_id = namespace.split("/")
    dsn = parse_dsn("sqlite:///bench.db")
    return SourceRef(pk=1, tenant=tenant, source_id=source_id, dialect=dsn.dialect, dsn=dsn)


def row(label: str, samples: list[float]) -> None:
    p50, p99 = percentiles(samples)
    print(f"  {label:58s} {p50:8.2f} {p99:8.2f}")


async def main() -> None:
    embedder = Embedder.shared()
    embedder.load()
    tables, joins = synthetic_schema(SMALL_SIZE)
    trained = [dataclasses.replace(t, trained_fingerprint=t.fingerprint) for t in tables]
    big = [dataclasses.replace(t, structure=dataclasses.replace(t.structure, name=f"{t.structure.name}_{copy}"))
           for copy in range(LARGE_SIZE // SMALL_SIZE) for t in trained]
    started = time.perf_counter()
    base = np.stack([v.vector for v in table_vectors(embedder, trained, joins)])
    print(f"embedded {SMALL_SIZE} table documents in {time.perf_counter() - started:.1f} s; "
          f"store: {SMALL_NAMESPACES} x {SMALL_SIZE} + 1 x {LARGE_SIZE} = "
          f"{SMALL_NAMESPACES * SMALL_SIZE + LARGE_SIZE:,} vectors\n")
    names = [t.structure.name for t in tables]
    asked = questions(QUESTIONS)
    probes = embedder.encode(asked[:SEARCHES])
    print(f"  {'p50 / p99 in ms':58s} {'p50':>8s} {'p99':>8s}")
    with tempfile.TemporaryDirectory() as tmp:
        stores: dict[str, VectorStore] = {}
        for index_type in INDEX_TYPES:
            store = VectorStore(str(Path(tmp) / f"{index_type}.db"), dim=embedder.dim,
                                collection_prefix=f"bench_{index_type.lower()}", index_type=index_type)
            began = time.perf_counter()
            fill(store, names, base)
            insert_s = time.perf_counter() - began
            row(f"Milvus search, 1k namespace, {index_type} (insert {insert_s:.0f} s)",
                time_calls(searcher(store, "tenant0/db", probes), SEARCHES))
            row(f"Milvus search, 10k namespace, {index_type}", time_calls(searcher(store, "big/db", probes), SEARCHES))
            stores[index_type] = store
        store = stores["FLAT"]  # the default index on Milvus Lite
        fresh = iter(questions(QUESTIONS, seed=99))
        row("question embedding (uncached)", time_calls(lambda: embedder.encode_query(next(fresh)), QUESTIONS))

        local = Retriever(embedder, store)
        remote = Retriever(embedder, store, RetrievalSettings(local_index=False))
        ref, big_ref = source("tenant0/db"), source("big/db")
        for text in asked:
            embedder.encode_query(text)
        for label, namespace_ref, namespace_tables, namespace_joins in (
                ("1k", ref, trained, joins), ("10k", big_ref, big, [])):
            cold = await time_retrievals([Retriever(embedder, store) for _ in range(5)], namespace_ref,
                                         namespace_tables, namespace_joins, asked[:5])
            row(f"first question of a {label} namespace (loads the local index)", cold)
            for retriever, how in ((local, "in-process index"), (remote, "Milvus search")):
                await retriever.retrieve(namespace_ref, asked[0], namespace_tables, namespace_joins)
                warm = await time_retrievals(itertools.repeat(retriever), namespace_ref, namespace_tables,
                                             namespace_joins, asked)
                row(f"warm retrieval beyond the embedding, {label}, {how}", warm)
        new = questions(QUESTIONS, seed=123)
        full = await time_retrievals(itertools.repeat(local), ref, trained, joins, new)
        row("full retrieval of a new question (embed + search + context)", full)
        concurrent = questions(QUESTIONS, seed=321)
        began = time.perf_counter()
        timed = await asyncio.gather(*(time_retrievals(itertools.repeat(local), ref, trained, joins, concurrent[i::8])
                                       for i in range(8)))
        elapsed = time.perf_counter() - began
        row(f"full retrieval, 8 in flight ({len(concurrent) / elapsed:.0f} questions/s)",
            [sample for samples in timed for sample in samples])
        for s in stores.values():
            s.close()


if __name__ == "__main__":
    asyncio.run(main())
