"""Cue words that say what a question wants: counts, aggregates, superlatives, order, comparisons.

Each helper looks at token lemmas only; the reader decides what the cues apply to. The word lists
are data: ``lexicon/intents.json``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from chatdb_server.prediction.template.plan import Aggregate, Operator
from chatdb_server.prediction.template.vocabulary import entry, phrases, word_set
from chatdb_server.prediction.template.words import Token

AGGREGATE_WORDS: dict[str, Aggregate] = dict(entry("intents", "aggregate_words"))
#: Extremes: as an aggregate ("the highest age") or a superlative ("the singer with the highest age").
EXTREME_WORDS: dict[str, bool] = dict(entry("intents", "extreme_words"))

#: Superlative adjectives that imply the column: word → (words naming the column, descending).
IMPLIED_SUPERLATIVES: dict[str, tuple[tuple[str, ...], bool]] = {
    k: (tuple(v["columns"]), v["descending"]) for k, v in entry("intents", "implied_superlatives").items()}

#: Comparatives that imply the column: word → (words naming the column, operator).
IMPLIED_COMPARATIVES: dict[str, tuple[tuple[str, ...], Operator]] = {
    k: (tuple(v["columns"]), v["operator"]) for k, v in entry("intents", "implied_comparatives").items()}

#: Comparator phrases, tried in file order (longer phrases first where they overlap).
_COMPARATORS: list[tuple[tuple[str, ...], Operator]] = [
    (tuple(c["phrase"].split()), c["operator"]) for c in entry("intents", "comparators")]

_NEGATED: dict[Operator, Operator] = dict(entry("intents", "negated_operators"))

COUNT_PHRASES: list[tuple[str, ...]] = phrases("intents", "count_phrases")
#: Words before "number of" that make it no count ("the average number of ...").
_COUNT_BLOCKERS: tuple[str, ...] = tuple(entry("intents", "count_blocking_extremes"))
GROUP_WORDS = word_set("intents", "group_words")
ORDER_WORDS = word_set("intents", "order_words")
DESCENDING_WORDS = word_set("intents", "descending_words")
ASCENDING_WORDS = word_set("intents", "ascending_words")
NEGATION_WORDS = word_set("intents", "negation_words")
DISTINCT_WORDS = word_set("intents", "distinct_words")
CONDITION_WORDS = word_set("intents", "condition_words")
ALL_COLUMNS_WORDS = word_set("intents", "all_columns_words")
FREQUENCY_WORDS = word_set("intents", "frequency_words")


def is_negation(token: Token) -> bool:
    return token.lower in NEGATION_WORDS or token.lower.endswith("n't")


@dataclass(frozen=True)
class Comparison:
    """A comparator found at [start, end)."""

    start: int
    end: int
    operator: Operator
    implied: tuple[str, ...] = ()


_FILLER = word_set("intents", "comparison_filler")


def comparison_before(tokens: Sequence[Token], position: int, window: int = 4) -> Comparison | None:
    """The comparator ending just before ``position`` (a number), skipping filler words."""
    lemmas = [t.lower for t in tokens]
    for end in range(position, max(0, position - window) - 1, -1):
        for phrase, operator in _COMPARATORS:
            start = end - len(phrase)
            if start >= 0 and tuple(lemmas[start:end]) == phrase:
                implied = IMPLIED_COMPARATIVES.get(phrase[0], ((), operator))[0]
                if start > 0 and lemmas[start - 1] in ("not", "no") and operator in _NEGATED:
                    return Comparison(start - 1, end, _NEGATED[operator], implied)
                return Comparison(start, end, operator, implied)
        # Words between comparator and number other than filler end the search.
        if end < position and lemmas[end] not in _FILLER and tokens[end].number is None:
            break
    return None


def comparison_after(tokens: Sequence[Token], position: int) -> Operator | None:
    """A trailing "or more" / "or less" right after a number."""
    lemmas = tuple(t.lower for t in tokens[position:position + 3])
    for phrase, operator in _COMPARATORS:
        if phrase[0] == "or" and lemmas[:2] == phrase:
            return operator
        if phrase[0] == "or" and len(lemmas) == 3 and lemmas[1:3] == phrase:
            return operator
    return None


def count_cue_end(tokens: Sequence[Token], named: set[int] | frozenset[int] = frozenset()) -> int | None:
    """Token index just after "how many" / "number of" / "count", when the question asks for a count.

    ``named`` holds token positions inside schema-name mentions: "number of products" naming a
    column ``number_products`` is not a count.
    """
    lemmas = [t.lower for t in tokens]
    for i in range(len(lemmas)):
        if i in named:
            continue
        for phrase in COUNT_PHRASES:
            if tuple(lemmas[i:i + len(phrase)]) == phrase:
                if phrase == ("how", "much"):
                    return None
                if phrase == ("number", "of") and i > 0 and lemmas[i - 1] in _COUNT_BLOCKERS:
                    continue
                return i + len(phrase)
    return None


Direction = Literal["asc", "desc"]
#: Phrases that state a direction without "ascending" or "descending", tried in file order.
_DIRECTION_PHRASES: list[tuple[str, bool]] = [
    (d["phrase"], d["descending"]) for d in entry("intents", "direction_phrases")]


def order_direction(lemmas: Sequence[str]) -> bool | None:
    """True for descending, False for ascending, None when the question does not say."""
    words = set(lemmas)
    if words & DESCENDING_WORDS:
        return True
    if words & ASCENDING_WORDS:
        return False
    text = " ".join(w for w in lemmas if w not in ("the", "a", "an"))
    for phrase, descending in _DIRECTION_PHRASES:
        if phrase in text:
            return descending
    return None
