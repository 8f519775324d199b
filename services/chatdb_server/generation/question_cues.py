"""The words of a question that decide the shape of its SQL: counting, averaging, grouping, extremes and
their direction, negation, sorting, both/either. Two questions that differ in these ask different things
however close their embeddings ("How many singers are there?" and "How many singers are from each
country?"), so a golden example answers a question only when their cues agree."""

from __future__ import annotations

import re

from chatdb_server.generation.question_values import APOSTROPHE, tokenize

COUNT, AVERAGE, GROUP, EXTREME, HIGH, LOW, NEGATION, ORDER, BOTH, EITHER = (
    "count", "average", "group", "extreme", "high", "low", "negation", "order", "both", "either")

_PHRASES: dict[str, tuple[str, ...]] = {
    COUNT: ("how many", "count", "counts", "number of"),
    AVERAGE: ("average", "averages", "mean", "avg"),
    GROUP: ("each", "per"),
    HIGH: ("most", "highest", "largest", "greatest", "maximum", "max", "biggest", "top", "longest", "heaviest",
           "more than any"),
    LOW: ("least", "lowest", "smallest", "fewest", "minimum", "min", "shortest", "lightest", "cheapest"),
    EXTREME: ("oldest", "youngest", "earliest", "latest", "newest", "best", "worst", "most recent"),
    NEGATION: ("not", "no", "never", "without", "except", "excluding", "other than", "n't", "none"),
    ORDER: ("order", "ordered", "sort", "sorted", "ascending", "descending", "alphabetical", "alphabetically"),
    BOTH: ("both",),
    EITHER: ("either",),
}
_PATTERNS = {cue: re.compile(r"\b(?:" + "|".join(re.escape(p) for p in phrases) + r")\b") for cue, phrases
             in _PHRASES.items()}


def cues(question: str) -> frozenset[str]:
    """The shape cues ``question`` holds; HIGH and LOW also count as EXTREME."""
    text = " ".join(t.text.casefold().replace(APOSTROPHE, "'") for t in tokenize(question))
    text = re.sub(r"(\w)n't\b", r"\1 n't", text)
    found = {cue for cue, pattern in _PATTERNS.items() if pattern.search(text)}
    if found & {HIGH, LOW}:
        found.add(EXTREME)
    return frozenset(found)


def same_shape(question: str, other: str) -> bool:
    """Whether the two questions hold the same cues (an undirected extreme agrees with either direction)."""
    mine, theirs = cues(question), cues(other)
    if any(EXTREME in found and not found & {HIGH, LOW} for found in (mine, theirs)):
        mine, theirs = mine - {HIGH, LOW}, theirs - {HIGH, LOW}
    return mine == theirs
