"""An answer in one plain-language sentence, built from its rows and its SQL's shape.

"There are 120 customers.", "Manchester has the most customers: 12.", "The average price of products is
45.20.", "18 products match; the first are A, B and C." Every value in the sentence is one of the rows'
cells (or their number); the SQL's shape (COUNT, AVG, SUM, MIN/MAX, GROUP BY, ORDER BY ... LIMIT 1) only
chooses the words. When the rows say nothing a sentence can, the text is empty.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from chatdb_server.query.domain import Row, Rows
from chatdb_server.query.sql_shape import SqlShape
from chatdb_server.sql.values import ResultColumn

NUMERIC_TYPES = frozenset({"INTEGER", "DOUBLE", "DECIMAL"})
LISTED = 3
"""Values a list's sentence names."""
MAX_VALUE_CHARS = 60
"""A longer cell is cut (with an ellipsis) in the sentence."""
_AGGREGATE_WORDS = {"AVG": "average", "SUM": "total", "MIN": "lowest", "MAX": "highest"}
LOW_CONFIDENCE_TEXT = "I could not answer this reliably."


def answer_text(rows: Rows, shape: SqlShape) -> str:
    """The sentence for ``rows`` read by SQL of ``shape``; empty when no sentence fits."""
    columns, cells = rows.columns, rows.rows
    if not columns:
        return ""
    noun = _words(shape.table) or "rows"
    if not cells:
        return f"No {noun} match the question."
    if len(cells) == 1 and len(columns) == 1:
        return _single_value(columns[0], cells[0][0], shape, noun)
    if (len(columns) == 2 and shape.grouped) or (len(cells) == 1 and shape.limit == 1 and len(columns) == 2):
        sentence = _top_group(columns, cells, shape, noun, complete=not rows.truncated)
        if sentence:
            return sentence
    if len(cells) == 1:
        return _single_row(columns, cells[0], shape, noun)
    return _listing(columns, cells, noun, truncated=rows.truncated)


def _single_value(column: ResultColumn, value: Any, shape: SqlShape, noun: str) -> str:
    aggregate = shape.aggregate_of(0)
    if aggregate == "COUNT" and isinstance(value, int):
        counted = f"distinct {_plural(_words(shape.columns[0].argument))}" if shape.columns[0].distinct and \
            shape.columns[0].argument else noun
        return f"There is 1 {_singular(counted)}." if value == 1 else f"There are {_show(value)} {counted}."
    if aggregate in _AGGREGATE_WORDS and shape.columns[0].argument:
        what = _aggregate_words(aggregate, shape.columns[0].argument)
        return f"The {what} of {noun} is {_show(value)}." if shape.table else f"The {what} is {_show(value)}."
    if shape.limit == 1 and shape.order_column and shape.order_descending is not None:
        return _ordered_first(value, shape, noun)
    return f"The {_words(column.name)} is {_show(value)}."


def _ordered_first(value: Any, shape: SqlShape, noun: str) -> str:
    """The one value of ``ORDER BY ... LIMIT 1``: "The product with the highest price is Widget.", or for a
    group ordered by an aggregate "Manchester has the most customers." """
    highest = bool(shape.order_descending)
    extreme = "highest" if highest else "lowest"
    if shape.order_column == "COUNT":
        return f"{_show(value)} has the {'most' if highest else 'fewest'} {noun}."
    if shape.order_column in _AGGREGATE_WORDS:
        if not shape.order_argument:
            return f"The answer is {_show(value)}."
        measure = _words(shape.order_argument) if shape.order_column in ("MIN", "MAX") else \
            _aggregate_words(shape.order_column, shape.order_argument)
        return f"{_show(value)} has the {extreme} {measure}."
    return f"The {_singular(noun)} with the {extreme} {_words(shape.order_column)} is {_show(value)}."


