"""Grouping: "per city", "for each customer", "by status", and the GROUP BY a HAVING, a count
superlative or a trailing "for each" needs when no grouping column was named."""

from __future__ import annotations

from collections.abc import Callable

from chatdb_server.prediction.template import costs
from chatdb_server.prediction.template.intents import GROUP_WORDS, ORDER_WORDS
from chatdb_server.prediction.template.plan import Ordering, Output, Period
from chatdb_server.prediction.template.question import Question
from chatdb_server.prediction.template.schema_index import ColumnEntry, TableEntry
from chatdb_server.prediction.template.state import ReadingState
from chatdb_server.prediction.template.vocabulary import entry


def groups_by(q: Question, position: int, words: set[str]) -> bool:
    """Whether the words before the mention at ``position`` make it a grouping ("per", "each", an
    aggregate's "by" that is no sort order)."""
    return bool(words & GROUP_WORDS) or ("by" in words and not words & ORDER_WORDS and q.aggregating(position))


#: Words that group by a period of a date column: "per month", "by year", "monthly".
_PERIOD_WORDS: dict[str, Period] = dict(entry("cues", "period_words"))


def read_periods(q: Question, state: ReadingState) -> None:
    """"revenue per month", "orders by year", "monthly sales": group by a period of a date column.

    Only where the word names no column (a schema with a ``year`` column groups by that)."""
    named = {k for m in q.mentions for k in range(m.start, m.end)}
    for i, token in enumerate(q.tokens):
        period = _PERIOD_WORDS.get(token.lemma)
        if period is None or i in named or period in state.periods:
            continue
        if token.lemma in ("month", "year") and not (i > 0 and q.lowers[i - 1] in GROUP_WORDS | {"by"}):
            continue
        state.periods.append(period)


def period_outputs(subject: TableEntry, state: ReadingState, outputs: list[Output]
                   ) -> tuple[list[Output], list[Output]]:
    """The periods asked for and the outputs left beside them.

    The date column is the one the question names ("customers *joined* per month", which then is
    no output of its own), else the first date column of the subject or of a table read from."""
    if not state.periods:
        return [], outputs
    named = [o for o in outputs if o.column is not None and o.column.kind == "date" and o.aggregate is None]
    tables = [subject, *(o.column.table for o in outputs if o.column is not None)]
    column = named[0].column if named else next((c for t in tables for c in t.columns if c.kind == "date"), None)
    if column is None:
        state.penalty += costs.NO_DATE_COLUMN
        state.fire("no-date-column")
        state.notes.append("no date column to group by " + " and ".join(state.periods))
        return [], outputs
    state.notes.append(f"grouped by {' and '.join(state.periods)} of {column.name}")
    state.fire("group-by-period")
    periods = [Output(column, period=p) for p in sorted(state.periods, key=("year", "month").index)]
    return periods, [o for o in outputs if not (o.column is column and o.aggregate is None)]


def chronological(periods: list[Output]) -> list[Ordering]:
    """Rows grouped by periods come in time order."""
    return [Ordering(p, False) for p in periods]


def group_by_tables(subject: TableEntry, state: ReadingState, outputs: list[Output], group_by: list[ColumnEntry],
                    need: Callable[[TableEntry], None]) -> list[Output]:
    """Grouping by a table ("for each customer") groups by its key and labels and shows the labels.

    Extends ``group_by``, calls ``need`` for each grouped table and returns the outputs with the
    labels first. Grouping by the subject itself only matters when something is aggregated."""
    for table in state.group_tables:
        if table is subject and not (state.count_requested and state.count_subject is not table) and not any(
                o.aggregate for o in outputs):
            continue
        key = table.key
        labels = table.label_columns
        group_by.extend([key] if key else [])
        group_by.extend(c for c in labels if c is not key)
        outputs = [Output(c) for c in labels if all(o.column is not c or o.aggregate for o in outputs)] + outputs
        need(table)
    for column in state.group_by:
        if all(o.column is not column or o.aggregate for o in outputs):
            outputs.insert(0, Output(column))
    return outputs


def needs_implicit_grouping(q: Question, state: ReadingState) -> bool:
    """A HAVING, a count superlative, an aggregate sort key or a trailing "for each" needs a GROUP BY
    even when none was named."""
    return (bool(state.having) or state.count_superlative is not None
            or any(o.expression.aggregate for o in state.order) or _trailing_each(q, state))


def _trailing_each(q: Question, state: ReadingState) -> bool:
    """"... and the number of templates for each": a count or aggregate per selected value."""
    if not (state.count_requested or any(o.aggregate for o in state.outputs)):
        return False
    for i, lower in enumerate(q.lowers):
        if lower in GROUP_WORDS and not any(m.start > i and m.kind in ("table", "column") for m in q.mentions):
            return True
    return False


def implicit_grouping(subject: TableEntry, outputs: list[Output]) -> list[ColumnEntry]:
    """Group by the one plain selected column, or by the subject's key and label."""
    plain = [o.column for o in outputs if o.column is not None and o.aggregate is None]
    if len(plain) == 1 and plain[0] not in plain[0].table.label_columns:
        return [plain[0]]
    key = subject.key
    return ([key] if key else []) + [c for c in subject.label_columns if c is not key]
