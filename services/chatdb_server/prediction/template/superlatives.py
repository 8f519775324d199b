"""Ordering and superlatives: "sorted by price", "the singer with the highest age", "the oldest
dog", "the most common city", "the customer with the most orders"."""

from __future__ import annotations

from chatdb_server.prediction.template.intents import (
    AGGREGATE_WORDS,
    CONDITION_WORDS,
    EXTREME_WORDS,
    FREQUENCY_WORDS,
    IMPLIED_SUPERLATIVES,
    ORDER_WORDS,
    order_direction,
)
from chatdb_server.prediction.template.linking import Mention
from chatdb_server.prediction.template.plan import Ordering, Output
from chatdb_server.prediction.template.question import Question
from chatdb_server.prediction.template.schema_index import ColumnEntry
from chatdb_server.prediction.template.state import ReadingState
from chatdb_server.prediction.template.vocabulary import entry, word_set

#: Words that tie a superlative to what it picks ("the singer *with* the highest age").
_SUPERLATIVE_LINKS = CONDITION_WORDS | word_set("cues", "superlative_links_extra")
#: Words that rank rows by what follows "by" ("the top 5 products by price").
_RANKING_WORDS = word_set("cues", "ranking_words")
#: Extremes that, before a table, ask for the row with the most or fewest related rows.
_COUNT_EXTREMES: tuple[str, ...] = tuple(entry("cues", "count_extremes"))


def orders_by_column(q: Question, mention: Mention, words: set[str]) -> bool:
    """"sorted *by* age", "in order of age", "the top 5 products *by* price": the column mention
    names the sort key."""
    earlier = set(q.lowers[:mention.start])
    if "by" in words and earlier & _RANKING_WORDS:
        return True
    return bool(words & ORDER_WORDS or earlier & ORDER_WORDS) and ("by" in words or "of" in words or "order" in words)


def order_by_column(q: Question, mention: Mention, column: ColumnEntry, state: ReadingState) -> None:
    """ORDER BY ``column`` in the direction the question states: ascending when it says none, but
    descending for "the top N ... by" (and ascending for "the bottom N ... by"). A total of another
    table's column ("customers by total amount of orders") orders by its sum."""
    direction = order_direction(q.lowers)
    if direction is None:
        earlier = set(q.lowers[:mention.start]) & _RANKING_WORDS
        direction = "top" in earlier
    # "customers by total amount of orders": the total of each subject row's related rows.
    subject = state.subject_guess(q.mentioned_tables)
    summed = q.names_a_total(mention, column) and subject is not None and column.table is not subject
    state.order.append(Ordering(Output(column, "sum" if summed else None), direction))


def most_frequent(words: set[str]) -> bool | None:
    """"the most common city" (True) or "the least frequent" (False); None when the words ask neither."""
    if (words & FREQUENCY_WORDS and "most" in words) or ("least" in words and words & FREQUENCY_WORDS):
        return "most" in words
    return None


def column_superlative(q: Question, gap: list[str], prior: bool) -> str | None:
    """The extreme word that makes a column a superlative ("the singer with the *highest* age").

    Only after something else was named (``prior``), and — for words that are also aggregates
    ("maximum") — only in the reading that prefers superlatives."""
    word = next((w for w in gap if w in EXTREME_WORDS), None)
    if word is not None and prior and set(gap) & _SUPERLATIVE_LINKS and (
            word not in AGGREGATE_WORDS or q.choices.aggregate_as_superlative):
        return word
    return None


def order_by_superlative(column: ColumnEntry, word: str, state: ReadingState) -> None:
    """The row (or the top N, when a limit was read) with the extreme ``column``."""
    state.order.append(Ordering(Output(column), EXTREME_WORDS[word]))
    state.limit = state.limit or 1
    state.notes.append(f"the row with the {word} {column.name}")


def table_superlative(gap: list[str]) -> bool | None:
    """"the most orchestras" before a table: order by the count of its rows, descending (True) or not."""
    extreme = next((w for k, w in enumerate(gap) if w in _COUNT_EXTREMES
                    and not (k + 1 < len(gap) and gap[k + 1] in IMPLIED_SUPERLATIVES)), None)
    if extreme is None:
        return None
    return EXTREME_WORDS.get(extreme, True)


def read_implied_superlative(q: Question, state: ReadingState) -> None:
    """"the oldest dog", "the most expensive product": a superlative adjective that implies its column."""
    if state.order:
        return
    for i, lower in enumerate(q.lowers):
        if lower not in IMPLIED_SUPERLATIVES:
            continue
        if i + 1 < len(q.lowers) and any(m.start == i + 1 and m.kind == "column" for m in q.mentions):
            continue
        if any(m.start <= i < m.end and m.kind in ("table", "column") for m in q.mentions):
            continue  # part of a name: "the best times" of a column ``best_time``
        words, descending = IMPLIED_SUPERLATIVES[lower]
        if lower == "recent" and (i == 0 or q.lowers[i - 1] != "most"):
            continue
        if lower == "expensive" and (i == 0 or q.lowers[i - 1] not in ("most", "least")):
            continue
        if lower == "expensive" and q.lowers[i - 1] == "least":
            descending = False
        column = q.find_column(words)
        if column is None and lower in ("oldest", "youngest"):
            column = q.find_column(("birth", "born", "date", "year"))
            descending = lower == "youngest"
        if column is None:
            continue
        state.order.append(Ordering(Output(column), descending))
        state.limit = state.limit or 1
        state.notes.append(f"the {lower} by {column.name}")
        state.fire("implied-superlative")
        return


#: Words that name how often a value occurs, as a sort key ("sorted by their frequency", "in order of count").
_FREQUENCY_KEYS = frozenset({"frequency", "count"})


def read_frequency_order(q: Question, state: ReadingState) -> None:
    """"the categories, sorted by their frequency": with nothing else ordered, rows are grouped by
    what is shown and sorted by how many there are of each (ascending unless the question says)."""
    if state.order or state.count_superlative is not None or any(o.aggregate for o in state.outputs):
        return
    order_at = next((i for i, w in enumerate(q.lowers) if w in ORDER_WORDS), None)
    if order_at is None or not set(q.lowers[order_at + 1:]) & _FREQUENCY_KEYS:
        return
    if not any(o.column is not None for o in state.outputs):
        return
    state.order.append(Ordering(Output(None, "count"), bool(order_direction(q.lowers))))
    state.notes.append("sorted by how often each occurs")
    state.fire("order-by-frequency")


def stated_order(q: Question, outputs: list[Output]) -> Ordering | None:
    """"... in alphabetical order", "sorted descending" with no key named: order by the first plain output."""
    if order_direction(q.lowers) is None or not set(q.lowers) & (ORDER_WORDS | {"alphabetical", "alphabetically"}):
        return None
    first_plain = next((o for o in outputs if o.column is not None and o.aggregate is None), None)
    if first_plain is None:
        return None
    return Ordering(first_plain, bool(order_direction(q.lowers)))
