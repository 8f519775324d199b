"""Numbers in a question: a row limit ("the top 5"), a range ("between 20 and 50"), a comparison
with a column ("older than 30", a year against a date column), or a count of related rows
("with more than 2 orders", which becomes HAVING)."""

from __future__ import annotations

from chatdb_server.prediction.template import costs
from chatdb_server.prediction.template.intents import (
    AGGREGATE_WORDS,
    EXTREME_WORDS,
    GROUP_WORDS,
    IMPLIED_SUPERLATIVES,
    comparison_after,
    comparison_before,
)
from chatdb_server.prediction.template.linking import Mention
from chatdb_server.prediction.template.plan import Condition, Literal_, Operator
from chatdb_server.prediction.template.question import Question
from chatdb_server.prediction.template.schema_index import ColumnEntry, TableEntry
from chatdb_server.prediction.template.state import ReadingState
from chatdb_server.prediction.template.vocabulary import word_set

#: Words after which a number says how many rows are wanted ("which 3 customers", "the 5 products").
_ROW_COUNT_LEADS = word_set("cues", "row_count_leads")


def read_number(q: Question, position: int, mention: Mention, state: ReadingState) -> None:
    """The role of the number mention at ``position``."""
    assert mention.number is not None
    start = mention.start
    before = q.lowers[max(0, start - 2):start]
    after = q.lowers[mention.end:mention.end + 2]
    if start in state.used_numbers:
        return
    if (before and before[-1] in ("top", "first")) or (after and after[0] in EXTREME_WORDS) or (
            after and after[0] in IMPLIED_SUPERLATIVES):
        state.limit = int(mention.number)
        state.fire("top-n")
        return
    if before and before[-1] == "between":
        following = next((m for m in q.mentions[position + 1:] if m.kind == "number"), None)
        if following is not None and following.number is not None:
            state.used_numbers.add(following.start)
            after_pair = q.mentions.index(following) + 1
            counted = q.mentions[after_pair] if after_pair < len(q.mentions) else None
            if counted is not None and counted.kind == "table" and counted.start - following.end <= 1 and (
                    counts_related_rows(q, counted.best.table, state)):
                bounds = (int_if_whole(mention.number), int_if_whole(following.number))
                state.having.append(Condition(None, "between", bounds, "count"))
                state.context_tables.append(counted.best.table)
                state.fire("count-between")
                return
            column = _number_column(q, position, mention, None)
            if column is not None:
                low, high = _year_bounds(column, mention.number, following.number)
                state.conditions.append(Condition(column, "between", (low, high)))
                state.notes.append(f"{column.name} between {low} and {high}")
                state.fire("number-between")
            return
    comparison = comparison_before(q.tokens, start)
    operator: Operator | None = comparison.operator if comparison else comparison_after(q.tokens, mention.end)
    following = q.mentions[position + 1] if position + 1 < len(q.mentions) else None
    if following is not None and following.kind == "table" and following.start - mention.end <= 2 and (
            counts_related_rows(q, following.best.table, state)):
        state.having.append(Condition(None, operator or "=", (int_if_whole(mention.number),), "count"))
        state.context_tables.append(following.best.table)
        state.notes.append(f"having {operator or '='} {int_if_whole(mention.number)} {following.best.table.name}")
        state.fire("having-count")
        return
    if operator is None and _counts_rows_asked(q, position, mention):
        state.limit = int(mention.number)
        state.notes.append(f"the first {state.limit}")
        state.fire("first-n-rows")
        return
    implied = comparison.implied if comparison else ()
    column = _number_column(q, position, mention, implied)
    if column is None:
        if operator is not None:
            state.penalty += costs.NUMBER_NOT_PLACED
            state.notes.append(f"could not place number {mention.text}")
            state.fire("number-not-placed")
        return
    if operator is None:
        operator = "="
    if _compares_group_aggregate(q, position, column, operator, mention.number, state):
        return
    start_of_phrase = comparison.start if comparison else mention.start
    if state.conditions and "or" in q.lowers[max(0, start_of_phrase - 2):start_of_phrase]:
        state.any_condition = True
    value = int_if_whole(mention.number)
    state.conditions.extend(date_aware(column, operator, value))
    state.notes.append(f"{column.name} {operator} {value}")
    state.fire("compare-number")


