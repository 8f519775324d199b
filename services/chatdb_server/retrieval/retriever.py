"""Retrieval for one question: the relevant tables of a source, the tables needed to join them,
the most similar golden examples, and the schema context a SQL generator reads.

Milvus is the store of record. Hot namespaces are answered from an in-process copy of their
vectors (an exact cosine over one namespace costs microseconds where a Milvus Lite filtered
search costs milliseconds). The copy is keyed by the source's version the caller passes (its
generation in the metadata store, bumped in the transaction of every training commit, example
and refresh, by whichever process made it: ``chatdb_server.metadata.generations``), by the
trained tables the caller passes (names and trained fingerprints) and by this process's own
writes. A caller with a newer version gets a fresh copy on that very question, so what another
replica trained is searched as soon as its commit is read. ``index_ttl_s`` and ``example_ttl_s``
only bound how old a copy may grow (reloaded in the background, served meanwhile): a safety net
for writes to Milvus that bumped no version, and the refresh of callers that pass none.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from chatdb_server.errors import FailedPrecondition, InvalidArgument
from chatdb_server.log import get_logger
from chatdb_server.metadata.generations import SourceVersion
from chatdb_server.retrieval.context import ColumnInfo, SchemaContext, TableInfo
from chatdb_server.retrieval.embeddings import Embedder, Vector
from chatdb_server.retrieval.join_paths import bridge_tables, join_graph
from chatdb_server.retrieval.lexical import NameWords, lexical_bonus, name_words
from chatdb_server.retrieval.vectors import ExampleHit, VectorStore
from chatdb_server.sql.structure import JoinEdge, SourceRef, StoredTable

log = get_logger(__name__)

_T = TypeVar("_T")
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
    """One namespace's trained table vectors, with what scoring and joining need precomputed."""

    version: SourceVersion | None
    """The source's version the caller read before this copy was loaded: the copy is at least that new."""
    local_generation: int
    """This process's writes to the namespace when the copy was loaded (``VectorStore.generation``)."""
    signature: frozenset[tuple[str, str]]
    tables_ref: list[StoredTable]
    """The caller's list this index was built for: the same list object again skips recomputing the key."""
    trained: dict[str, StoredTable]
    names: list[str]
    rows: dict[str, int]
    matrix: Vector
    words: NameWords
    """The lexical bonus's lookups over the rows' table and column names."""
    loaded_at: float
    joins_ref: list[JoinEdge] | None = None
    graph: dict[str, set[str]] = field(default_factory=dict)


