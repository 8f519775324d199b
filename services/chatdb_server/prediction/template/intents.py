"""Cue words that say what a question wants: counts, aggregates, superlatives, order, comparisons.

Each helper looks at token lemmas only; the reader decides what the cues apply to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from chatdb_server.prediction.template.plan import Aggregate, Operator
from chatdb_server.prediction.template.words import Token

AGGREGATE_WORDS: dict[str, Aggregate] = {
    "average": "avg", "mean": "avg", "avg": "avg", "total": "sum", "sum": "sum", "combined": "sum",
    "maximum": "max", "max": "max", "minimum": "min", "min": "min",
}
#: Extremes: as an aggregate ("the highest age") or a superlative ("the singer with the highest age").
EXTREME_WORDS: dict[str, bool] = {
    "highest": True, "largest": True, "biggest": True, "greatest": True, "most": True, "maximum": True,
    "max": True, "top": True, "lowest": False, "smallest": False, "least": False, "fewest": False,
    "minimum": False, "min": False,
}

#: Superlative adjectives that imply the column: word → (words naming the column, descending).
IMPLIED_SUPERLATIVES: dict[str, tuple[tuple[str, ...], bool]] = {
    "oldest": (("age", "old"), True), "youngest": (("age", "young"), False),
    "tallest": (("height", "tall"), True), "shortest": (("height", "length", "duration"), False),
    "heaviest": (("weight",), True), "lightest": (("weight",), False),
    "longest": (("length", "duration", "time"), True), "cheapest": (("price", "cost"), False),
    "latest": (("date", "year", "time"), True), "newest": (("date", "year", "time"), True),
    "earliest": (("date", "year", "time"), False), "recent": (("date", "year", "time"), True),
    "richest": (("money", "worth", "wealth", "earning"), True), "fastest": (("speed",), True),
    "slowest": (("speed",), False), "expensive": (("price", "cost"), True), "largest": (("size", "area"), True),
    "biggest": (("size", "area"), True), "smallest": (("size", "area"), False), "best": (("rank", "score"), False),
}

#: Comparatives that imply the column: word → (words naming the column, operator).
IMPLIED_COMPARATIVES: dict[str, tuple[tuple[str, ...], Operator]] = {
    "older": (("age",), ">"), "younger": (("age",), "<"), "taller": (("height",), ">"),
    "shorter": (("height",), "<"), "heavier": (("weight",), ">"), "lighter": (("weight",), "<"),
    "cheaper": (("price", "cost"), "<"), "longer": (("length", "duration"), ">"),
}

_COMPARATORS: list[tuple[tuple[str, ...], Operator]] = [
    (("at", "least"), ">="), (("no", "less", "than"), ">="), (("not", "less", "than"), ">="),
    (("or", "after"), ">="), (("or", "later"), ">="), (("or", "above"), ">="), (("or", "higher"), ">="),
    (("or", "older"), ">="), (("or", "before"), "<="), (("or", "earlier"), "<="), (("or", "below"), "<="),
    (("or", "lower"), "<="), (("or", "younger"), "<="),
    (("at", "most"), "<="), (("no", "more", "than"), "<="), (("not", "more", "than"), "<="),
    (("or", "more"), ">="), (("or", "greater"), ">="), (("or", "less"), "<="), (("or", "fewer"), "<="),
    (("more", "than"), ">"), (("greater", "than"), ">"), (("larger", "than"), ">"), (("bigger", "than"), ">"),
    (("higher", "than"), ">"), (("longer", "than"), ">"), (("older", "than"), ">"), (("taller", "than"), ">"),
    (("heavier", "than"), ">"), (("later", "than"), ">"), (("over",), ">"), (("above",), ">"),
    (("exceeding",), ">"), (("exceed",), ">"), (("after",), ">"), (("since",), ">="),
    (("less", "than"), "<"), (("fewer", "than"), "<"), (("smaller", "than"), "<"), (("lower", "than"), "<"),
    (("shorter", "than"), "<"), (("younger", "than"), "<"), (("earlier", "than"), "<"),
    (("lighter", "than"), "<"), (("cheaper", "than"), "<"), (("below",), "<"), (("under",), "<"),
    (("before",), "<"), (("equal", "to"), "="), (("exactly",), "="),
]

_NEGATED: dict[Operator, Operator] = {">": "<=", "<": ">=", ">=": "<", "<=": ">"}

COUNT_PHRASES: list[tuple[str, ...]] = [("how", "many"), ("number", "of"), ("count", "of"), ("count",),
                                        ("how", "much")]
GROUP_WORDS = frozenset({"each", "per", "every"})
ORDER_WORDS = frozenset({"order", "ordered", "sort", "sorted", "sorting", "ordering", "rank", "ranked",
                         "arrange", "arranged"})
DESCENDING_WORDS = frozenset({"descending", "decreasing", "desc", "reverse", "descend"})
ASCENDING_WORDS = frozenset({"ascending", "increasing", "alphabetical", "alphabetically", "asc", "lexicographic"})
NEGATION_WORDS = frozenset({"not", "no", "never", "without", "except", "excluding", "nor"})
DISTINCT_WORDS = frozenset({"distinct", "different", "unique"})
CONDITION_WORDS = frozenset({"who", "whose", "that", "which", "where", "with", "having", "has", "have", "had",
                             "whom", "when", "than", "without", "except", "if", "whereas", "while"})
ALL_COLUMNS_WORDS = frozenset({"information", "info", "detail", "details", "everything", "attribute"})
FREQUENCY_WORDS = frozenset({"common", "frequent", "popular", "often"})


def is_negation(token: Token) -> bool:
    return token.lower in NEGATION_WORDS or token.lower.endswith("n't")


@dataclass(frozen=True)
class Comparison:
    """A comparator found at [start, end)."""

    start: int
    end: int
    operator: Operator
    implied: tuple[str, ...] = ()


_FILLER = frozenset({"the", "a", "an", "of", "than", "year", "is", "are", "was", "were", "to", "by", "in", "just"})


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
                if phrase == ("number", "of") and i > 0 and lemmas[i - 1] in ("average", "maximum", "minimum",
                                                                               "max", "min", "largest",
                                                                               "smallest", "highest", "lowest",
                                                                               "most", "least", "greatest"):
                    continue
                return i + len(phrase)
    return None


Direction = Literal["asc", "desc"]


def order_direction(lemmas: Sequence[str]) -> bool | None:
    """True for descending, False for ascending, None when the question does not say."""
    words = set(lemmas)
    if words & DESCENDING_WORDS:
        return True
    if words & ASCENDING_WORDS:
        return False
    text = " ".join(w for w in lemmas if w not in ("the", "a", "an"))
    for phrase, descending in (("from highest", True), ("from largest", True), ("from most", True),
                               ("from oldest to youngest", True), ("from youngest to oldest", False),
                               ("from lowest", False), ("from smallest", False), ("from least", False),
                               ("high to low", True), ("low to high", False), ("largest first", True),
                               ("biggest first", True), ("smallest first", False), ("oldest to newest", False),
                               ("newest to oldest", True), ("most to least", True), ("least to most", False),
                               ("old to young", True), ("young to old", False), ("oldest first", True),
                               ("youngest first", False), ("z to a", True), ("a to z", False)):
        if phrase in text:
            return descending
    return None
