"""Values named in a question become filters: ``city = 'Paris'``, ``name LIKE '%Rose%'``, or —
negated on another table — a condition the rows must have no match for."""

from __future__ import annotations

from chatdb_server.prediction.template import costs
from chatdb_server.prediction.template.intents import is_negation
from chatdb_server.prediction.template.linking import Mention, Target
from chatdb_server.prediction.template.numbers import as_number
from chatdb_server.prediction.template.plan import Condition, Literal_, Operator
from chatdb_server.prediction.template.question import VALUE_GLUE, Question
from chatdb_server.prediction.template.schema_index import ColumnEntry
from chatdb_server.prediction.template.state import ReadingState
from chatdb_server.prediction.template.vocabulary import word_set

_LIKE_WORDS = word_set("cues", "like_words")


def read_value(q: Question, position: int, mention: Mention, gap: list[str], state: ReadingState) -> None:
    """The filter a value mention stands for, on the column named before it or the one that holds it."""
    previous = _previous_column(q, position)
    target = mention.best if mention.targets else None
    if previous is not None:
        matching = [t for t in mention.targets if t.column is previous]
        if matching:
            target = matching[0]
        elif target is None:
            target = Target(previous.table, previous, costs.PLACED_VALUE_MATCH, mention.text)
    elif target is not None and len(mention.targets) > 1:
        target = max(mention.targets, key=lambda t: _value_target_score(q, t))
    if target is None:
        target = _label_target(q, position, mention)
    if target is None or target.column is None:
        state.penalty += costs.VALUE_NOT_PLACED
        state.fire("value-not-placed")
        state.notes.append(f"could not place value {mention.text!r}")
        return
    negated = any(is_negation(q.tokens[k]) for k in range(max(0, mention.start - 3), mention.start))
    value: Literal_ = target.value if target.value is not None else mention.text
    operator: Operator = "!=" if negated else "="
    if set(gap) & _LIKE_WORDS:
        operator = "not like" if negated else "like"
        value = f"%{value}%"
    if target.column.is_numeric and not target.column.looks_numeric_text:
        number = as_number(str(value))
        if number is not None:
            value = number
    subject = state.subject_guess(q.mentioned_tables)
    if operator == "!=" and target.column.table is not subject and subject is not None:
        state.negated_conditions.append(Condition(target.column, "=", (value,)))
        state.notes.append(f"without {target.column.name} = {value!r}")
        state.fire("negated-value")
        return
    existing = [c for c in state.conditions if c.column is target.column and c.operator == "="]
    if (existing and operator == "=") or ("or" in gap and state.conditions):
        state.any_condition = True
        state.fire("either-value")
    state.conditions.append(Condition(target.column, operator, (value,)))
    state.fire("filter-like-value" if operator in ("like", "not like") else "filter-by-value")
    state.notes.append(f"{target.column.name} {operator} {value!r}")


def _label_target(q: Question, position: int, mention: Mention) -> Target | None:
    """"the document named 'Summer Show'": a value nobody sampled names a row of the table before it."""
    for back in range(position - 1, -1, -1):
        other = q.mentions[back]
        if other.kind == "table":
            labels = other.best.table.label_columns
            if labels and labels[0].kind == "text":
                return Target(other.best.table, labels[0], costs.PLACED_VALUE_MATCH, mention.text)
            return None
    return None


def _value_target_score(q: Question, target: Target) -> float:
    """Prefer a value's column in a table the question names."""
    named = [m.best.table for m in q.mentions if m.kind == "table"]
    return target.score + (costs.VALUE_IN_NAMED_TABLE_BONUS if any(target.table is t for t in named) else 0.0)


def _previous_column(q: Question, position: int) -> ColumnEntry | None:
    """The column named just before the value at ``position`` ("whose *country* is France"), if any."""
    mention = q.mentions[position]
    for back in range(position - 1, -1, -1):
        other = q.mentions[back]
        if other.kind == "column":
            gap = q.lowers[other.end:mention.start]
            if len(gap) <= 3 and all(w in VALUE_GLUE for w in gap):
                return q.column_of(back)
            return None
        if other.kind != "table":
            return None
    return None
