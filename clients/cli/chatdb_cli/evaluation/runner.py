"""Running a question set against a ChatDB server: each question asked (Ask), its gold SQL run on
the same source (ExecuteSql), the two results compared, the time each answer took."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Protocol

from chatdb_cli.evaluation.compare import Result, compare, is_ordered
from chatdb_cli.evaluation.questions import Case, source_id
from chatdb_client import AskResult, ChatDBError, QueryResult

SQLGLOT_DIALECTS = {"sqlite": "sqlite", "postgresql": "postgres", "mysql": "mysql"}
"""sqlglot's name of each source dialect, to read the gold SQL with."""


class Outcome:
    """How one question ended."""

    CORRECT = "correct"
    """Its rows match the gold rows (leniently)."""
    WRONG = "wrong"
    """It was answered with other rows."""
    NO_ANSWER = "no answer"
    """The server declined it (below the source's confidence threshold) or ran nothing."""
    ASK_ERROR = "ask error"
    """The ask failed with a gRPC status."""
    GOLD_ERROR = "gold error"
    """The gold SQL itself did not run on the source: left out of the accuracy."""


class Asker(Protocol):
    """What the runner needs of the SDK client."""

    def ask(self, source: str, question: str, max_rows: int = ..., model: str = ...) -> AskResult: ...

    def execute_sql(self, source: str, sql: str, max_rows: int = ...) -> QueryResult: ...


@dataclass(frozen=True)
class Graded:
    """One question's outcome."""

    case: Case
    source: str
    outcome: str
    lenient: bool = False
    strict: bool = False
    latency_ms: float | None = None
    """How long the ask took, seen by the caller; None where it failed before an answer came."""
    predicted_sql: str = ""
    served_by: str = ""
    model: str = ""
    confidence: float = 0.0
    error: str = ""


@dataclass(frozen=True)
class Settings:
    """How the set is asked."""

    max_rows: int = 0
    """The row cap of the ask and of the gold SQL (0: the server's)."""
    model: str = ""
    """The model or adapter the asks name (empty: the server's choice)."""


def grade_all(client: Asker, cases: Iterable[Case], dialects: dict[str, str], settings: Settings,
              on_graded: Callable[[Graded], object] | None = None) -> list[Graded]:
    """Every case graded in order; ``dialects`` maps each source to its dialect (``sqlite``,
    ``postgresql``, ``mysql``: how the gold SQL is read to see whether it orders its rows)."""
    graded = []
    for case in cases:
        one = grade(client, case, SQLGLOT_DIALECTS.get(dialects.get(source_id(case.database), ""), "sqlite"),
                    settings)
        graded.append(one)
        if on_graded is not None:
            on_graded(one)
    return graded


def grade(client: Asker, case: Case, dialect: str, settings: Settings) -> Graded:
    """Ask one question, then run its gold SQL (after, so the ask never finds the gold rows in the server's
    result cache), compare."""
    source = source_id(case.database)
    started = time.perf_counter()
    try:
        answer = client.ask(source, case.question, max_rows=settings.max_rows, model=settings.model)
    except ChatDBError as error:
        asked = Graded(case, source, Outcome.ASK_ERROR, latency_ms=_since(started), error=_status(error))
        answer = None
    else:
        asked = Graded(case, source, Outcome.NO_ANSWER, latency_ms=_since(started), predicted_sql=answer.sql,
                       served_by=answer.served_by, model=answer.model, confidence=answer.confidence)
    try:
        gold = client.execute_sql(source, case.gold_sql, max_rows=settings.max_rows)
    except ChatDBError as error:
        return replace(asked, outcome=Outcome.GOLD_ERROR, error=_status(error))
    if answer is None or answer.low_confidence or not answer.executed:
        return asked
    verdict = compare(_result(gold), _result(answer), is_ordered(case.gold_sql, dialect))
    return replace(asked, outcome=Outcome.CORRECT if verdict.lenient else Outcome.WRONG,
                   lenient=verdict.lenient, strict=verdict.strict)


def _result(result: QueryResult) -> Result:
    return Result.of(result.rows, len(result.columns))


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _status(error: ChatDBError) -> str:
    reason = f" {error.reason}" if error.reason else ""
    return f"{error.code.name}{reason}: {error.message}"
