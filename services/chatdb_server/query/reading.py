"""How an answer reads to a person: one sentence, a chart suggestion, and — for an answer below its
source's ``min_confidence`` — the refusal with a rephrasing instead."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chatdb_server.query.answer_text import LOW_CONFIDENCE_TEXT, answer_text
from chatdb_server.query.chart_hint import TABLE, ChartHint, chart_hint
from chatdb_server.query.domain import Rows
from chatdb_server.query.low_confidence import suggested_question
from chatdb_server.query.sql_shape import sql_shape
from chatdb_server.retrieval.retriever import ScoredTable
from chatdb_server.sql.dsn import Dialect


@dataclass(frozen=True)
class Reading:
    """An answer's sentence and chart; ``low_confidence`` when it was not trusted enough to run."""

    text: str = ""
    chart: ChartHint = TABLE
    low_confidence: bool = False
    suggested_question: str = ""


def read_answer(sql: str, dialect: Dialect, rows: Rows | None) -> Reading:
    """The sentence and chart of ``rows`` read by ``sql``; empty when nothing ran."""
    if rows is None:
        return Reading()
    shape = sql_shape(sql, dialect)
    return Reading(answer_text(rows, shape), chart_hint(rows.columns, rows.rows, shape))


def unreliable(closest: Sequence[ScoredTable]) -> Reading:
    """The reply to a question whose answer fell below the source's threshold."""
    return Reading(LOW_CONFIDENCE_TEXT, TABLE, low_confidence=True, suggested_question=suggested_question(closest))
