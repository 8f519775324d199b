"""The values a plain-language question names: its words as tokens with offsets, and the spans that
look like values (numbers, dates, quoted text, capitalised names, known sample values).

Golden-example reuse (``example_reuse``) reads two questions this way to tell which of an
example's literal values a new question changes, keeps or adds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from itertools import pairwise

NUMBER_WORDS = {word: index for index, word in enumerate((
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty"))}
"""Numbers people write as words ("the top three"), read as their value."""

DATE = "date"
NUMBER = "number"
TEXT = "text"

_DATE = r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?"
APOSTROPHE = "\u2019"
"""The typographic apostrophe, as in "don\u2019t"."""
OPENING_QUOTES = "'\"\u2018\u201c"
CLOSING_QUOTES = "'\"\u2019\u201d"
_TOKEN = re.compile(rf"(?P<date>{_DATE})(?!\w)|(?P<number>\d+(?:,\d{{3}})*(?:\.\d+)?)(?!\w)|\w+(?:['{APOSTROPHE}]\w+)*")
_DATE_ONLY = re.compile(rf"{_DATE}")
_NUMERIC = re.compile(r"[-+]?(?:\d+(?:,\d{3})*(?:\.\d*)?|\.\d+)")
_QUOTED = re.compile("(?<!\\w)'([^']+)'(?!\\w)|\"([^\"]+)\"|\u201c([^\u201d]+)\u201d|\u2018([^\u2019]+)\u2019")


@dataclass(frozen=True)
class Token:
    """A word, number or date of a question, with its character offsets."""

    text: str
    start: int
    end: int
    kind: str

    @property
    def key(self) -> str:
        """What two tokens compare by: the lower-cased word, or the value of a number."""
        if self.kind == NUMBER:
            return number_key(self.text)
        return self.text.lower()


@dataclass(frozen=True)
class Span:
    """Tokens ``start`` to ``end`` (exclusive) of a question."""

    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    """The words, numbers (also spelled out up to twenty) and ISO dates of ``text``, in order."""
    tokens = []
    for match in _TOKEN.finditer(text):
        word = match.group(0)
        kind = DATE if match.group("date") else NUMBER if match.group("number") or word.lower() in NUMBER_WORDS \
            else TEXT
        tokens.append(Token(word, match.start(), match.end(), kind))
    return tokens


def number_key(text: str) -> str:
    """A number's canonical text (``1,000.0`` and ``1000`` alike), or ``text`` lower-cased if it is none."""
    word = NUMBER_WORDS.get(text.lower())
    if word is not None:
        return str(word)
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return text.lower()
    return format(value.normalize(), "f") if value == value.to_integral_value() else str(value.normalize())


def value_kind(value: str) -> str:
    """How a literal's value is written in a question: a date, a number, or text."""
    if _DATE_ONLY.fullmatch(value.strip()):
        return DATE
    if _NUMERIC.fullmatch(value.strip()):
        return NUMBER
    return TEXT


def keys(tokens: Sequence[Token]) -> tuple[str, ...]:
    """The comparison keys of ``tokens``."""
    return tuple(t.key for t in tokens)


def occurrences(needle: Sequence[str], haystack: Sequence[str]) -> list[Span]:
    """Every place the key sequence ``needle`` occurs in ``haystack``."""
    size = len(needle)
    if not size:
        return []
    return [Span(i, i + size) for i in range(len(haystack) - size + 1) if tuple(haystack[i:i + size]) == needle]


def value_spans(text: str, tokens: Sequence[Token], samples: Iterable[Sequence[str]] = ()) -> list[Span]:
    """The spans of ``tokens`` (of ``text``) that name values: numbers (also in words), dates, words with digits,
    quoted text, runs of capitalised words after the first word (split at punctuation), and any of the
    known ``samples`` (key sequences)."""
    spans = [Span(i, i + 1) for i, t in enumerate(tokens) if t.kind != TEXT or any(c.isdigit() for c in t.text)]
    for match in _QUOTED.finditer(text):
        inside = [i for i, t in enumerate(tokens) if t.start >= match.start() and t.end <= match.end()]
        if inside:
            spans.append(Span(inside[0], inside[-1] + 1))
    run: list[int] = []
    for i, token in enumerate([*tokens, None]):
        joined = bool(run) and token is not None and not text[tokens[run[-1]].end:token.start].strip()
        if run and not joined:
            spans.append(Span(run[0], run[-1] + 1))
            run = []
        if token is not None and i > 0 and token.kind == TEXT and token.text[:1].isupper():
            run.append(i)
    words = keys(tokens)
    for sample in samples:
        spans += occurrences(tuple(sample), words)
    return sorted(set(spans), key=lambda s: (s.start, -s.end))


def one_phrase(text: str, tokens: Sequence[Token]) -> bool:
    """Whether ``tokens`` (of ``text``) are one phrase: nothing but spaces between them (no list)."""
    return all(not text[a.end:b.start].strip() for a, b in pairwise(tokens))


def covered(spans: Iterable[Span], inner: Span) -> bool:
    """Whether ``inner`` lies within one of ``spans``."""
    return any(s.start <= inner.start and inner.end <= s.end for s in spans)
