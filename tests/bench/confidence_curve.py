"""How honest the template generator's confidence is on the executable Spider dev questions.

    python -m tests.bench.confidence_curve [--json PATH] [--db DB_ID] [--step 0.05] [--fit-rules]

Each question is answered as tests/bench/template_accuracy.py answers it (schema read from the database,
first candidate, execution compared with the gold SQL as sql-eval does, lenient). Reported:

* AUROC of the confidence separating right answers from wrong ones (questions with no answer left out:
  they are never shown), overall and per database half (tuning / held-out);
* the same for the margin over the generator's second reading (its first candidate's confidence minus
  the second's), a signal the generator already computes;
* the same for a cross-fitted calibration by the rules that fired: each rule's share of right answers
  on the other half of the databases (smoothed towards that half's accuracy), the least reliable rule of
  an answer averaged with its confidence — what a calibration by "rule used" could reach;
* the accuracy/coverage curve: for each threshold from 0 to 1, the share of all questions answered
  (an answer whose confidence reaches the threshold: what a source's ``min_confidence`` keeps) and the
  accuracy among them.

The generator's confidence already leans on its rules' reliabilities (``prediction/template/reliability.py``);
``--fit-rules`` prints that table as learnt on the tuning half only, to paste there after a rule changes.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from chatdb_server.errors import ChatDBError
from chatdb_server.generation.interface import GenerationRequest
from chatdb_server.prediction.template import TemplateGenerator
from chatdb_server.prediction.template.reliability import MIN_FIRINGS, RELIABILITY_PRIOR
from tests.bench.spider_compare import compare, is_ordered, run_sql
from tests.bench.spider_schema import DEFAULT_SAMPLE_VALUES, schema_context_for
from tests.bench.template_accuracy import splits
from tests.support.spider import database_path, questions, spider_available

READINGS = 2
"""Candidates asked for: the first is the answer, the second gives the margin."""
RULE_WEIGHT = 0.5
"""The weight of the rule's reliability against the confidence in the calibrated score."""


@dataclass
class Scored:
    """One question: its database half, the answer's confidence and margin, and whether it was right."""

    db_id: str
    split: str
    answered: bool
    confidence: float
    margin: float
    right: bool
    rules: list[str] = field(default_factory=list)


def auroc(scores: list[float], labels: list[bool]) -> float:
    """The probability that a right answer scores above a wrong one (ties count half); nan without both."""
    values, truth = np.asarray(scores, dtype=float), np.asarray(labels, dtype=bool)
    right, wrong = values[truth], values[~truth]
    if not len(right) or not len(wrong):
        return float("nan")
    above = (right[:, None] > wrong[None, :]).sum() + 0.5 * (right[:, None] == wrong[None, :]).sum()
    return float(above / (len(right) * len(wrong)))


def coverage_curve(scored: list[Scored], step: float) -> list[dict[str, float]]:
    """Per threshold: coverage (share of all questions answered at or above it) and accuracy among them."""
    points = []
    for threshold in np.round(np.arange(0.0, 1.0 + step / 2, step), 4):
        kept = [s for s in scored if s.answered and s.confidence >= threshold]
        points.append({"threshold": float(threshold), "coverage": len(kept) / len(scored) if scored else 0.0,
                       "accuracy": sum(s.right for s in kept) / len(kept) if kept else float("nan")})
    return points


def score(generator: TemplateGenerator, db_id: str | None) -> list[Scored]:
    """Every executable question answered and judged."""
    halves = splits()
    scored = []
    for q in questions():
        if db_id is not None and q.db_id != db_id:
            continue
        db = database_path(q.db_id)
        request = GenerationRequest(q.question, "sqlite", schema_context_for(db, DEFAULT_SAMPLE_VALUES),  # type: ignore[arg-type]
                                    candidate_count=READINGS)
        try:
            candidates = generator.generate_sync(request).candidates
        except ChatDBError:
            scored.append(Scored(q.db_id, halves.get(q.db_id, "tune"), False, 0.0, 0.0, False))
            continue
        first = candidates[0]
        margin = first.confidence - (candidates[1].confidence if len(candidates) > 1 else 0.0)
        try:
            right = compare(run_sql(db, q.gold_sql), run_sql(db, first.sql), is_ordered(q.gold_sql)).lenient
        except Exception:  # an answer the database rejects is a wrong answer
            right = False
        scored.append(Scored(q.db_id, halves.get(q.db_id, "tune"), True, first.confidence, margin, right,
                             list(first.rules)))
    return scored


def rule_reliabilities(learnt: list[Scored]) -> tuple[float, dict[str, tuple[float, int]]]:
    """The share of right answers among ``learnt`` and, per rule, its smoothed share (``RELIABILITY_PRIOR``
    pseudo-answers at the overall share: a rule seen a few times stays near it) and how often it fired."""
    base = sum(s.right for s in learnt) / len(learnt) if learnt else 0.5
    record: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for s in learnt:
        for rule in set(s.rules):
            record[rule][0] += s.right
            record[rule][1] += 1
    return base, {rule: ((right + RELIABILITY_PRIOR * base) / (n + RELIABILITY_PRIOR), n)
                  for rule, (right, n) in record.items()}