@dataclass
class _ExampleIndex:
    version: SourceVersion | None
    local_generation: int
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
    """After this, a namespace's copy is reloaded from Milvus in the background (served meanwhile); a safety
    net, since a newer source version reloads it at once."""
    example_ttl_s: float = 60.0
    """The same for a namespace's golden examples."""
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
        self._refreshing: set[asyncio.Task[None]] = set()

    async def retrieve(self, source: SourceRef, question: str, tables: list[StoredTable],
                       joins: list[JoinEdge], k: int = 5, example_k: int = 3,
                       version: SourceVersion | None = None) -> Retrieval:
        """The top ``k`` tables for ``question`` among ``tables`` (the source's tables; only trained
        ones are searched), the bridges needed to join them, and the ``example_k`` closest examples.

        ``version`` is the source's version read before ``tables`` (``SourceContext.version``): an
        in-process copy older than it is loaded again first. Passing the same ``tables`` and ``joins``
        list objects again (a cached source context) lets the in-process index skip re-checking them:
        a warm retrieval then costs microseconds.
        """
        if not question.strip():
            raise InvalidArgument("question", "must not be empty")
        if k < 1:
            raise InvalidArgument("k", "must be at least 1")
        namespace = source.namespace
        index = self._current_index(namespace, tables, version)
        if index is None and not any(t.trained_fingerprint is not None for t in tables):
            raise FailedPrecondition(f"data source {source.source_id!r} has no trained tables; create a training job",
                                     "NOT_TRAINED", {"source": source.name})
        started = time.perf_counter()
        example_index: _ExampleIndex | None = None
        if self.settings.local_index:
            example_index = self._current_examples(namespace, version) if example_k > 0 else None
            if index is not None and (example_index is not None or example_k == 0):
                query, embed_seconds = await self._embed(question)
                loaded = index
            else:
                # The copies that must be loaded first (a newer version, a cold namespace) are Milvus reads
                # of their own: they and the question's embedding proceed together.
                (query, embed_seconds), loaded, example_index = await asyncio.gather(
                    self._embed(question),
                    _now(index) if index is not None else self._load_index(namespace, tables, version),
                    _now(example_index) if example_index is not None or example_k == 0
                    else self._load_examples(namespace, version))
            hits, score_of = self._local_hits(loaded, question, query, k)
            trained, graph = loaded.trained, self._graph(loaded, joins)
        else:
            query, embed_seconds = await self._embed(question)
            trained = _trained(tables)
            hits, score_of = await self._milvus_hits(namespace, question, query, trained, k)
            graph = join_graph(joins, set(trained))
        if not hits:
            self._tables.pop(namespace, None)  # look again next time: training may be writing them now
            raise FailedPrecondition(
                f"data source {source.source_id!r} has trained tables but the vector store holds none of them; "
                "run a training job again", "NOT_TRAINED", {"source": source.name})
        bridges = bridge_tables([name for name, _ in hits], graph, self.settings.max_bridge_hops)
        found = [ScoredTable(trained[name], score, SEARCH) for name, score in hits]
        found += [ScoredTable(trained[name], score_of(name), JOIN_NEIGHBOR) for name in bridges]
        if example_index is not None:
            examples = _closest(example_index, query, example_k)
        elif example_k > 0:
            examples = await asyncio.to_thread(self.vectors.search_examples, namespace, query, example_k)
        else:
            examples = []
        finished = time.perf_counter()
        return Retrieval(found, examples, schema_context(found, joins, self.settings.column_sample_values),
                         embed_seconds=embed_seconds, search_seconds=finished - started - embed_seconds)

    async def similarities(self, source: SourceRef, text: str, tables: list[StoredTable],
                           version: SourceVersion | None = None) -> dict[str, float]:
        """The cosine similarity of ``text`` to the document of every trained table of ``tables`` that the
        vector store holds (no lexical bonus: a caller that scores names decides which names it may see).

        FailedPrecondition (NOT_TRAINED) as in :meth:`retrieve`."""
        if not text.strip():
            raise InvalidArgument("query", "must not be empty")
        trained = _trained(tables)
        index = self._current_index(source.namespace, tables, version)
        if index is None and not trained:
            raise FailedPrecondition(f"data source {source.source_id!r} has no trained tables; create a training job",
                                     "NOT_TRAINED", {"source": source.name})
        if self.settings.local_index:
            (query, _), loaded = await asyncio.gather(
                self._embed(text), _now(index) if index is not None else self._load_index(source.namespace, tables,
                                                                                           version))
            found = dict(zip(loaded.names, (float(s) for s in loaded.matrix @ query), strict=True))
        else:
            query, _ = await self._embed(text)
            hits = await asyncio.to_thread(self.vectors.search_tables, source.namespace, query, len(trained))
            found = {name: score for name, score in hits if name in trained}
        if not found:
            self._tables.pop(source.namespace, None)  # look again next time: training may be writing them now
            raise FailedPrecondition(
                f"data source {source.source_id!r} has trained tables but the vector store holds none of them; "
                "run a training job again", "NOT_TRAINED", {"source": source.name})
        return found

    async def question_similarity(self, question: str, other: str) -> float:
        """The cosine similarity of two questions, embedded as questions are (cached like them)."""
        first, second = await asyncio.gather(self.embedder.aencode_query(question), self.embedder.aencode_query(other))
        return float(first @ second)

    async def preload(self, source: SourceRef, tables: list[StoredTable], version: SourceVersion | None = None) -> int:
        """Load ``source``'s vectors into the in-process index now (at start, or after training),
        so its first question does not pay for it; returns how many tables are indexed."""
        index = (self._current_index(source.namespace, tables, version)
                 or await self._load_index(source.namespace, tables, version))
        return len(index.names)

    async def _embed(self, question: str) -> tuple[Vector, float]:
        """The question's vector and the seconds it took."""
        started = time.perf_counter()
        query = await self.embedder.aencode_query(question)
        return query, time.perf_counter() - started

    def forget(self, namespace: str) -> None:
        """Drop the in-process copies of ``namespace`` (e.g. after its source was deleted)."""
        self._tables.pop(namespace, None)
        self._examples.pop(namespace, None)

    # -- tables: in-process index --------------------------------------------------------------

    def _local_hits(self, index: _TableIndex, question: str, query: Vector,
                    k: int) -> tuple[list[tuple[str, float]], Callable[[str], float]]:
        """Top ``k`` (name, score) by cosine plus lexical bonus, and the score of any indexed table."""
        if not index.names:
            return [], lambda _: 0.0
        scores = index.matrix @ query + lexical_bonus(question, index.words, self.settings.lexical_weight)
        top = min(k, len(index.names))
        best = np.argpartition(-scores, top - 1)[:top] if top < len(index.names) else np.arange(top)
        best = best[np.lexsort((best, -scores[best]))]
        hits = [(index.names[i], float(scores[i])) for i in best]
        return hits, lambda name: float(scores[index.rows[name]]) if name in index.rows else 0.0

    def _current_index(self, namespace: str, tables: list[StoredTable],
                       version: SourceVersion | None) -> _TableIndex | None:
        """The cached index of ``namespace`` if it is as new as ``version`` and still matches ``tables`` and
        this process's writes."""
        if not self.settings.local_index:
            return None
        index = self._tables.get(namespace)
        if index is None or not _covers(index.version, version):
            return None
        if index.local_generation != self.vectors.generation(namespace):
            return None
        if index.tables_ref is not tables:
            if index.signature != _signature(tables):
                return None
            index.tables_ref = tables
        self._tables.move_to_end(namespace)
        if time.monotonic() - index.loaded_at >= self.settings.index_ttl_s:
            index.loaded_at = time.monotonic()  # one refresh at a time; served from the copy meanwhile
            self._spawn(self._load_index(namespace, tables, index.version))
        return index

    async def _load_index(self, namespace: str, tables: list[StoredTable],
                          version: SourceVersion | None) -> _TableIndex:
        local_generation = self.vectors.generation(namespace)
        trained = _trained(tables)
        names, matrix = await asyncio.to_thread(self.vectors.table_vectors, namespace)
        keep = [i for i, name in enumerate(names) if name in trained]
        kept = [names[i] for i in keep]
        index = _TableIndex(version=version, local_generation=local_generation, signature=_signature(tables),
                            tables_ref=tables, trained=trained, names=kept,
                            rows={name: row for row, name in enumerate(kept)},
                            matrix=np.ascontiguousarray(matrix[keep]),
                            words=_name_words([trained[n] for n in kept]), loaded_at=time.monotonic())
        held = self._tables.get(namespace)
        if held is not None and _newer(held.version, version):
            return index  # a load for a newer version finished first: keep that one, answer this caller from its own
        self._tables[namespace] = index
        self._tables.move_to_end(namespace)
        while len(self._tables) > self.settings.max_cached_namespaces:
            self._tables.popitem(last=False)
        return index

    @staticmethod
    def _graph(index: _TableIndex, joins: list[JoinEdge]) -> dict[str, set[str]]:
        """The join graph among the index's tables, rebuilt only when another joins list is passed."""
        if index.joins_ref is not joins:
            index.graph = join_graph(joins, set(index.trained))
            index.joins_ref = joins
        return index.graph

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception as exc:  # a failed background refresh keeps serving the current copy
                log.warning("retrieval_refresh_failed", error=str(exc))

        task = asyncio.get_running_loop().create_task(run())
        self._refreshing.add(task)
        task.add_done_callback(self._refreshing.discard)

    # -- tables: Milvus search -----------------------------------------------------------------

    async def _milvus_hits(self, namespace: str, question: str, query: Vector, trained: dict[str, StoredTable],
                           k: int) -> tuple[list[tuple[str, float]], Callable[[str], float]]:
        """Hits from a Milvus search; over-fetches so lexical re-ranking and untrained rows cannot starve k."""
        found = await asyncio.to_thread(self.vectors.search_tables, namespace, query, max(3 * k, k + 10))
        found = [(name, score) for name, score in found if name in trained]
        bonus = lexical_bonus(question, _name_words([trained[name] for name, _ in found], trained.keys()),
                              self.settings.lexical_weight)
        scores = {name: score + float(b) for (name, score), b in zip(found, bonus, strict=True)}
        hits = sorted(scores.items(), key=lambda item: -item[1])[:k]
        return hits, lambda name: scores.get(name, 0.0)

    # -- examples ------------------------------------------------------------------------------

    def _current_examples(self, namespace: str, version: SourceVersion | None) -> _ExampleIndex | None:
        """The cached examples of ``namespace`` if they are as new as ``version`` and this process's writes."""
        index = self._examples.get(namespace)
        if (index is None or not _covers(index.version, version)
                or index.local_generation != self.vectors.generation(namespace)):
            return None
        self._examples.move_to_end(namespace)
        if time.monotonic() - index.loaded_at >= self.settings.example_ttl_s:
            index.loaded_at = time.monotonic()
            self._spawn(self._load_examples(namespace, index.version))
        return index

    async def _load_examples(self, namespace: str, version: SourceVersion | None) -> _ExampleIndex:
        local_generation = self.vectors.generation(namespace)
        examples, matrix = await asyncio.to_thread(self.vectors.examples, namespace)
        index = _ExampleIndex(version, local_generation, examples, matrix, time.monotonic())
        held = self._examples.get(namespace)
        if held is not None and _newer(held.version, version):
            return index
        self._examples[namespace] = index
        self._examples.move_to_end(namespace)
        while len(self._examples) > self.settings.max_cached_namespaces:
            self._examples.popitem(last=False)
        return index


