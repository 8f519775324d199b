"""Words of questions and of schema names: tokens, singular forms, name splitting, a small lexicon
(the word lists themselves are data: ``lexicon/words.json``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import wordninja  # type: ignore[import-untyped]

from chatdb_server.prediction.template.vocabulary import entry, word_set

_TOKEN = re.compile(
    r"``(?P<q1>.+?)''|\"(?P<q2>[^\"]+)\"|“(?P<q3>[^”]+)”|(?<![\w])'(?P<q4>[^']+?)'(?![\w])"
    r"|(?P<num>-?\d+(?:[.,]\d+)*)"
    r"|(?P<word>[A-Za-z\u00C0-\u024F]+(?:'[A-Za-z]+)?|\w+)")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")

#: Abbreviations common in column names, expanded to the words people say.
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    k: tuple(v.split()) for k, v in entry("words", "abbreviations").items()}
_IRREGULAR: dict[str, str] = dict(entry("words", "irregular_plurals"))

#: Words a question uses for something a schema often names differently (both sides are singular).
SYNONYMS: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in entry("words", "synonyms").items()}

STOPWORDS = word_set("words", "stopwords")

#: Words so common in column names that a match on them alone says little.
GENERIC_WORDS = word_set("words", "generic_words")


@dataclass(frozen=True)
class Token:
    """One question token: its text as written, lower case, singular form; quoted or numeric."""

    text: str
    lower: str
    lemma: str
    start: int
    quoted: bool = False
    number: float | None = None


@lru_cache(maxsize=8192)
def singular(word: str) -> str:
    """The singular of an English noun, by rule (good enough for matching names)."""
    word = word.lower()
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word == "ids":
        return "id"
    if len(word) <= 3 or word.endswith(("ss", "us", "is", "ous")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zes")):
        return word[:-2]
    if word.endswith("oes"):
        return word[:-2]
    if word.endswith("s") and not word.endswith("'s"):
        return word[:-1]
    if word.endswith("'s"):
        return word[:-2]
    return word


def _parse_number(raw: str) -> float | None:
    try:
        return float(raw.replace(",", ""))
    except ValueError:
        return None


_NUMBER_WORDS: dict[str, int] = dict(entry("words", "number_words"))


def tokenize(question: str) -> list[Token]:
    """Tokens of a question; quoted phrases stay one token."""
    tokens: list[Token] = []
    for match in _TOKEN.finditer(question):
        quoted = next((match.group(g) for g in ("q1", "q2", "q3", "q4") if match.group(g)), None)
        if quoted is not None:
            text = quoted.strip()
            tokens.append(Token(text, text.lower(), text.lower(), match.start(), quoted=True))
        elif match.group("num"):
            raw = match.group("num")
            tokens.append(Token(raw, raw, raw, match.start(), number=_parse_number(raw)))
        else:
            raw = match.group("word")
            lower = raw.lower()
            if lower.endswith("'s"):
                lower = lower[:-2]
            number = float(_NUMBER_WORDS[lower]) if lower in _NUMBER_WORDS else None
            tokens.append(Token(raw, lower, singular(lower), match.start(), number=number))
    return tokens


@lru_cache(maxsize=8192)
def name_words(name: str) -> tuple[str, ...]:
    """The words of a schema name: snake_case, camelCase and abbreviations split and expanded, singular."""
    words: list[str] = []
    for part in re.split(r"[\W_]+", name.split(".")[-1]):
        for piece in _CAMEL.findall(part):
            lowered = piece.lower()
            if lowered in ABBREVIATIONS:
                words.extend(ABBREVIATIONS[lowered])
            else:
                words.append(singular(lowered))
    return tuple(w for w in words if w)


_SHORTEST_RUN_TOGETHER = 5
_MOST_PARTS = 3
_MOST_ENGLISH_PARTS = 4
_EXPANSIONS = frozenset(w for expanded in ABBREVIATIONS.values() for w in expanded)


def name_vocabulary(names: list[tuple[str, ...]], table_names: list[tuple[str, ...]]) -> frozenset[str]:
    """Words a schema spells out: those of its names, the generic words and the words abbreviations
    stand for."""
    words = {w for name in names + table_names for w in name}
    words |= GENERIC_WORDS | {w for expanded in ABBREVIATIONS.values() for w in expanded}
    return frozenset(w for w in words if len(w) > 1)


def segment(words: tuple[str, ...], vocabulary: frozenset[str]) -> tuple[str, ...]:
    """Words run together in a lower-case name ("countryname", "petid") split into words of the
    vocabulary (or abbreviations); a word that splits no way stays as it is."""
    out: list[str] = []
    for word in words:
        parts = None if len(word) < _SHORTEST_RUN_TOGETHER or word in _EXPANSIONS else (
            _split(word, vocabulary - {word}) or _english_words(word))
        if parts is None:
            out.append(word)
            continue
        for part in parts:
            out.extend(ABBREVIATIONS[part] if part in ABBREVIATIONS else (singular(part),))
    return tuple(w for w in out if w)


@lru_cache(maxsize=8192)
def _english_words(word: str) -> list[str] | None:
    """``word`` as the most likely run of English words, when it is one of 2 to 4 words of two letters or more."""
    parts = [p for p in wordninja.split(word) if p]
    return parts if 1 < len(parts) <= _MOST_ENGLISH_PARTS and all(len(p) > 1 for p in parts) else None


def _known(part: str, vocabulary: frozenset[str]) -> bool:
    return part in ABBREVIATIONS or part in vocabulary or singular(part) in vocabulary


def _split(word: str, vocabulary: frozenset[str]) -> list[str] | None:
    """The split of ``word`` into the fewest known parts (2 or 3), the longest first part first."""
    best: list[str] | None = None
    for cut in range(len(word) - 2, 1, -1):
        head, tail = word[:cut], word[cut:]
        if not _known(head, vocabulary):
            continue
        if _known(tail, vocabulary):
            return [head, tail]
        if best is None and len(tail) >= 4:
            rest = next(([tail[:k], tail[k:]] for k in range(len(tail) - 2, 1, -1)
                         if _known(tail[:k], vocabulary) and _known(tail[k:], vocabulary)), None)
            best = [head, *rest] if rest is not None and len(rest) + 1 <= _MOST_PARTS else None
    return best


_STEM_SUFFIXES: tuple[str, ...] = tuple(entry("words", "stem_suffixes"))


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    """A crude stem for loose matching (``director`` ~ ``directed``, ``production`` ~ ``produced``)."""
    for suffix in _STEM_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def text_words(text: str) -> tuple[str, ...]:
    """Singular lower-case content words of free text (comments, descriptions)."""
    return tuple(t.lemma for t in tokenize(text) if t.lemma not in STOPWORDS and not t.quoted)
