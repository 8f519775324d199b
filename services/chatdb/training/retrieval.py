"""Retrieval for one question: the relevant tables of a source, the tables needed to join them,
the most similar golden examples, and the schema context a SQL generator reads.

Milvus is the store of record. Hot namespaces are answered from an in-process copy of their
vectors (an exact cosine over one namespace costs microseconds where a Milvus Lite filtered
search costs milliseconds). The copy is keyed by the trained tables the caller passes (their
names and trained fingerprints, from the metadata store) and by this process's own writes,
and expires after ``index_ttl_s`` so retraining in another process is picked up.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from chatdb.errors import FailedPrecondition, InvalidArgument
from chatdb.prediction.domain import ColumnInfo, JoinInfo, SchemaContext, TableInfo
from chatdb.schema.model import JoinEdgeStructure, SourceRef, StoredTable
from chatdb.training.embeddings import Embedder, Vector
from chatdb.training.join_paths import bridge_tables, join_graph
from chatdb.training.vectors import ExampleHit, VectorStore
from chatdb.training.words import content_words, identifier_words

SEARCH = "SEARCH"
JOIN_NEIGHBOR = "JOIN_NEIGHBOR"


@dataclass(frozen=True)
class ScoredTable:
    """A retrieved table: found by similarity (``SEARCH``) or needed to join hits (``JOIN_NEIGHBOR``)."""

    table: StoredTable
    score: float
    reason: str

    @property
    def name(self) -> str:
        """The table's name as in the database."""
        return self.table.structure.name


@dataclass(frozen=True)
class Retrieval:
    """What a question needs: tables best first (hits, then join neighbours), examples, and the context."""

    tables: list[ScoredTable]
    examples: list[ExampleHit]
    context: SchemaContext
    embed_seconds: float = 0.0
    search_seconds: float = 0.0

    @property
    def table_names(self) -> list[str]:
        """Names of :attr:`tables`, in order."""
        return [t.name for t in self.tables]


@dataclass
class _TableIndex:
    """One namespace's trained table vectors, with the words of each table for lexical matching."""

    key: tuple[int, tuple[tuple[str, str], ...]]
    names: list[str]
    matrix: Vector
    name_words: list[set[str]]
    column_words: list[set[str]]
    loaded_at: float


@dataclass
class _ExampleIndex:
    generation: int
    examples: list[ExampleHit]
    matrix: Vector
    loaded_at: float


@dataclass
class RetrievalSettings:
    """Tuning of :class:`Retriever`; defaults are what measured best on Spider dev."""

    lexical_weight: float = 0.2
    """Weight of lexical overlap (question words found in table and column names) added to the cosine."""
    max_bridge_hops: int = 3
    local_index: bool = True
    """Answer from in-process copies of hot namespaces; False searches Milvus every time."""
    index_ttl_s: float = 60.0
    example_ttl_s: float = 5.0
    max_cached_namespaces: int = 64
    column_sample_values: int = 5