def _top_group(columns: Sequence[ResultColumn], cells: Sequence[Row], shape: SqlShape, noun: str, *,
               complete: bool) -> str:
    """"Manchester has the most customers: 12." for a label and a measure, grouped or ordered to one row."""
    numeric = [i for i, c in enumerate(columns) if c.value_type in NUMERIC_TYPES]
    if len(numeric) != 1:
        return ""
    measure = numeric[0]
    label = 1 - measure
    if len(cells) == 1 and shape.order_descending is not None:
        highest = shape.order_descending
        top = [cells[0]]
    elif complete and len(cells) > 1:
        present = [r for r in cells if r[measure] is not None]
        if not present:
            return ""
        highest = True
        best = max(r[measure] for r in present)
        top = [r for r in present if r[measure] == best]
    else:
        return ""
    if shape.aggregate_of(measure) == "COUNT":
        amount = f"the {'most' if highest else 'fewest'} {noun}"
    else:
        amount = f"the {'highest' if highest else 'lowest'} {_measure_words(columns[measure], shape, measure)}"
    value = _show(top[0][measure])
    if len(top) == 1:
        return f"{_show(top[0][label])} has {amount}: {value}."
    if len(top) <= LISTED:
        return f"{_join([_show(r[label]) for r in top])} have {amount}: {value} each."
    return f"{len(top)} {_plural(_words(columns[label].name))} share {amount}: {value} each."


def _single_row(columns: Sequence[ResultColumn], row: Row, shape: SqlShape, noun: str) -> str:
    parts = [f"{_words(c.name)} {_show(v)}" for c, v in zip(columns[:4], row, strict=False)]
    lead = f"The {_singular(noun)} found has " if shape.table else "The result has "
    return lead + _join(parts) + "."


def _listing(columns: Sequence[ResultColumn], cells: Sequence[Row], noun: str, *, truncated: bool) -> str:
    label = next((i for i, c in enumerate(columns) if c.value_type not in NUMERIC_TYPES), 0)
    names = list(dict.fromkeys(_show(row[label]) for row in cells))[:LISTED]
    count = f"At least {_show(len(cells))}" if truncated else _show(len(cells))
    first = f"the first is {names[0]}" if len(names) == 1 else f"the first are {_join(names)}"
    return f"{count} {noun} match; {first}."


def _measure_words(column: ResultColumn, shape: SqlShape, index: int) -> str:
    aggregate = shape.aggregate_of(index)
    argument = shape.columns[index].argument if index < len(shape.columns) else ""
    if aggregate in ("MIN", "MAX") and argument:
        return _words(argument)  # the sentence says "highest" or "lowest" itself
    if aggregate in _AGGREGATE_WORDS and argument:
        return _aggregate_words(aggregate, argument)
    return _words(column.name)


def _aggregate_words(aggregate: str, argument: str) -> str:
    """"average price", "total amount"; "total" alone for SUM(total)."""
    word, words = _AGGREGATE_WORDS[aggregate], _words(argument)
    return words if words.startswith(word) else f"{word} {words}"


def _show(value: Any) -> str:
    """A cell as the sentence writes it."""
    if value is None:
        return "nothing (NULL)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float | Decimal):
        return f"{value:,.2f}"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="minutes") if value.time() != dt.time() else value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"({len(value)} bytes)"
    text = str(value)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS - 1] + "…"


def _words(name: str) -> str:
    """A table or column name as words: "order_items" → "order items"."""
    return name.rsplit(".", 1)[-1].replace("_", " ").strip().lower()


def _singular(noun: str) -> str:
    if noun.endswith("ies"):
        return noun[:-3] + "y"
    if noun.endswith("s") and not noun.endswith("ss"):
        return noun[:-1]
    return noun


def _plural(noun: str) -> str:
    if not noun or noun.endswith("s"):
        return noun
    return noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else noun + "s"


def _join(parts: Sequence[str]) -> str:
    """"A", "A and B", "A, B and C"."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
