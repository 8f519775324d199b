"""Values named in a question become filters: ``city = 'Paris'``, ``name LIKE '%Rose%'``, or —
negated on another table — a condition the rows must have no match for."""

from __future__ import annotations

from chatdb_server.prediction.template import costs
from chatdb_server.prediction.template.intents import is_negation
from chatdb_server.prediction.template.linking import Mention, Target
from chatdb_server.prediction.template.numbers import as_number
from chatdb_server.prediction.template.plan import Condition, Literal_, Operator
from chatdb_server.prediction.template.question import Question
from chatdb_server.prediction.template.schema_index import ColumnEntry, TableEntry
from chatdb_server.prediction.template.state import ReadingState
from chatdb_server.prediction.template.vocabulary import word_set

_LIKE_WORDS = word_set("cues", "like_words")


def read_value(q: Question, position: int, mention: Mention, gap: list[str], state: ReadingState) -> None:
    """The filter a value mention stands for, on the column named before it or the one that holds it."""
    previous = _previous_column(q, position)
    target = mention.best if mention.targets else None
    if previous is not None:
        matching = [t for t in mention.targets if t.column is previous]
        namesakes = [t for t in mention.targets
                     if t.column is not None and t.column.name.lower() == previous.name.lower()]
        if matching:
            target = matching[0]
        elif namesakes:
            # A key sampled on the other side of its join ("type code AD" of item_types, sampled in items).
            target = Target(previous.table, previous, namesakes[0].score, namesakes[0].value)
        elif target is None:
            target = Target(previous.table, previous, costs.PLACED_VALUE_MATCH, mention.text)
    elif target is not None and len(mention.targets) > 1:
        target = max(mention.targets, key=lambda t: _value_target_score(q, t))
    if target is None:
        target = _label_target(q, position, mention)
    if target is None and mention.proper_noun:
        target = _subject_label_target(q, mention, state)
    if target is None and set(gap) & _LIKE_WORDS:
        target = _asked_text_target(mention, state)
    if target is None or target.column is None:
        state.penalty += costs.VALUE_NOT_PLACED
        state.fire("value-not-placed")
        state.notes.append(f"could not place value {mention.text!r}")
        return
    negated = _negated(q, position, mention)
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
    if mention.proper_noun:
        state.fire("capitalised-value")
    state.notes.append(f"{target.column.name} {operator} {value!r}")


def _negated(q: Question, position: int, mention: Mention) -> bool:
    """A negation in the three words before the value, or before the column that introduces it
    ("that do *not* have the status 'shipped'")."""
    starts = [mention.start]
    previous = q.mentions[position - 1] if position > 0 else None
    if previous is not None and previous.kind == "column" and q.column_holds_value(previous, mention):
        starts.append(previous.start)
    return any(is_negation(q.tokens[k]) for start in starts for k in range(max(0, start - 3), start))


def _label_target(q: Question, position: int, mention: Mention) -> Target | None:
    """"the document named 'Summer Show'": a value nobody sampled names a row of the table before it."""
    for back in range(position - 1, -1, -1):
        other = q.mentions[back]
        if other.kind == "table":
            label = _row_label(q, other.best.table)
            return Target(label.table, label, costs.PLACED_VALUE_MATCH, mention.text) if label else None
    return None


def _row_label(q: Question, table: TableEntry) -> ColumnEntry | None:
    """The text column a name of one of the table's rows is compared with: its label, or, for rows
    labelled by another table's key ("languages spoken in Peru": a country code), that table's label."""
    labels = table.label_columns
    if labels and labels[0].is_key_like:
        referenced = next((e.right for e in q.graph.neighbours(table) if e.left_columns == (labels[0],)), None)
        labels = referenced.label_columns if referenced is not None else labels
    return labels[0] if labels and labels[0].kind == "text" else None


def _subject_label_target(q: Question, mention: Mention, state: ReadingState) -> Target | None:
    """"Which city is Acme in?": a capitalised name with no table before it names a row of
    the table the question is about (its label column), read from what was asked so far."""
    subject = state.subject_guess(q.mentioned_tables)
    if subject is None:
        subject = next((o.column.table for o in state.outputs if o.column is not None), None)
    label = _row_label(q, subject) if subject is not None else None
    if label is None or label.is_key_like:
        return None
    return Target(label.table, label, costs.PLACED_VALUE_MATCH, mention.text)


def _asked_text_target(mention: Mention, state: ReadingState) -> Target | None:
    """"the notes which have the substring 'late'": a text searched for with no column named for it is
    searched in the text column asked for."""
    asked = next((o.column for o in state.outputs if o.column is not None and o.aggregate is None
                  and o.column.kind == "text" and not o.column.is_key_like), None)
    return Target(asked.table, asked, costs.PLACED_VALUE_MATCH, mention.text) if asked is not None else None


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
            return q.column_of(back) if q.column_holds_value(other, mention) else None
        if other.kind != "table":
            return None
    return None
