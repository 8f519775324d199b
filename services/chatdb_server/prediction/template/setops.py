"""Questions that compare rows with the whole table or combine two selections.

* "above the average age" compares a column with a scalar subquery, ``age > (SELECT AVG(age) FROM t)``;
* two filters on one column that no single row can meet together ("stadiums with concerts in both
  2014 and 2015", "companies used by orchestras founded before 2003 and after 2003") ask for the
  rows found under each filter: the two selections are intersected.
"""

from __future__ import annotations

from dataclasses import replace

from chatdb_server.prediction.template.intents import comparison_before
from chatdb_server.prediction.template.plan import AverageComparison, Condition, Plan
from chatdb_server.prediction.template.question import Question
from chatdb_server.prediction.template.schema_index import ColumnEntry
from chatdb_server.prediction.template.state import ReadingState
from chatdb_server.prediction.template.vocabulary import word_set

_AVERAGE_WORDS = word_set("cues", "average_words")
_UPPER = frozenset({"<", "<="})
_LOWER = frozenset({">", ">="})


def read_average_comparisons(q: Question, state: ReadingState) -> None:
    """"whose weight is below the average (weight)": a comparison with the column's average over its table."""
    for index, token in enumerate(q.tokens):
        if token.lower not in _AVERAGE_WORDS:
            continue
        comparison = comparison_before(q.tokens, index)
        if comparison is None or comparison.operator not in _UPPER | _LOWER:
            continue
        column = _compared_column(q, index, comparison.start, comparison.implied)
        if column is None or not column.is_numeric:
            continue
        state.average_comparisons.append(AverageComparison(column, comparison.operator))
        state.notes.append(f"{column.name} {comparison.operator} its average")
        state.fire("compare-with-average")
        named_elsewhere = [o for o in state.outputs if o.column is not column]
        state.outputs = [o for o in state.outputs if o.column is not column or (
            o.aggregate is None and not named_elsewhere and not state.count_requested)]
        state.totals = [o for o in state.totals if any(o is kept for kept in state.outputs)]
        _forget_average_as_column(q, index, state)


def _forget_average_as_column(q: Question, average_at: int, state: ReadingState) -> None:
    """"older than average" in a schema with a column called ``average``: the word was the comparison's,
    so that column's table, taken as context, does not join the query."""
    for position, mention in enumerate(q.mentions):
        if mention.kind == "column" and (mention.start, mention.end) == (average_at, average_at + 1):
            table = q.column_of(position).table
            kept = [t for t in state.context_tables if t is not table]
            if len(kept) == len(state.context_tables) - 1:
                state.context_tables = kept


def _compared_column(q: Question, average_at: int, comparator_at: int, implied: tuple[str, ...]
                     ) -> ColumnEntry | None:
    """The column named right after "average", else the one named before the comparator."""
    before: ColumnEntry | None = None
    for position, mention in enumerate(q.mentions):
        if mention.kind != "column":
            continue
        if average_at < mention.start <= average_at + 2:
            return q.column_of(position)
        if mention.end <= comparator_at:
            before = q.column_of(position)
    if implied:
        return q.find_column(implied) or before
    return before


def intersect_conflicting(q: Question, plan: Plan) -> Plan:
    """The plan as an intersection when two of its AND-ed filters on one column exclude each other,
    or when two values of one column read as alternatives are asked for "both".

    Left alone when the plan aggregates, groups, orders or limits: an intersection of those
    would change their meaning."""
    if plan.any_condition and "both" in q.lowers and len(plan.conditions) == 2:
        plan = replace(plan, any_condition=False)
    if plan.any_condition or plan.group_by or plan.periods or plan.having or plan.order or plan.limit:
        return plan
    if any(o.aggregate is not None for o in plan.outputs):
        return plan
    for i, first in enumerate(plan.conditions):
        for second in plan.conditions[i + 1:]:
            if first.column is not None and first.column is second.column and _exclusive(first, second):
                others = [c for c in plan.conditions if c is not first and c is not second]
                notes = [*plan.notes, f"rows found both where {_say(first)} and where {_say(second)}"]
                return replace(plan, conditions=[*others, first], intersect_with=[*others, second], notes=notes,
                               rules=list(dict.fromkeys([*plan.rules, "intersect-conflicting"])))
    return plan


def _exclusive(first: Condition, second: Condition) -> bool:
    """Whether no single value meets both conditions."""
    if first.aggregate or second.aggregate or len(first.values) != 1 or len(second.values) != 1:
        return False
    a, b = first.values[0], second.values[0]
    if first.operator == "=" and second.operator == "=":
        return a != b
    if isinstance(a, str) or isinstance(b, str):
        return False
    if first.operator in _UPPER and second.operator in _LOWER:
        return b >= a
    if first.operator in _LOWER and second.operator in _UPPER:
        return a >= b
    return False


def _say(condition: Condition) -> str:
    assert condition.column is not None
    return f"{condition.column.name} {condition.operator} {condition.values[0]!r}"