class Retriever:
    """Finds what a question needs in one source's trained tables and examples."""

    def __init__(self, embedder: Embedder, vectors: VectorStore, settings: RetrievalSettings | None = None) -> None:
        self.embedder = embedder
        self.vectors = vectors
        self.settings = settings or RetrievalSettings()
        self._tables: OrderedDict[str, _TableIndex] = OrderedDict()
        self._examples: OrderedDict[str, _ExampleIndex] = OrderedDict()

    async def retrieve(self, source: SourceRef, question: str, tables: list[StoredTable],
                       joins: list[JoinEdgeStructure], k: int = 5, example_k: int = 3) -> Retrieval:
        """The top ``k`` tables for ``question`` among ``tables`` (the source's tables; only trained
        ones are searched), the bridges needed to join them, and the ``example_k`` closest examples."""
        if not question.strip():
            raise InvalidArgument("question", "must not be empty")
        if k < 1:
            raise InvalidArgument("k", "must be at least 1")
        trained = {t.structure.name: t for t in tables if t.trained_fingerprint is not None}
        if not trained:
            raise FailedPrecondition(f"data source {source.source_id!r} has no trained tables; create a training job",
                                     "NOT_TRAINED", {"source": source.name})
        started = time.perf_counter()
        query = await self.embedder.aencode_query(question)
        embedded = time.perf_counter()
        namespace = source.namespace
        scores = await self._table_scores(namespace, question, query, trained, k)
        hits = sorted(scores, key=lambda name: -scores[name])[:k]
        graph = join_graph(joins, set(trained))
        bridges = bridge_tables(hits, graph, self.settings.max_bridge_hops)
        found = [ScoredTable(trained[n], scores[n], SEARCH) for n in hits]
        found += [ScoredTable(trained[n], scores.get(n, 0.0), JOIN_NEIGHBOR) for n in bridges]
        examples = await self._similar_examples(namespace, query, example_k) if example_k > 0 else []
        finished = time.perf_counter()
        return Retrieval(found, examples, schema_context(found, joins, self.settings.column_sample_values),
                         embed_seconds=embedded - started, search_seconds=finished - embedded)

    def forget(self, namespace: str) -> None:
        """Drop the in-process copies of ``namespace`` (e.g. after its source was deleted)."""
        self._tables.pop(namespace, None)
        self._examples.pop(namespace, None)

    # -- tables --------------------------------------------------------------------------------

    async def _table_scores(self, namespace: str, question: str, query: Vector,
                            trained: dict[str, StoredTable], k: int) -> dict[str, float]:
        """Ranking score of each candidate table: cosine plus the lexical bonus."""
        if not self.settings.local_index:
            return await self._milvus_scores(namespace, question, query, trained, k)
        index = await self._table_index(namespace, trained)
        cosine = index.matrix @ query
        bonus = self._lexical_bonus(question, index.name_words, index.column_words)
        combined = cosine + bonus
        return {name: float(score) for name, score in zip(index.names, combined, strict=True)}

    async def _milvus_scores(self, namespace: str, question: str, query: Vector,
                             trained: dict[str, StoredTable], k: int) -> dict[str, float]:
        """Scores from a Milvus search; over-fetches so lexical re-ranking and untrained rows cannot starve k."""
        hits = await asyncio.to_thread(self.vectors.search_tables, namespace, query, max(3 * k, k + 10))
        hits = [(name, score) for name, score in hits if name in trained]
        names = [name for name, _ in hits]
        name_words, column_words = _table_words([trained[n] for n in names])
        bonus = self._lexical_bonus(question, name_words, column_words)
        return {name: score + float(b) for (name, score), b in zip(hits, bonus, strict=True)}

    def _lexical_bonus(self, question: str, name_words: list[set[str]],
                       column_words: list[set[str]]) -> np.ndarray:
        weight = self.settings.lexical_weight
        if weight == 0 or not name_words:
            return np.zeros(len(name_words), dtype=np.float32)
        asked = content_words(question)
        if not asked:
            return np.zeros(len(name_words), dtype=np.float32)
        bonus = np.fromiter(
            ((2 * len(asked & names) + len(asked & columns)) / (2 * len(asked))
             for names, columns in zip(name_words, column_words, strict=True)),
            dtype=np.float32, count=len(name_words))
        return weight * bonus

    async def _table_index(self, namespace: str, trained: dict[str, StoredTable]) -> _TableIndex:
        key = (self.vectors.generation(namespace),
               tuple(sorted((name, t.trained_fingerprint or "") for name, t in trained.items())))
        index = self._tables.get(namespace)
        now = time.monotonic()
        if index is not None and index.key == key and now - index.loaded_at < self.settings.index_ttl_s:
            self._tables.move_to_end(namespace)
            return index
        names, matrix = await asyncio.to_thread(self.vectors.table_vectors, namespace)
        keep = [i for i, name in enumerate(names) if name in trained]
        kept_names = [names[i] for i in keep]
        name_words, column_words = _table_words([trained[n] for n in kept_names])
        index = _TableIndex(key, kept_names, np.ascontiguousarray(matrix[keep]), name_words, column_words, now)
        self._tables[namespace] = index
        self._tables.move_to_end(namespace)
        while len(self._tables) > self.settings.max_cached_namespaces:
            self._tables.popitem(last=False)
        return index

    # -- examples ------------------------------------------------------------------------------

    async def _similar_examples(self, namespace: str, query: Vector, k: int) -> list[ExampleHit]:
        if not self.settings.local_index:
            return await asyncio.to_thread(self.vectors.search_examples, namespace, query, k)
        index = await self._example_index(namespace)
        if not index.examples:
            return []
        scores = index.matrix @ query
        order = np.argsort(-scores, kind="stable")[:k]
        return [ExampleHit(index.examples[i].example_id, index.examples[i].question, index.examples[i].sql,
                           float(scores[i])) for i in order]

    async def _example_index(self, namespace: str) -> _ExampleIndex:
        generation = self.vectors.generation(namespace)
        index = self._examples.get(namespace)
        now = time.monotonic()
        if index is not None and index.generation == generation and now - index.loaded_at < self.settings.example_ttl_s:
            self._examples.move_to_end(namespace)
            return index
        examples, matrix = await asyncio.to_thread(self.vectors.examples, namespace)
        index = _ExampleIndex(generation, examples, matrix, now)
        self._examples[namespace] = index
        self._examples.move_to_end(namespace)
        while len(self._examples) > self.settings.max_cached_namespaces:
            self._examples.popitem(last=False)
        return index


def _table_words(tables: Sequence[StoredTable]) -> tuple[list[set[str]], list[set[str]]]:
    """Per table: the content words of its name, and of its column names."""
    name_words = [content_words(" ".join(identifier_words(t.structure.name))) for t in tables]
    column_words = [content_words(" ".join(w for c in t.structure.columns for w in identifier_words(c.name)))
                    for t in tables]
    return name_words, column_words


def schema_context(found: Sequence[ScoredTable], joins: Sequence[JoinEdgeStructure],
                   sample_values: int = 5) -> SchemaContext:
    """The generator's view of the retrieved tables (in order) and the joins among them."""
    infos = []
    for scored in found:
        structure = scored.table.structure
        columns = tuple(
            ColumnInfo(name=c.name, data_type=c.data_type,
                       primary_key=c.primary_key or c.name in structure.primary_key, comment=c.comment,
                       sample_values=tuple(structure.sample_values.get(c.name, ()))[:sample_values])
            for c in structure.columns)
        description = scored.table.description or structure.comment
        infos.append(TableInfo(name=structure.name, columns=columns, description=description, score=scored.score))
    included = {t.name for t in infos}
    seen: set[tuple[str, tuple[str, ...], str, tuple[str, ...]]] = set()
    edges = []
    for edge in joins:
        ident = (edge.from_table, edge.from_columns, edge.to_table, edge.to_columns)
        if edge.from_table in included and edge.to_table in included and ident not in seen:
            seen.add(ident)
            edges.append(JoinInfo(edge.from_table, edge.from_columns, edge.to_table, edge.to_columns,
                                  inferred=edge.inferred, confidence=edge.confidence))
    return SchemaContext(tables=tuple(infos), joins=tuple(edges))
