"""Reading a follow-up question: what it asks to change in the answer before it.

"only those in Berlin", "sort them by price", "cheapest first", "just the top 3", "how many are
there?", "what is the total amount?", "and last year?" each refine the previous question's SQL
rather than ask something new. :func:`read_follow_up` says which changes a question asks for, from
its words alone (no schema); the template generator then makes them on the previous SQL
(``prediction.template.followups``), and the ask pipeline lets no golden example answer such a
question on its own. A question that names what it wants in full ("How many orders were placed in
2024?") reads as no follow-up and is answered afresh.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from chatdb_server.generation.question_values import NUMBER_WORDS


class Change(StrEnum):
    """One change a follow-up asks for."""

    FILTER = "filter"
    """Keep only the rows with a value or within a bound ("only those in Berlin", "only those over 50")."""
    ORDER = "order"
    """Sort the rows ("sort them by price", "cheapest first")."""
    LIMIT = "limit"
    """Keep the first rows ("just the top 3")."""
    COUNT = "count"
    """Count the rows ("how many are there?")."""
    AGGREGATE = "aggregate"
    """Total, average, largest or smallest of a column over the rows ("what is the total amount?")."""
    PERIOD = "period"
    """The same question for another year ("and last year?", "what about 2023?")."""


@dataclass(frozen=True)
class FollowUp:
    """The changes a follow-up asks for, with what each needs."""

    changes: frozenset[Change]
    descending: bool | None = None
    """The order's direction, when the question says it (None: ascending unless a cue says otherwise)."""
    limit: int | None = None
    aggregate: str = ""
    """``SUM``, ``AVG``, ``MAX`` or ``MIN`` for AGGREGATE."""
    year_shift: int = 0
    """Years to move the previous question's period by (-1 for "last year")."""
    year: int | None = None
    """The year a PERIOD names ("what about 2023?"); None when it is relative."""
    comparison: tuple[str, float] | None = None
    """A FILTER's bound: (operator, number) of "over 50", "less than 20"."""
    price_cue: bool = False
    """"cheapest"/"most expensive": the order is by the rows' price or cost."""


_BACK_REFERENCE = re.compile(
    r"\b(those|these|them|they|ones|of them|among them|the same|that list|this list|such)\b")
_OPENER = re.compile(r"^(and|but|only|just|now|then|also|what about|how about|same|sort|order|show only|"
                     r"keep only|limit|filter)\b")
_COUNT = re.compile(r"^(and )?(how many (are|were|is|was) (there|they|those|these|left)\b|"
                    r"how many of (them|those|these)\b|count (them|those|these)\b|how many\??$)")
_AGGREGATES = {"total": "SUM", "sum": "SUM", "average": "AVG", "mean": "AVG", "avg": "AVG",
               "highest": "MAX", "largest": "MAX", "maximum": "MAX", "biggest": "MAX",
               "lowest": "MIN", "smallest": "MIN", "minimum": "MIN"}
_AGGREGATE = re.compile(r"^(and )?(what|what's|whats|show|give me|and)? ?(is |are |was )?(the |their |its )?"
                        r"(total|sum|average|mean|avg|highest|largest|maximum|biggest|lowest|smallest|minimum)"
                        r"\b(?! first)")
_SORT = re.compile(r"\b(sort|sorted|order|ordered|rank|ranked)\b(?: (?:them|those|these|it|the \w+|results?))?"
                   r"(?: by\b)?")
_FIRST = re.compile(r"\b(\w+(?: \w+)?) first\b")
_DESCENDING = re.compile(r"\b(descending|desc|most expensive|highest|largest|biggest|newest|latest|most recent|"
                         r"most|top|priciest|decreasing)\b")
_ASCENDING = re.compile(r"\b(ascending|asc|cheapest|lowest|smallest|oldest|earliest|least|increasing|"
                        r"alphabetical|alphabetically|a to z)\b")
_PRICE = re.compile(r"\b(cheapest|most expensive|least expensive|priciest|cheaper|pricier)\b")
_LIMIT = re.compile(r"\b(?:top|first|only|just|limit(?: to)?|show)\s+(?:the\s+)?(?:top\s+|first\s+)?"
                    r"(\d+|" + "|".join(NUMBER_WORDS) + r")\b")
