"""Aggregates a question asks for without an aggregate word before a column: "the total amount
per status" (a column called a total, summed when grouped) and "the sum of payments", "the
average order value" (an aggregate of a table, read as its one measure column)."""

from __future__ import annotations

from collections.abc import Iterable

from chatdb_server.prediction.template.intents import AGGREGATE_WORDS
from chatdb_server.prediction.template.linking import Mention
from chatdb_server.prediction.template.plan import Aggregate, Output
from chatdb_server.prediction.template.question import Question
from chatdb_server.prediction.template.schema_index import ColumnEntry, TableEntry
from chatdb_server.prediction.template.state import ReadingState
from chatdb_server.prediction.template.vocabulary import word_set

#: Words naming the measure of a table when it has several numeric columns.
_MEASURE_WORDS = word_set("cues", "measure_words")
#: Aggregate words that, before a table, aggregate its measure; "total orders" is more often a count.
_TABLE_AGGREGATES = frozenset(w for w in AGGREGATE_WORDS if w not in word_set("cues", "table_aggregates_excluded"))


def summed_totals(state: ReadingState) -> list[Output]:
    """"the total amount of orders per status": a column the question calls a total is summed when
    the question groups or asks for one total ("what is the total amount of all orders"), and
    listed as it is otherwise ("show the order ids and total amounts")."""
    if not state.totals or not (state.group_by or state.group_tables or state.periods or state.one_total):
        return list(state.outputs)
    return [Output(o.column, "sum") if any(o is t for t in state.totals) else o for o in state.outputs]


def asks_one_total(q: Question, mention: Mention) -> bool:
    """"What is the total ...", "what was the total ...": one number, not a list."""
    return bool({"is", "was"} & set(q.lowers[max(0, mention.start - 2):mention.start]))


def table_aggregate(q: Question, position: int, gap: list[str]) -> Output | None:
    """"the sum of payments", "the average order value": an aggregate word right before a table
    (no column named right after it) aggregates the table's one measure column."""
    word = _aggregate_word(gap, _TABLE_AGGREGATES)
    if word is None or _names_its_column(q, position):
        return None
    measure = _measure(q.mentions[position].best.table)
    return Output(measure, AGGREGATE_WORDS[word]) if measure is not None else None


def aggregates_before_table(q: Question, position: int) -> list[Aggregate]:
    """"the average singer age", "the maximum payment amount": aggregate words before the table
    named right before a column apply to the column."""
    if position == 0 or not _names_its_column(q, position - 1) or not q.column_of(position).is_numeric:
        return []
    table = q.mentions[position - 1]
    start = q.mentions[position - 2].end if position > 1 else 0
    word = _aggregate_word(q.lowers[start:table.start], AGGREGATE_WORDS.keys())
    return [AGGREGATE_WORDS[word]] if word else []


def _aggregate_word(gap: list[str], allowed: Iterable[str]) -> str | None:
    """The aggregate word that ends ``gap`` ("the sum of", "the average"), if any."""
    words = [w for w in gap if w not in ("of", "the", "all")]
    return words[-1] if words and words[-1] in allowed else None


def _names_its_column(q: Question, position: int) -> bool:
    """A table mention followed right away by a column mention ("payment amount", "singer's age")."""
    mention = q.mentions[position]
    following = q.mentions[position + 1] if position + 1 < len(q.mentions) else None
    if mention.kind != "table" or following is None or following.kind != "column":
        return False
    between = q.lowers[mention.end:following.start]
    return not between or between == ["'s"]


def _measure(table: TableEntry) -> ColumnEntry | None:
    """The table's one numeric, non-key column, or the one of several named like a measure."""
    numbers = [c for c in table.columns if c.kind == "number" and not c.is_key_like]
    if len(numbers) > 1:
        numbers = [c for c in numbers if set(c.words) & _MEASURE_WORDS]
    return numbers[0] if len(numbers) == 1 else None