def rule_calibrated(scored: list[Scored]) -> dict[int, float]:
    """Per answered question (by its position): the confidence averaged with the reliability of its least
    reliable rule, learnt on the other half of the databases only."""
    calibrated: dict[int, float] = {}
    for half, other in (("tune", "heldout"), ("heldout", "tune")):
        base, fitted = rule_reliabilities([s for s in scored if s.answered and s.split == other])
        reliability = {rule: share for rule, (share, _) in fitted.items()}
        for i, s in enumerate(scored):
            if s.answered and s.split == half:
                weakest = min((reliability.get(rule, base) for rule in s.rules), default=base)
                calibrated[i] = (1 - RULE_WEIGHT) * s.confidence + RULE_WEIGHT * weakest
    return calibrated


def figures(scored: list[Scored], step: float) -> dict[str, object]:
    """AUROCs overall and per half, mean confidences, and the curve."""
    answered = [s for s in scored if s.answered]
    by_rules = rule_calibrated(scored)

    def separation(half: str | None) -> dict[str, float]:
        chosen = [i for i, s in enumerate(scored) if s.answered and half in (None, s.split)]
        labels = [scored[i].right for i in chosen]
        return {"n": len(chosen), "confidence": auroc([scored[i].confidence for i in chosen], labels),
                "margin": auroc([scored[i].margin for i in chosen], labels),
                "by_rules": auroc([by_rules[i] for i in chosen], labels)}

    right = [s.confidence for s in answered if s.right]
    wrong = [s.confidence for s in answered if not s.right]
    return {
        "questions": len(scored), "answered": len(answered),
        "accuracy": sum(s.right for s in scored) / len(scored) if scored else 0.0,
        "auroc": {"all": separation(None), **{half: separation(half) for half in ("tune", "heldout")}},
        "mean_confidence": {"right": float(np.mean(right)) if right else 0.0,
                            "wrong": float(np.mean(wrong)) if wrong else 0.0},
        "curve": coverage_curve(scored, step),
    }


def print_figures(result: dict[str, object]) -> None:
    print(f"\nTemplate generator confidence on Spider dev: {result['questions']} executable questions, "
          f"{result['answered']} answered, lenient accuracy {100 * result['accuracy']:.1f}%")  # type: ignore[operator]
    mean = result["mean_confidence"]
    print(f"mean confidence: right {mean['right']:.3f}, wrong {mean['wrong']:.3f}")  # type: ignore[index]
    print(f"\n{'AUROC':<12}{'n':>6}{'confidence':>12}{'margin':>10}{'by rules':>10}")
    for name, row in result["auroc"].items():  # type: ignore[attr-defined]
        print(f"{name:<12}{row['n']:>6}{row['confidence']:>12.3f}{row['margin']:>10.3f}{row['by_rules']:>10.3f}")
    print(f"\n{'threshold':>10}{'coverage':>10}{'accuracy':>10}")
    for point in result["curve"]:  # type: ignore[attr-defined]
        accuracy = "    -" if np.isnan(point["accuracy"]) else f"{100 * point['accuracy']:9.1f}%"
        print(f"{point['threshold']:>10.2f}{100 * point['coverage']:>9.1f}%{accuracy:>10}")


def print_fitted_rules(scored: list[Scored]) -> None:
    """The reliability table of ``reliability.py`` as learnt on the tuning half (never the held-out one)."""
    base, fitted = rule_reliabilities([s for s in scored if s.answered and s.split == "tune"])
    print(f"\nrule reliabilities learnt on the tuning half (typical {base:.2f}; "
          f"rules fired fewer than {MIN_FIRINGS} times left out):")
    for rule, (share, n) in sorted(fitted.items(), key=lambda item: -item[1][1]):
        if n >= MIN_FIRINGS:
            print(f'    "{rule}": {share:.2f},  # fired {n}')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="write the figures and every question's score here")
    parser.add_argument("--db", help="only this database")
    parser.add_argument("--step", type=float, default=0.05, help="threshold step of the curve")
    parser.add_argument("--fit-rules", action="store_true", help="print the rule reliabilities of the tuning half")
    args = parser.parse_args(argv)
    if not spider_available():
        print("Spider dev set not found (set CHATDB_SPIDER_DIR); nothing to measure.")
        return 0
    scored = score(TemplateGenerator(), args.db)
    result = figures(scored, args.step)
    print_figures(result)
    if args.fit_rules:
        print_fitted_rules(scored)
    if args.json:
        args.json.write_text(json.dumps({"figures": result, "questions": [asdict(s) for s in scored]}, indent=1))
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
