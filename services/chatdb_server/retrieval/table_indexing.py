"""Turning stored tables into stored vectors: document, batched embedding, upsert.

The VECTORIZE stage of a training job calls :func:`index_tables` batch by batch (a batch is
the natural safe point for cancellation); the benchmarks call it to measure throughput.
"""

from __future__ import annotations

from collections.abc import Sequence

from chatdb_server.access.exclusions import NO_EXCLUSIONS, Exclusions
from chatdb_server.retrieval.documents import DEFAULT_OPTIONS, DocumentOptions, stored_table_document
from chatdb_server.retrieval.embeddings import Embedder
from chatdb_server.retrieval.vectors import TableVector, VectorStore
from chatdb_server.sql.structure import JoinEdge, StoredTable


def table_vectors(embedder: Embedder, tables: Sequence[StoredTable], joins: Sequence[JoinEdge],
                  options: DocumentOptions = DEFAULT_OPTIONS,
                  exclusions: Exclusions = NO_EXCLUSIONS) -> list[TableVector]:
    """One document and vector per table (embedded in one batched call), tagged with its fingerprint;
    excluded columns are in no document."""
    edges = list(joins)
    texts = [stored_table_document(t, edges, exclusions, options) for t in tables]
    matrix = embedder.encode(texts)
    return [TableVector(t.structure.name, text, matrix[i], t.fingerprint)
            for i, (t, text) in enumerate(zip(tables, texts, strict=True))]


def index_tables(embedder: Embedder, vectors: VectorStore, namespace: str, tables: Sequence[StoredTable],
                 joins: Sequence[JoinEdge], batch_size: int = 256,
                 options: DocumentOptions = DEFAULT_OPTIONS, exclusions: Exclusions = NO_EXCLUSIONS) -> int:
    """Embed and upsert ``tables`` into ``namespace`` in batches; returns how many were stored.

    Idempotent: ids are deterministic, so running it again (after a crash, or to retrain)
    replaces vectors and never duplicates them.
    """
    stored = 0
    for start in range(0, len(tables), batch_size):
        batch = table_vectors(embedder, tables[start:start + batch_size], joins, options, exclusions)
        stored += vectors.upsert_tables(namespace, batch, flush=False)
    vectors.flush()
    return stored
