"""What golden examples are worth: Spider dev questions that share a gold SQL, asked with and without one
of them stored as an example.

    python -m tests.bench.example_reuse [--json PATH] [--threshold T]

Questions of one database whose gold SQL is the same (after sqlglot normalisation) form a group; each
group of two or more is cut into pairs, the first question of a pair is stored as a golden example and
the second is asked. Every Spider database is a source whose tables are trained into Milvus Lite with
the real embedding model, and its examples are embedded there too; each question goes through the real
Retriever (five tables, three examples) and, as in an ask, is answered by ``example_reuse`` when it
repeats or closely paraphrases an example (its values re-linked), else by the template generator on the
retrieved schema. The
answers run on the SQLite files and are compared with the gold rows as sql-eval does
(``spider_compare``). Reported: execution accuracy of the asked questions with and without the
examples (the gap is what the examples are worth), and of all 972 questions with the examples present
against none (every other question is asked too, so a false reuse shows as a loss).

The similarity threshold is tuned on the tuning half of the databases (they alternate by sorted name, as
in ``template_accuracy``) and reported on the held-out half; ``--threshold`` measures one value.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import sqlglot

from chatdb_server.errors import ChatDBError
from chatdb_server.generation.example_reuse import reuse_example
from chatdb_server.generation.interface import ExampleInfo, GenerationRequest
from chatdb_server.prediction.template import TemplateGenerator
from chatdb_server.query.pipeline import RETRIEVED_EXAMPLES, RETRIEVED_TABLES
from chatdb_server.retrieval.embeddings import Embedder
from chatdb_server.retrieval.retriever import Retriever
from chatdb_server.retrieval.table_indexing import index_tables
from chatdb_server.retrieval.vectors import ExampleVector, VectorStore
from chatdb_server.settings import Settings
from chatdb_server.sql.dsn import Dialect
from tests.bench.spider_compare import compare, is_ordered, run_sql
from tests.bench.spider_tables import SpiderSource, load_sources
from tests.bench.template_accuracy import splits
from tests.support.spider import SpiderQuestion, database_ids, database_path, questions, spider_available

THRESHOLDS = tuple(round(0.60 + 0.025 * i, 3) for i in range(16))
"""Similarity thresholds tried on the tuning half."""


@dataclass
class Asked:
    """One question's answers: the template generator's, and each example considered for it."""

    index: int
    db_id: str
    split: str
    role: str
    """``asked`` (its pair's example is stored), ``example`` (it is the stored example) or ``other``."""
    generated: bool
    """Whether the template generator's answer is right (lenient)."""
    generated_strict: bool
    reuses: dict[float, tuple[str, bool, bool]]
    """Threshold → (the reused example's id, right lenient, right strict) where an example answered."""


def gold_key(sql: str) -> str:
    """A gold SQL normalised so that the same query written twice compares equal."""
    try:
        return sqlglot.transpile(sql, read="sqlite", write="sqlite", pretty=False)[0].casefold()
    except sqlglot.errors.ParseError:
        return " ".join(sql.casefold().split())


def pairs(selected: Iterable[SpiderQuestion]) -> list[tuple[SpiderQuestion, SpiderQuestion]]:
    """(stored example, asked question) pairs of questions sharing a database and gold SQL."""
    groups: dict[tuple[str, str], list[SpiderQuestion]] = defaultdict(list)
    for q in selected:
        groups[(q.db_id, gold_key(q.gold_sql))].append(q)
    found = []
    for group in groups.values():
        ordered = sorted(group, key=lambda q: q.index)
        found += [(ordered[i], ordered[i + 1]) for i in range(0, len(ordered) - 1, 2)]
    return found


async def build_index(embedder: Embedder, store: VectorStore, sources: dict[str, SpiderSource],
                      examples: list[SpiderQuestion]) -> None:
    """Train every source's tables and store ``examples`` as its golden examples."""
    for source in sources.values():
        index_tables(embedder, store, source.ref.namespace, source.tables, source.joins)
    vectors = embedder.encode([q.question for q in examples])
    by_source: dict[str, list[ExampleVector]] = defaultdict(list)
    for q, vector in zip(examples, vectors, strict=True):
        by_source[sources[q.db_id].ref.namespace].append(ExampleVector(f"q{q.index}", q.question, q.gold_sql, vector))
    for namespace, items in by_source.items():
        store.upsert_examples(namespace, items)
    store.flush()


class Scorer:
    """Runs SQL on the Spider files and compares it with the gold rows, remembering every answer."""

    def __init__(self) -> None:
        self._seen: dict[tuple[int, str], tuple[bool, bool]] = {}

    def score(self, q: SpiderQuestion, sql: str) -> tuple[bool, bool]:
        key = (q.index, sql)
        if key not in self._seen:
            db = database_path(q.db_id)
            try:
                verdict = compare(run_sql(db, q.gold_sql), run_sql(db, sql), is_ordered(q.gold_sql))
                self._seen[key] = (verdict.lenient, verdict.strict)
            except sqlite3.Error:
                self._seen[key] = (False, False)
        return self._seen[key]


async def evaluate(sources: dict[str, SpiderSource], retriever: Retriever, all_questions: list[SpiderQuestion],
                   roles: dict[int, str], thresholds: Iterable[float]) -> list[Asked]:
    """Every question, answered by the template generator and by each threshold's reuse."""
    generator, scorer, halves = TemplateGenerator(), Scorer(), splits()
    results = []
    for q in all_questions:
        source = sources[q.db_id]
        retrieval = await retriever.retrieve(source.ref, q.question, source.tables, source.joins,
                                             k=RETRIEVED_TABLES, example_k=RETRIEVED_EXAMPLES)
        request = GenerationRequest(q.question, Dialect.SQLITE, retrieval.context, examples=tuple(
            ExampleInfo(e.question, e.sql, e.example_id, e.score) for e in retrieval.examples))
        try:
            sql = generator.generate_sync(replace(request, examples=())).candidates[0].sql
            generated = scorer.score(q, sql)
        except ChatDBError:
            generated = (False, False)
        reuses = {}
        for threshold in thresholds:
            reuse = await reuse_example(request, threshold, retriever.question_similarity)
            if reuse is not None:
                reuses[threshold] = (reuse.example.example_id, *scorer.score(q, reuse.sql))
        results.append(Asked(q.index, q.db_id, halves.get(q.db_id, "tune"), roles.get(q.index, "other"),
                             *generated, reuses))
    return results


@dataclass(frozen=True)
class Figures:
    """Execution accuracy (lenient, strict) of some questions with and without examples."""

    n: int
    without: tuple[float, float]
    with_examples: tuple[float, float]
    reused: int
    reused_right: int


def figures(rows: list[Asked], threshold: float) -> Figures:
    """Accuracy of ``rows`` without examples and with them at ``threshold``."""
    def answer(row: Asked) -> tuple[bool, bool]:
        reuse = row.reuses.get(threshold)
        return (reuse[1], reuse[2]) if reuse else (row.generated, row.generated_strict)

    n = len(rows) or 1
    reused = [r for r in rows if threshold in r.reuses]
    return Figures(len(rows), (sum(r.generated for r in rows) / n, sum(r.generated_strict for r in rows) / n),
                   (sum(answer(r)[0] for r in rows) / n, sum(answer(r)[1] for r in rows) / n),
                   len(reused), sum(r.reuses[threshold][1] for r in reused))


def tune(rows: list[Asked], thresholds: Iterable[float]) -> float:
    """The threshold with the best lenient accuracy over every question of ``rows`` (the higher on a tie)."""
    return max(thresholds, key=lambda t: (figures(rows, t).with_examples[0], t))


def _line(label: str, value: Figures) -> str:
    return (f"  {label:<34}{value.n:>5}  {100 * value.without[0]:5.1f}% / {100 * value.without[1]:5.1f}%"
            f"   {100 * value.with_examples[0]:5.1f}% / {100 * value.with_examples[1]:5.1f}%"
            f"   {value.reused:>4} ({value.reused_right} right)")


def report(rows: list[Asked], threshold: float, label: str) -> dict[str, Figures]:
    """Print and return the figures of ``rows`` at ``threshold``."""
    parts = {
        "asked (pair's example stored)": [r for r in rows if r.role == "asked"],
        "other questions (no pair)": [r for r in rows if r.role == "other"],
        "all questions": rows,
    }
    print(f"\n{label}, similarity threshold {threshold:.3f}")
    print(f"  {'':<34}{'n':>5}  {'without: lenient / strict':<26}{'with examples':<23}{'reused'}")
    found = {name: figures(part, threshold) for name, part in parts.items()}
    for name, value in found.items():
        print(_line(name, value))
    return found


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="write the figures and every question's outcome here")
    parser.add_argument("--threshold", type=float, help="measure this similarity threshold only (no tuning)")
    args = parser.parse_args(argv)
    if not spider_available():
        print("Spider dev set not found (set CHATDB_SPIDER_DIR); nothing to measure.")
        return 0
    started = time.perf_counter()
    every = list(questions())
    found = pairs(every)
    roles = {e.index: "example" for e, _ in found} | {a.index: "asked" for _, a in found}
    print(f"{len(every)} executable Spider dev questions; {len(found)} pairs share a gold SQL "
          f"(one of each stored as a golden example, the other asked)")
    sources = await load_sources(database_ids())
    embedder = Embedder.shared()
    thresholds = (args.threshold,) if args.threshold is not None else THRESHOLDS
    with tempfile.TemporaryDirectory() as tmp:
        store = VectorStore(str(Path(tmp) / "examples.db"), dim=embedder.dim)
        await build_index(embedder, store, sources, [e for e, _ in found])
        rows = await evaluate(sources, Retriever(embedder, store), every, roles, thresholds)
        store.close()
    tune_rows = [r for r in rows if r.split == "tune"]
    held_out = [r for r in rows if r.split == "heldout"]
    if args.threshold is None:
        print("\ntuning half, lenient accuracy of all its questions with examples, by threshold:")
        for t in THRESHOLDS:
            value = figures(tune_rows, t)
            print(f"  {t:.3f}  {100 * value.with_examples[0]:5.1f}%  "
                  f"reused {value.reused} ({value.reused_right} right)")
    threshold = tune(tune_rows, thresholds) if args.threshold is None else args.threshold
    setting = Settings.example_reuse_min_similarity
    print(f"\ntuned threshold {threshold:.3f}; the setting example_reuse_min_similarity is {setting:.3f}")
    measured = setting if setting in thresholds else threshold
    results = {"tuning half": report(tune_rows, measured, "tuning half"),
               "held-out half": report(held_out, measured, "held-out half (not tuned on)"),
               "all": report(rows, measured, "all databases")}
    print(f"\n{time.perf_counter() - started:.0f} s")
    if args.json:
        tables = {k: {n: asdict(f) for n, f in v.items()} for k, v in results.items()}
        args.json.write_text(json.dumps({"threshold": measured, "tuned": threshold, "figures": tables,
                                         "questions": [asdict(r) for r in rows]}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
