"""Prometheus metrics of the embedding model: how many texts each forward pass carries.

Questions of concurrent asks are batched together (:class:`chatdb_server.retrieval.embeddings.Embedder`),
so the question histogram shows whether that batching happens under load; documents come in the
batches a training job or an example write hands over.
"""

from __future__ import annotations

from prometheus_client import Histogram

EMBEDDING_BATCH_SIZE = Histogram(
    "chatdb_embedding_batch_size", "Texts per call of the embedding model, by kind: questions or documents.",
    ["kind"], buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096))
QUESTIONS = "questions"
DOCUMENTS = "documents"


def embedded(kind: str, count: int) -> None:
    """Record one call of the model on ``count`` texts of ``kind``."""
    EMBEDDING_BATCH_SIZE.labels(kind=kind).observe(count)