def _compares_group_aggregate(q: Question, position: int, column: ColumnEntry, operator: Operator, number: float,
                              state: ReadingState) -> bool:
    """"categories whose average price is above 20": in a grouped question (or one
    asking for a plain column beside the aggregate), a number compared with an aggregate of a column
    is a HAVING on that aggregate, not a filter of rows."""
    plain = any(o.column is not None and o.aggregate is None for o in state.outputs)
    if not (state.group_by or state.group_tables or plain or set(q.lowers) & GROUP_WORDS):
        return False
    for back in range(position - 1, max(-1, position - 4), -1):
        other = q.mentions[back]
        if other.kind != "column" or q.column_of(back) is not column:
            continue
        words = q.lowers[max(0, other.start - 2):other.start]
        aggregate = next((AGGREGATE_WORDS[w] for w in words if w in AGGREGATE_WORDS), None)
        if aggregate is None or aggregate == "count":
            return False
        value = int_if_whole(number)
        state.having.append(Condition(column, operator, (value,), aggregate))
        if other.start >= q.boundary:
            # Named among the conditions: compared, not shown.
            shown = [i for i, o in enumerate(state.outputs) if o.column is column and o.aggregate == aggregate]
            if shown:
                del state.outputs[shown[-1]]
        state.notes.append(f"having {aggregate}({column.name}) {operator} {value}")
        state.fire("having-aggregate")
        return True
    return False


def _counts_rows_asked(q: Question, position: int, mention: Mention) -> bool:
    """"Which 3 customers ...", "list 10 products": a whole number right before the name of what is
    asked for says how many rows to show (a year-like number does not)."""
    number = mention.number
    if number is None or not float(number).is_integer() or number < 1 or 1000 <= number <= 2100:
        return False
    following = q.mentions[position + 1] if position + 1 < len(q.mentions) else None
    if following is None or following.start != mention.end:
        return False
    if following.kind == "column" and q.column_of(position + 1).is_numeric:
        return False
    if following.kind not in ("table", "column"):
        return False
    return mention.start == 0 or q.lowers[mention.start - 1] in _ROW_COUNT_LEADS


def counts_related_rows(q: Question, table: TableEntry, state: ReadingState) -> bool:
    """"with more than 2 orchestras": rows of another table, or rows grouped by a selected column."""
    if state.count_subject is table or any(t is table for t in state.select_tables):
        return False
    plain = [o.column for o in state.outputs if o.column is not None and o.aggregate is None]
    return table is not state.subject_guess(q.mentioned_tables) or bool(plain)


def _number_column(q: Question, position: int, mention: Mention, implied: tuple[str, ...] | None
                   ) -> ColumnEntry | None:
    following = q.mentions[position + 1] if position + 1 < len(q.mentions) else None
    if following is not None and following.kind == "column" and following.start - mention.end <= 1:
        column = q.column_of(position + 1)
        if column.is_numeric:
            return column
    if implied:
        found = q.find_column(implied)
        if found is not None:
            return found
    for back in range(position - 1, max(-1, position - 4), -1):
        other = q.mentions[back]
        if other.kind == "column" and mention.start - other.end <= 6:
            column = q.column_of(back)
            if column.is_numeric:
                return column
    if 1000 <= (mention.number or 0) <= 2100:
        return _nearest_table_year(q, position) or q.find_column(("year", "date", "time"))
    return None


def _nearest_table_year(q: Question, position: int) -> ColumnEntry | None:
    """"customers who placed an order in 2020": a year goes with the table named last before it."""
    table = next((m.best.table for m in reversed(q.mentions[:position]) if m.kind == "table"), None)
    if table is None or q.graph.connect(q.mentioned_tables[0], [table]) is None:
        return None
    for word in ("year", "date", "time"):
        for column in table.columns:
            if word in column.words and column.is_numeric and not column.is_key_like:
                return column
    return None


def as_number(text: str) -> float | int | None:
    """``text`` as a number (an int when whole), or None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return int_if_whole(value)


def int_if_whole(value: float) -> float | int:
    """``value`` as an int when it has no fraction."""
    return int(value) if float(value).is_integer() else value


def _year_bounds(column: ColumnEntry, low: float, high: float) -> tuple[Literal_, Literal_]:
    if column.kind == "date" and 1000 <= low <= 2100 and 1000 <= high <= 2100:
        return f"{int(low)}-01-01", f"{int(high)}-12-31 23:59:59"
    return int_if_whole(low), int_if_whole(high)


def date_aware(column: ColumnEntry, operator: Operator, value: float | int) -> list[Condition]:
    """A year compared with a date column becomes a date range; anything else stays as it is."""
    if column.kind != "date" or not (1000 <= value <= 2100) or not float(value).is_integer():
        return [Condition(column, operator, (value,))]
    year = int(value)
    start, next_start = f"{year}-01-01", f"{year + 1}-01-01"
    if operator == "=":
        return [Condition(column, ">=", (start,)), Condition(column, "<", (next_start,))]
    if operator in (">", ">="):
        return [Condition(column, ">=", (next_start if operator == ">" else start,))]
    if operator in ("<", "<="):
        return [Condition(column, "<", (start if operator == "<" else next_start,))]
    return [Condition(column, operator, (value,))]
