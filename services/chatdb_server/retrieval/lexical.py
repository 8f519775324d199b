"""The lexical bonus: the question's words found in table and column names, added to the cosine.

Embeddings rank by overall meaning; a question that names a table or a column outright should
also lift that table. Each question word scores a table:

- 2 where it is a word of the table's name, and 2 more when the question holds every word of
  that name ("orders" names ``orders`` wholly, ``order_items`` only in part);
- 1 where it is a word of one of its column names, or ½ where that word names another table of
  the source (``customer_id`` in ``reviews`` points at ``customers``; it says little of reviews).

The sum is scaled by ``weight / (2 * question words)``. Measured on Spider dev (``tests/bench/
retrieval_recall.py``): the bonus is worth 0.5 to 1 point of recall@3.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from chatdb_server.retrieval.words import content_words, identifier_words

TABLE_WORD = 2.0
WHOLE_TABLE_NAME = 2.0
COLUMN_WORD = 1.0
OTHER_TABLE_IN_COLUMN = 0.5


@dataclass(frozen=True)
class NameWords:
    """Word lookups over rows of (table name, column names), built once per set of tables."""

    weights: dict[str, tuple[np.ndarray, np.ndarray]]
    """Word → (rows whose names hold it, its weight in each)."""
    in_table_names: dict[str, np.ndarray]
    """Word → rows whose table name holds it."""
    table_name_sizes: np.ndarray
    """Content words in each row's table name."""

    @property
    def count(self) -> int:
        """Rows."""
        return len(self.table_name_sizes)


def name_words(tables: Sequence[tuple[str, Sequence[str]]], other_tables: Collection[str] = ()) -> NameWords:
    """The lookups over ``tables``, (table name, column names) rows; ``other_tables`` adds names of the
    source's tables that are not rows here (a column word naming one of them weighs ½ too)."""
    table_words = [_words(table) for table, _ in tables]
    named = set().union(*table_words, *(_words(t) for t in other_tables))
    weights: dict[str, dict[int, float]] = {}
    in_names: dict[str, list[int]] = {}
    for row, ((_, columns), own) in enumerate(zip(tables, table_words, strict=True)):
        for word in _words(" ".join(columns)):
            other_table = word in named and word not in own
            weights.setdefault(word, {})[row] = OTHER_TABLE_IN_COLUMN if other_table else COLUMN_WORD
        for word in own:
            rows = weights.setdefault(word, {})
            rows[row] = rows.get(row, 0.0) + TABLE_WORD
            in_names.setdefault(word, []).append(row)
    return NameWords(
        weights={word: (np.fromiter(rows, dtype=np.intp, count=len(rows)),
                        np.fromiter(rows.values(), dtype=np.float32, count=len(rows)))
                 for word, rows in weights.items()},
        in_table_names={word: np.array(rows, dtype=np.intp) for word, rows in in_names.items()},
        table_name_sizes=np.array([len(own) for own in table_words], dtype=np.intp))


def lexical_bonus(question: str, words: NameWords, weight: float) -> np.ndarray:
    """Per row of ``words``: the bonus of ``question``'s words (zeros when ``weight`` is 0)."""
    bonus = np.zeros(words.count, dtype=np.float32)
    asked = content_words(question) if weight else set()
    if not asked:
        return bonus
    matched = np.zeros(words.count, dtype=np.intp)
    for word in asked:
        found = words.weights.get(word)
        if found is not None:
            np.add.at(bonus, found[0], found[1])
        rows = words.in_table_names.get(word)
        if rows is not None:
            matched[rows] += 1
    whole = (matched == words.table_name_sizes) & (words.table_name_sizes > 0)
    bonus[whole] += np.float32(WHOLE_TABLE_NAME)
    return bonus * np.float32(weight / (2 * len(asked)))


def _words(name: str) -> set[str]:
    return content_words(" ".join(identifier_words(name)))
