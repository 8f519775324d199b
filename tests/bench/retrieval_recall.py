"""Retrieval recall of the gold tables on Spider dev, through the real pipeline.

Every executable Spider dev question (972; ``wta_1`` has no database file, so its 62 questions
are left out) is answered by the Retriever over Milvus Lite with the real embedding model.
Recall@k is the share of a question's gold tables (read from its gold SQL with sqlglot) found
among the top k, averaged over questions; "all@5" is the share of questions with every gold
table in the top 5; "+bridges" also counts the join neighbours the retriever adds to the top 5.
Several table-document layouts and lexical re-ranking weights are compared; the project's
default is marked. Run: ``python tests/bench/retrieval_recall.py``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from chatdb_server.retrieval.documents import DEFAULT_OPTIONS, DocumentOptions, table_document
from chatdb_server.retrieval.embeddings import Embedder
from chatdb_server.retrieval.retriever import SEARCH, RetrievalSettings, Retriever
from chatdb_server.retrieval.vectors import TableVector, VectorStore
from chatdb_server.retrieval.words import identifier_phrase
from chatdb_server.sql.structure import JoinEdge, StoredTable
from tests.bench.spider_tables import SpiderSource, gold_tables, load_sources
from tests.support.spider import LARGER_DATABASES, database_ids, questions, spider_available, spider_dir

DocumentFn = Callable[[StoredTable, list[JoinEdge]], str]


def _options(options: DocumentOptions) -> DocumentFn:
    return lambda t, joins: table_document(t.structure, joins, t.description, options)


def _create_table(t: StoredTable, _: list[JoinEdge]) -> str:
    columns = ",\n".join(f"  {c.name} {c.data_type}" for c in t.structure.columns)
    return f"CREATE TABLE {t.structure.name} (\n{columns}\n)"


def _names_as_words(t: StoredTable, _: list[JoinEdge]) -> str:
    columns = ", ".join(identifier_phrase(c.name, expand=False) for c in t.structure.columns)
    return f"{identifier_phrase(t.structure.name, expand=False)}: {columns}"


LAYOUTS: dict[str, DocumentFn] = {
    "raw CREATE TABLE": _create_table,
    "names as words": _names_as_words,
    "everything (types, samples)": _options(DocumentOptions(column_types=True, sample_values=3,
                                                            expand_abbreviations=True)),
    "default (names, keys, joins)": _options(DEFAULT_OPTIONS),
}
DEFAULT_LAYOUT = "default (names, keys, joins)"
LEXICAL_WEIGHTS = (0.0, RetrievalSettings().lexical_weight)


def index_layout(embedder: Embedder, store: VectorStore, layout: str, sources: dict[str, SpiderSource]) -> None:
    """Store one vector per table of every source, under a namespace of the layout."""
    document = LAYOUTS[layout]
    for source in sources.values():
        texts = [document(t, source.joins) for t in source.tables]
        matrix = embedder.encode(texts)
        store.upsert_tables(_namespace(layout, source), [
            TableVector(t.structure.name, text, matrix[i], t.fingerprint)
            for i, (t, text) in enumerate(zip(source.tables, texts, strict=True))])


def _namespace(layout: str, source: SpiderSource) -> str:
    return f"{list(LAYOUTS).index(layout)}/{source.ref.source_id}"


async def measure(retriever: Retriever, layout: str, sources: dict[str, SpiderSource]) -> dict[str, list[float]]:
    """Per-question recall figures, keyed by metric and by subset ("all" / "larger" / a db id)."""
    rows: dict[str, list[float]] = {}
    for q in questions():
        source = sources[q.db_id]
        gold = gold_tables(q.gold_sql, source.table_names)
        ref = dataclasses.replace(source.ref, tenant=str(list(LAYOUTS).index(layout)))
        found = await retriever.retrieve(ref, q.question, source.tables, source.joins, k=5, example_k=0)
        hits = [t.name for t in found.tables if t.reason == SEARCH]
        with_bridges = set(found.table_names)
        figures = {"r@3": len(gold & set(hits[:3])) / len(gold), "r@5": len(gold & set(hits[:5])) / len(gold),
                   "all@5": float(gold <= set(hits[:5])), "+bridges": float(gold <= with_bridges)}
        subsets = ["all", q.db_id] + (["larger"] if q.db_id in LARGER_DATABASES else [])
        for subset in subsets:
            for metric, value in figures.items():
                rows.setdefault(f"{subset}:{metric}", []).append(value)
    return rows


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


async def main() -> None:
    if not spider_available():
        print(f"Spider dev set not found at {spider_dir()} (set CHATDB_SPIDER_DIR); nothing measured")
        return
    sources = await load_sources(database_ids())
    embedder = Embedder.shared()
    started = time.perf_counter()
    embedder.load()
    print(f"model {embedder.name} loaded in {time.perf_counter() - started:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        store = VectorStore(str(Path(tmp) / "recall.db"), dim=embedder.dim)
        for layout in LAYOUTS:
            index_layout(embedder, store, layout, sources)
        count = len(questions())
        large = sum(1 for q in questions() if q.db_id in LARGER_DATABASES)
        print(f"\n{count} executable questions ({large} on {', '.join(LARGER_DATABASES)}); "
              f"{sum(len(s.tables) for s in sources.values())} tables in {len(sources)} databases\n")
        header = (f"{'document layout':30s} {'lexical':>7s} | {'r@3':>6s} {'r@5':>6s} {'all@5':>6s} | "
                  f"{'larger r@3':>10s} {'r@5':>6s} {'all@5':>6s} {'+bridges':>8s}")
        print(header)
        print("-" * len(header))
        best: dict[str, list[float]] = {}
        for layout in LAYOUTS:
            for weight in LEXICAL_WEIGHTS:
                retriever = Retriever(embedder, store, RetrievalSettings(lexical_weight=weight))
                rows = await measure(retriever, layout, sources)
                mark = " *" if layout == DEFAULT_LAYOUT and weight == LEXICAL_WEIGHTS[-1] else ""
                print(f"{layout:30s} {weight:7.2f} | {_mean(rows['all:r@3']):6.3f} {_mean(rows['all:r@5']):6.3f} "
                      f"{_mean(rows['all:all@5']):6.3f} | {_mean(rows['larger:r@3']):10.3f} "
                      f"{_mean(rows['larger:r@5']):6.3f} {_mean(rows['larger:all@5']):6.3f} "
                      f"{_mean(rows['larger:+bridges']):8.3f}{mark}")
                if mark:
                    best = rows
        print("\n* the default. Per larger database (default):")
        for db_id in LARGER_DATABASES:
            print(f"  {db_id:30s} n={len(best[f'{db_id}:r@3']):3d}  r@3 {_mean(best[f'{db_id}:r@3']):.3f}  "
                  f"r@5 {_mean(best[f'{db_id}:r@5']):.3f}  all@5 {_mean(best[f'{db_id}:all@5']):.3f}")
        store.close()


if __name__ == "__main__":
    asyncio.run(main())