async def _now(value: _T) -> _T:
    """``value``, as an awaitable beside loads that do wait."""
    return value


def _closest(index: _ExampleIndex, query: Vector, k: int) -> list[ExampleHit]:
    """The ``k`` examples of ``index`` whose questions are closest to ``query``, best first."""
    if not index.examples:
        return []
    scores = index.matrix @ query
    order = np.argsort(-scores, kind="stable")[:k]
    return [dataclasses.replace(index.examples[i], score=float(scores[i])) for i in order]


def _covers(held: SourceVersion | None, wanted: SourceVersion | None) -> bool:
    """Whether a copy loaded at ``held`` may answer a caller that read ``wanted`` (None: a caller that does
    not say, served by any copy; a copy loaded without a version answers only such callers)."""
    if wanted is None:
        return True
    return held is not None and held.same_source(wanted) and held.generation >= wanted.generation


def _newer(held: SourceVersion | None, loaded: SourceVersion | None) -> bool:
    """Whether the copy held now is of a later version than one just ``loaded`` (which must not replace it)."""
    return (held is not None and loaded is not None and held.same_source(loaded)
            and held.generation > loaded.generation)


def _trained(tables: Sequence[StoredTable]) -> dict[str, StoredTable]:
    return {t.structure.name: t for t in tables if t.trained_fingerprint is not None}


def _signature(tables: Sequence[StoredTable]) -> frozenset[tuple[str, str]]:
    """What identifies the trained state of a source's tables: names and trained fingerprints."""
    return frozenset((t.structure.name, t.trained_fingerprint) for t in tables if t.trained_fingerprint is not None)


def _name_words(tables: Sequence[StoredTable], others: Collection[str] = ()) -> NameWords:
    """:func:`~chatdb_server.retrieval.lexical.name_words` of stored tables."""
    return name_words([(t.structure.name, [c.name for c in t.structure.columns]) for t in tables], others)


def schema_context(found: Sequence[ScoredTable], joins: Sequence[JoinEdge],
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
            edges.append(edge)
    return SchemaContext(tables=tuple(infos), joins=tuple(edges))