_LAST_YEAR = re.compile(r"\b(last year|previous year|the year before|a year earlier|a year before|prior year)\b")
_NEXT_YEAR = re.compile(r"\b(next year|following year|the year after|a year later)\b")
_YEAR = re.compile(r"\b(?:in |for |about |of )?((?:19|20)\d{2})\b")
_COMPARISON = re.compile(r"\b(over|above|more than|greater than|at least|under|below|less than|fewer than|"
                         r"at most|cheaper than)\s+\$?(\d+(?:\.\d+)?)\b")
_OPERATORS = {"over": ">", "above": ">", "more than": ">", "greater than": ">", "at least": ">=", "under": "<",
              "below": "<", "less than": "<", "fewer than": "<", "at most": "<=", "cheaper than": "<"}
_MAX_WORDS = 9
"""A longer question names what it wants in full and is answered afresh, unless it refers back."""


def read_follow_up(question: str) -> FollowUp | None:
    """The changes ``question`` asks of the answer before it, or None when it stands on its own."""
    text = _normalised(question)
    words = text.split()
    refers_back = bool(_BACK_REFERENCE.search(text)) or bool(_OPENER.match(text))
    if not refers_back and len(words) > _MAX_WORDS // 2 + 1 and not _COUNT.match(text):
        return None
    if len(words) > _MAX_WORDS and not _BACK_REFERENCE.search(text):
        return None
    changes: set[Change] = set()
    follow = _Reading()
    if _COUNT.match(text):
        changes.add(Change.COUNT)
    aggregate = _AGGREGATE.match(text)
    if aggregate and Change.COUNT not in changes:
        changes.add(Change.AGGREGATE)
        follow.aggregate = _AGGREGATES[aggregate.group(5)]
    _read_period(text, changes, follow)
    _read_order(text, changes, follow)
    limit = _LIMIT.search(text)
    if limit:
        number = limit.group(1)
        follow.limit = int(number) if number.isdigit() else NUMBER_WORDS[number]
        if follow.limit > 0:
            changes.add(Change.LIMIT)
    comparison = _COMPARISON.search(text)
    if comparison:
        follow.comparison = (_OPERATORS[comparison.group(1)], float(comparison.group(2)))
    if changes & {Change.ORDER, Change.LIMIT, Change.COUNT, Change.AGGREGATE, Change.PERIOD} and not comparison \
            and not _names_values(question, text):
        return follow.done(changes)
    if refers_back or comparison:
        changes.add(Change.FILTER)
    return follow.done(changes) if changes else None


@dataclass
class _Reading:
    descending: bool | None = None
    limit: int | None = None
    aggregate: str = ""
    year_shift: int = 0
    year: int | None = None
    comparison: tuple[str, float] | None = None
    price_cue: bool = False

    def done(self, changes: set[Change]) -> FollowUp:
        return FollowUp(frozenset(changes), self.descending, self.limit, self.aggregate, self.year_shift,
                        self.year, self.comparison, self.price_cue)


def _read_period(text: str, changes: set[Change], follow: _Reading) -> None:
    if _LAST_YEAR.search(text):
        follow.year_shift = -1
    elif _NEXT_YEAR.search(text):
        follow.year_shift = 1
    else:
        year = _YEAR.search(text)
        if year and (text.startswith(("and ", "what about", "how about")) or len(text.split()) <= 4):
            follow.year = int(year.group(1))
    if follow.year_shift or follow.year is not None:
        changes.add(Change.PERIOD)


def _read_order(text: str, changes: set[Change], follow: _Reading) -> None:
    sort = _SORT.search(text)
    first = _FIRST.search(text)
    if not sort and not first and not _LIMIT.search(text):
        return
    if _DESCENDING.search(text):
        follow.descending = True
    elif _ASCENDING.search(text):
        follow.descending = False
    follow.price_cue = bool(_PRICE.search(text))
    if sort or first or (follow.descending is not None and _LIMIT.search(text)):
        changes.add(Change.ORDER)
        if follow.descending is None and _LIMIT.search(text) and "top" in text.split():
            follow.descending = True


def _names_values(question: str, text: str) -> bool:
    """Whether the question names a value to keep the rows by: a capitalised word after the first, or quotes."""
    words = question.split()
    capitalised = any(w[:1].isupper() for w in words[1:] if w.strip("?.!,'\"").isalpha())
    return capitalised or "'" in question or '"' in question or bool(re.search(r"\b(with|from|in|where)\b", text))


def _normalised(question: str) -> str:
    text = question.casefold().replace("\u2019", "'").strip()
    text = re.sub(r"[?!.]+$", "", text)
    return re.sub(r"\s+", " ", re.sub(r"[,;:]", " ", text)).strip()
