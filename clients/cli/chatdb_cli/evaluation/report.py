"""What ``chatdb eval`` reports: execution accuracy (lenient and strict) overall, by category and by
database, with latencies, as JSON for machines and markdown for people."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from chatdb_cli.evaluation.runner import Graded, Outcome

JSON_NAME = "report.json"
MARKDOWN_NAME = "report.md"


@dataclass(frozen=True)
class Summary:
    """Accuracy and latency of some graded questions. Questions whose gold SQL did not run are counted
    apart and left out of everything else."""

    questions: int
    """Graded questions (gold SQL that ran)."""
    lenient: int
    strict: int
    no_answer: int
    ask_errors: int
    gold_errors: int
    latency_p50_ms: float | None
    latency_p95_ms: float | None

    @property
    def lenient_accuracy(self) -> float:
        """Share of questions answered with the gold rows, extra columns allowed."""
        return self.lenient / self.questions if self.questions else 0.0

    @property
    def strict_accuracy(self) -> float:
        """Share answered with exactly the gold columns and rows."""
        return self.strict / self.questions if self.questions else 0.0

    def as_dict(self) -> dict[str, Any]:
        """The summary with its accuracies, for JSON."""
        return {**asdict(self), "lenient_accuracy": round(self.lenient_accuracy, 4),
                "strict_accuracy": round(self.strict_accuracy, 4)}


@dataclass(frozen=True)
class Report:
    """A run's findings."""

    question_set: str
    server: str
    overall: Summary
    by_category: dict[str, Summary]
    by_database: dict[str, Summary]
    served_by: dict[str, int]
    """How many answers each generator served (``MODEL``, ``TEMPLATE``, ``EXAMPLE``, ...)."""
    models: dict[str, int]
    graded: list[Graded] = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        """Everything, each question included."""
        return {
            "question_set": self.question_set, "server": self.server, "overall": self.overall.as_dict(),
            "by_category": {name: s.as_dict() for name, s in self.by_category.items()},
            "by_database": {name: s.as_dict() for name, s in self.by_database.items()},
            "served_by": self.served_by, "models": self.models,
            "questions": [_question(one) for one in self.graded],
        }

    def to_markdown(self) -> str:
        """The summary tables, then the questions not answered right."""
        lines = [f"# ChatDB evaluation: {self.question_set}", "",
                 f"Server {self.server}; answers served by {_counts(self.served_by)}; models {_counts(self.models)}.",
                 "", "| | questions | lenient | strict | no answer | ask errors | gold errors | p50 ms | p95 ms |",
                 "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
                 _row("**all**", self.overall)]
        lines += [_row(f"category {name}", summary) for name, summary in self.by_category.items()]
        lines += [_row(f"database {name}", summary) for name, summary in self.by_database.items()]
        missed = [one for one in self.graded if one.outcome != Outcome.CORRECT]
        if missed:
            lines += ["", "## Not answered right", "", "| # | database | outcome | question | predicted SQL | detail |",
                      "| ---: | --- | --- | --- | --- | --- |"]
            lines += [f"| {one.case.number} | {one.case.database} | {one.outcome} | {_cell(one.case.question)} "
                      f"| {_cell(one.predicted_sql)} | {_cell(one.error)} |" for one in missed]
        return "\n".join(lines) + "\n"

    def write(self, directory: Path) -> list[Path]:
        """Write ``report.json`` and ``report.md`` into ``directory`` (made if missing); their paths."""
        directory.mkdir(parents=True, exist_ok=True)
        json_path, markdown_path = directory / JSON_NAME, directory / MARKDOWN_NAME
        json_path.write_text(json.dumps(self.to_json(), indent=2, default=str) + "\n", encoding="utf-8")
        markdown_path.write_text(self.to_markdown(), encoding="utf-8")
        return [json_path, markdown_path]


def build(question_set: str, server: str, graded: Sequence[Graded]) -> Report:
    """The report of a run."""
    answered = [one for one in graded if one.outcome in (Outcome.CORRECT, Outcome.WRONG, Outcome.NO_ANSWER)]
    return Report(question_set, server, summarise(graded), _grouped(graded, lambda one: one.case.category),
                  _grouped(graded, lambda one: one.case.database),
                  dict(Counter(one.served_by for one in answered).most_common()),
                  dict(Counter(one.model for one in answered if one.model).most_common()), list(graded))


def summarise(graded: Iterable[Graded]) -> Summary:
    """Accuracy and latencies of some graded questions."""
    items = list(graded)
    outcomes = Counter(one.outcome for one in items)
    kept = [one for one in items if one.outcome != Outcome.GOLD_ERROR]
    latencies = sorted(one.latency_ms for one in kept if one.latency_ms is not None)
    return Summary(len(kept), sum(one.lenient for one in kept), sum(one.strict for one in kept),
                   outcomes[Outcome.NO_ANSWER], outcomes[Outcome.ASK_ERROR], outcomes[Outcome.GOLD_ERROR],
                   percentile(latencies, 0.50), percentile(latencies, 0.95))


def percentile(ordered: Sequence[float], share: float) -> float | None:
    """The nearest-rank percentile of sorted values; None for none."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _grouped(graded: Sequence[Graded], key: Callable[[Graded], str]) -> dict[str, Summary]:
    groups: dict[str, list[Graded]] = {}
    for one in graded:
        groups.setdefault(key(one), []).append(one)
    return {name: summarise(groups[name]) for name in sorted(groups)}


def _question(one: Graded) -> dict[str, Any]:
    return {"number": one.case.number, "database": one.case.database, "source": one.source,
            "category": one.case.category, "question": one.case.question, "gold_sql": one.case.gold_sql,
            "predicted_sql": one.predicted_sql, "outcome": one.outcome, "lenient": one.lenient,
            "strict": one.strict, "latency_ms": one.latency_ms, "served_by": one.served_by, "model": one.model,
            "confidence": one.confidence, "error": one.error}


def _row(label: str, summary: Summary) -> str:
    return (f"| {label} | {summary.questions} | {summary.lenient_accuracy:.1%} | {summary.strict_accuracy:.1%} "
            f"| {summary.no_answer} | {summary.ask_errors} | {summary.gold_errors} "
            f"| {milliseconds(summary.latency_p50_ms)} | {milliseconds(summary.latency_p95_ms)} |")


def milliseconds(value: float | None) -> str:
    """A latency as whole milliseconds, '-' for none."""
    return "-" if value is None else f"{value:.0f}"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items()) or "none"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
