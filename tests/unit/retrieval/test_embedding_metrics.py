"""Every call of the embedding model is observed in the batch-size histogram, by kind: documents as handed
over, questions as the batcher groups them (a cached question costs no call)."""

from __future__ import annotations

import uuid

from prometheus_client import REGISTRY

from chatdb_server.retrieval.embeddings import Embedder


def observed(kind: str) -> tuple[float, float]:
    """(calls, texts) observed so far for ``kind``."""
    labels = {"kind": kind}
    return (REGISTRY.get_sample_value("chatdb_embedding_batch_size_count", labels) or 0.0,
            REGISTRY.get_sample_value("chatdb_embedding_batch_size_sum", labels) or 0.0)


async def test_document_and_question_batches_are_observed_by_kind() -> None:
    embedder = Embedder.shared()
    documents, questions = observed("documents"), observed("questions")
    embedder.encode(["table customers: id, name, city", "table orders: id, customer_id", "table products: id"])
    question = f"how many orders came from city {uuid.uuid4().hex}?"
    await embedder.aencode_query(question)
    await embedder.aencode_query(question)  # answered from the question cache: no model call
    assert observed("documents") == (documents[0] + 1, documents[1] + 3)
    assert observed("questions") == (questions[0] + 1, questions[1] + 1)
