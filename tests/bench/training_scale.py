"""Vectorisation throughput and peak memory for synthetic schemas of 1,000 and 10,000 tables.

Each size runs in a fresh process (so peak RSS is that run's): build one document per table,
embed them in batches of 256 with the real model, upsert each batch into a fresh Milvus Lite
file and flush once at the end. Throughput is tables per second over the three stages; peak
memory is tracemalloc's peak of Python allocations (documents and upsert) and the process's
maximum resident set size (model, torch and Milvus Lite included).
The full job (``--job N``, in a fresh process too) trains a real SQLite database of N generated
tables through TrainingService: the job store, its stages and heartbeats, the catalog's stored
tables and the trained marks, Milvus Lite. Its floor is measured in the same process, just
before and just after the job (the mean of the two): the bare embedding of the very documents
the job writes, one ``Embedder.encode`` call. The ratio of the two is what the job costs beyond
embedding, and compares across machines.
Run: ``python tests/bench/training_scale.py`` (``--tables N`` or ``--job N`` for one run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from chatdb_server.retrieval.documents import stored_table_document, table_document
from chatdb_server.retrieval.embeddings import Embedder, Vector
from chatdb_server.retrieval.vectors import TableVector, VectorStore
from chatdb_server.schema.catalog import SchemaCatalog
from chatdb_server.sql.structure import (
    ColumnStructure,
    ForeignKeyStructure,
    JoinEdge,
    SourceRef,
    StoredTable,
    TableStructure,
)

SIZES = (1_000, 10_000)
BATCH = 256
JOB_TABLES = 1_000

_AREAS = ("sales", "billing", "hr", "inventory", "shipping", "support", "marketing", "finance", "crm", "audit")
_ENTITIES = ("customer", "order", "invoice", "payment", "employee", "product", "shipment", "ticket", "campaign",
             "account", "vendor", "contract", "warehouse", "refund", "lead", "budget", "asset", "visit")
_ATTRIBUTES = (("name", "VARCHAR(120)"), ("status", "VARCHAR(20)"), ("created_at", "TIMESTAMP"),
               ("amount", "DECIMAL(12,2)"), ("quantity", "INTEGER"), ("email", "VARCHAR(200)"),
               ("country_code", "CHAR(2)"), ("due_date", "DATE"), ("notes", "TEXT"), ("priority", "SMALLINT"),
               ("is_active", "BOOLEAN"), ("score", "DOUBLE"), ("city", "VARCHAR(80)"), ("phone", "VARCHAR(40)"))
_VALUES: dict[str, tuple[str, ...]] = {"status": ("open", "closed", "pending"), "city": ("Lyon", "Porto", "Osaka"),
           "country_code": ("FR", "PT", "JP")}


def synthetic_schema(count: int, seed: int = 7) -> tuple[list[StoredTable], list[JoinEdge]]:
    """``count`` plausible tables (5 to 14 columns, a foreign key or two to earlier tables) and their joins."""
    rng = random.Random(seed)
    tables: list[StoredTable] = []
    joins: list[JoinEdge] = []
    for i in range(count):
        name = f"{rng.choice(_AREAS)}_{rng.choice(_ENTITIES)}_{i}"
        columns = [ColumnStructure("id", "BIGINT", "INTEGER", nullable=False, primary_key=True)]
        columns += [ColumnStructure(a, t) for a, t in rng.sample(_ATTRIBUTES, rng.randint(4, 11))]
        fks = []
        for target in rng.sample(range(i), min(i, rng.randint(0, 2))):
            referred = tables[target].structure.name
            column = f"{referred.split('_', 1)[1]}_id"
            columns.append(ColumnStructure(column, "BIGINT", "INTEGER"))
            fks.append(ForeignKeyStructure((column,), referred, ("id",)))
            joins.append(JoinEdge(name, (column,), referred, ("id",), inferred=False, confidence=1.0))
        samples = {c.name: _VALUES[c.name] for c in columns if c.name in _VALUES}
        structure = TableStructure(name=name, columns=tuple(columns), primary_key=("id",), foreign_keys=tuple(fks),
                                   sample_values=samples, row_estimate=rng.randint(0, 10**6))
        tables.append(StoredTable(structure, "", f"fp{i}", None))
    return tables, joins


def run_one(count: int) -> dict[str, float]:
    """Vectorise ``count`` synthetic tables; stage timings and memory."""
    tables, joins = synthetic_schema(count)
    embedder = Embedder.shared()
    embedder.load()
    embedder.encode(["warm up"])
    by_table: dict[str, list[JoinEdge]] = {}
    for edge in joins:
        by_table.setdefault(edge.from_table, []).append(edge)
        by_table.setdefault(edge.to_table, []).append(edge)

    def documents(batch: list[StoredTable]) -> list[str]:
        return [table_document(t.structure, by_table.get(t.structure.name, []), t.description) for t in batch]

    def upsert(store: VectorStore, namespace: str, batch: list[StoredTable], texts: list[str], matrix: Vector) -> None:
        store.upsert_tables(namespace, [TableVector(t.structure.name, text, matrix[i], t.fingerprint)
                                        for i, (t, text) in enumerate(zip(batch, texts, strict=True))], flush=False)

    with tempfile.TemporaryDirectory() as tmp:
        store = VectorStore(str(Path(tmp) / "scale.db"), dim=embedder.dim)
        stages = {"documents": 0.0, "embedding": 0.0, "upsert": 0.0}
        matrices = []
        started = time.perf_counter()
        for start in range(0, count, BATCH):
            batch = tables[start:start + BATCH]
            t0 = time.perf_counter()
            texts = documents(batch)
            t1 = time.perf_counter()
            matrix = embedder.encode(texts)
            t2 = time.perf_counter()
            upsert(store, "bench/timed", batch, texts, matrix)
            t3 = time.perf_counter()
            stages["documents"] += t1 - t0
            stages["embedding"] += t2 - t1
            stages["upsert"] += t3 - t2
            matrices.append(matrix)
        t0 = time.perf_counter()
        store.flush()
        stages["upsert"] += time.perf_counter() - t0
        total = time.perf_counter() - started

        # tracemalloc slows every Python allocation (Milvus Lite's server thread included), so the
        # Python-heap peak comes from a second, traced pass of documents and upsert with the same
        # vectors; torch's tensors live outside the Python heap and show in max RSS instead.
        tracemalloc.start()
        for batch_number, start in enumerate(range(0, count, BATCH)):
            batch = tables[start:start + BATCH]
            upsert(store, "bench/traced", batch, documents(batch), matrices[batch_number])
        store.flush()
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        stored = store.count_tables("bench/timed")
        store.close()
    return {"tables": count, "stored": stored, "seconds": total, "tables_per_s": count / total,
            **{f"{k}_s": v for k, v in stages.items()},
            "traced_peak_mb": traced_peak / 2**20,
            "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def write_sqlite(path: Path, tables: list[StoredTable]) -> Path:
    """The synthetic schema as a real SQLite database (declared keys included, no rows)."""
    with sqlite3.connect(path) as conn:
        for table in tables:
            s = table.structure
            columns = [f"{c.name} {c.data_type}{' PRIMARY KEY' if c.primary_key else ''}" for c in s.columns]
            columns += [f"FOREIGN KEY ({', '.join(fk.columns)}) REFERENCES {fk.referred_table} "
                        f"({', '.join(fk.referred_columns)})" for fk in s.foreign_keys]
            conn.execute(f"CREATE TABLE {s.name} ({', '.join(columns)})")
    return path


async def run_job(count: int) -> dict[str, float]:
    """Train a ``count``-table SQLite source through TrainingService, then embed its documents bare."""
    from chatdb_server.training.job_model import JobState, JobType
    from chatdb_server.training.worker import WorkerOptions
    from tests.unit.training.job_fixtures import open_stack, register_sqlite

    embedder = Embedder.shared()
    embedder.load()
    embedder.encode(["warm up"])
    with tempfile.TemporaryDirectory() as tmp:
        database = write_sqlite(Path(tmp) / "wide.db", synthetic_schema(count)[0])
        stack = await open_stack(Path(tmp) / "chatdb", worker=WorkerOptions(), embedder=embedder)
        try:
            t0 = time.perf_counter()
            source = await register_sqlite(stack.catalog, "bench", "wide", database)
            registered = time.perf_counter() - t0
            documents = await _documents(stack.catalog, source)
            floors = [_seconds(embedder.encode, documents)]
            started = time.perf_counter()
            await stack.service.create_job("bench", source.name, [], JobType.SCHEMA)
            [job] = await stack.service.worker.run_until_idle()
            job_s = time.perf_counter() - started
            assert job.state is JobState.SUCCEEDED, job.error_message
            stored = stack.vectors.count_tables(source.namespace)
            assert stored == count, stored
            floors.append(_seconds(embedder.encode, documents))
        finally:
            await stack.close()
    floor_s = sum(floors) / len(floors)
    return {"tables": count, "stored": stored, "register_s": registered, "job_s": job_s,
            "job_tables_per_s": count / job_s, "floor_s": floor_s, "floor_tables_per_s": count / floor_s}


async def _documents(catalog: SchemaCatalog, source: SourceRef) -> list[str]:
    """The documents a SCHEMA job writes for every table of ``source``."""
    joins = await catalog.join_edges(source)
    exclusions = await catalog.exclusions(source)
    return [stored_table_document(t, joins, exclusions) for t in await catalog.stored_tables(source)]


def _seconds(call: Callable[[list[str]], object], texts: list[str]) -> float:
    started = time.perf_counter()
    call(texts)
    return time.perf_counter() - started


def _child(flag: str, count: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, flag, str(count)], capture_output=True, text=True, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tables", type=int, help="run one size in this process and print JSON")
    parser.add_argument("--job", type=int, help="run the full job on this many tables and print JSON")
    args = parser.parse_args()
    if args.tables:
        print(json.dumps(run_one(args.tables)))
        return
    if args.job:
        print(json.dumps(asyncio.run(run_job(args.job))))
        return
    print(f"vectorising synthetic schemas (batches of {BATCH}; documents → embedding → Milvus Lite upsert)\n")
    header = (f"{'tables':>7s} {'stored':>7s} {'total s':>8s} {'tables/s':>9s} | {'docs s':>7s} {'embed s':>8s} "
              f"{'upsert s':>8s} | {'py peak MB':>10s} {'max RSS MB':>10s}")
    print(header)
    print("-" * len(header))
    for count in SIZES:
        r = _child("--tables", count)
        print(f"{r['tables']:7d} {r['stored']:7d} {r['seconds']:8.1f} {r['tables_per_s']:9.1f} | "
              f"{r['documents_s']:7.2f} {r['embedding_s']:8.1f} {r['upsert_s']:8.2f} | "
              f"{r['traced_peak_mb']:10.1f} {r['max_rss_mb']:10.0f}")
    print(f"\nthe full SCHEMA job on a {JOB_TABLES:,}-table SQLite source (TrainingService: job store, stages, "
          "heartbeats, catalog, Milvus Lite)\nbeside its floor, the bare embedding of the same documents\n")
    header = (f"{'tables':>7s} {'stored':>7s} {'job s':>7s} {'job t/s':>8s} | {'floor s':>7s} {'floor t/s':>9s} | "
              f"{'ratio':>5s}")
    print(header)
    print("-" * len(header))
    r = _child("--job", JOB_TABLES)
    ratio = r["job_tables_per_s"] / r["floor_tables_per_s"]
    print(f"{r['tables']:7d} {r['stored']:7d} {r['job_s']:7.1f} {r['job_tables_per_s']:8.1f} | "
          f"{r['floor_s']:7.1f} {r['floor_tables_per_s']:9.1f} | {ratio:5.2f}")


if __name__ == "__main__":
    main()
