"""Linking question words to tables, columns and values.

A mention is a span of question tokens with the schema elements it may name, each scored.
Lexical matching works on singular words of names (split snake/camel case, abbreviations
expanded), joined forms (``high schooler`` ↔ ``Highschooler``), a small synonym lexicon and
column comments; sample values collected at training link to their columns. An optional
sentence embedder links the words lexical matching leaves over.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Literal

import numpy as np

from chatdb_server.prediction.template import costs
from chatdb_server.prediction.template.intents import NEGATION_WORDS
from chatdb_server.prediction.template.schema_index import ColumnEntry, SchemaIndex, TableEntry, is_generic
from chatdb_server.prediction.template.vocabulary import word_set
from chatdb_server.prediction.template.words import GENERIC_WORDS, STOPWORDS, SYNONYMS, Token, stem

Embedder = Callable[[list[str]], np.ndarray]
MentionKind = Literal["table", "column", "value", "number"]

_MAX_SPAN = 4
#: Words that never start or end a name mention on their own.
_CUE_WORDS = word_set("cues", "linking_cue_words")


@dataclass
class Target:
    """One thing a mention may name."""

    table: TableEntry
    column: ColumnEntry | None
    score: float
    value: str | None = None


@dataclass
class Mention:
    """A span of tokens [start, end) and what it may name, best first."""

    start: int
    end: int
    kind: MentionKind
    targets: list[Target] = field(default_factory=list)
    number: float | None = None
    text: str = ""
    proper_noun: bool = False
    """A value read only from capitals ("in Lisbon"): no sample value says which column holds it."""

    @property
    def best(self) -> Target:
        return self.targets[0]

    @property
    def score(self) -> float:
        return self.targets[0].score if self.targets else 1.0


@dataclass
class _PhraseTables:
    """Phrase → targets, built once per schema (keys are content words, stop words left out)."""

    phrases: dict[tuple[str, ...], list[Target]]
    joined: dict[str, list[Target]]
    bags: dict[frozenset[str], list[Target]]
    """Multi-word names in any word order ("membership level" ~ ``level_of_membership``)."""
    stems: dict[str, list[Target]]
    """Single-word names by crude stem ("directors" ~ ``directed_by``)."""


def _content(words: tuple[str, ...]) -> tuple[str, ...]:
    kept = tuple(w for w in words if w not in STOPWORDS)
    return kept or words


def build_phrases(index: SchemaIndex) -> _PhraseTables:
    """Every name's words and contiguous parts as lookup keys with match scores."""
    phrases: dict[tuple[str, ...], list[Target]] = {}
    joined: dict[str, list[Target]] = {}
    bags: dict[frozenset[str], list[Target]] = {}
    stems: dict[str, list[Target]] = {}

    def add(key: tuple[str, ...], target: Target) -> None:
        if not key:
            return
        key = _content(key)
        if len(key) > 1:
            bag = Target(target.table, target.column, target.score * costs.BAG_OF_WORDS_MATCH)
            bags.setdefault(frozenset(key), []).append(bag)
        elif key[0] not in GENERIC_WORDS:
            stemmed = Target(target.table, target.column, target.score * costs.STEM_MATCH)
            stems.setdefault(stem(key[0]), []).append(stemmed)
        bucket = phrases.setdefault(key, [])
        for i, existing in enumerate(bucket):
            if existing.table is target.table and existing.column is target.column:
                if target.score > existing.score:
                    bucket[i] = target
                return
        bucket.append(target)

    for table in index.tables:
        _add_parts(add, table.words, partial(Target, table, None))
        if len(table.words) > 1:
            joined.setdefault("".join(table.words), []).append(Target(table, None, costs.EXACT_MATCH))
        for column in table.columns:
            make = partial(Target, table, column)
            _add_parts(add, column.words, make)
            if column.own_words != column.words and column.own_words:
                _add_parts(add, column.own_words, make, scale=costs.OWN_WORDS_MATCH)
            if column.comment_words:
                _add_parts(add, column.comment_words, make, scale=costs.COMMENT_MATCH)
            if len(column.words) > 1:
                joined.setdefault("".join(column.words), []).append(Target(table, column, costs.EXACT_MATCH))
    namesakes = _namesakes(index)
    for bucket in [*phrases.values(), *joined.values(), *bags.values(), *stems.values()]:
        _add_namesakes(bucket, namesakes)
        bucket.sort(key=lambda t: -t.score)
    return _PhraseTables(phrases, joined, bags, stems)


def _namesakes(index: SchemaIndex) -> dict[str, list[ColumnEntry]]:
    """Columns by lower-case name, for names that more than one table has (mostly keys shared by a join)."""
    by_name: dict[str, list[ColumnEntry]] = {}
    for table in index.tables:
        for column in table.columns:
            by_name.setdefault(column.name.lower(), []).append(column)
    return {name: columns for name, columns in by_name.items() if len(columns) > 1}


def _add_namesakes(bucket: list[Target], namesakes: dict[str, list[ColumnEntry]]) -> None:
    """Words that name a column name its namesakes in other tables as well as it: ``product_type_code``
    read as "type code" in ``products`` (its own words there) is also the one of ``product_types``, where
    the table's words leave only "code"; which table is meant is the question's context to decide."""
    for target in list(bucket):
        if target.column is None:
            continue
        for other in namesakes.get(target.column.name.lower(), ()):
            found = next((t for t in bucket if t.column is other), None)
            if found is None:
                bucket.append(Target(other.table, other, target.score))
            elif found.score < target.score:
                found.score = target.score


def _add_parts(add: Callable[[tuple[str, ...], Target], None], words: tuple[str, ...],
               make: Callable[[float], Target], scale: float = costs.EXACT_MATCH) -> None:
    n = len(words)
    for i in range(n):
        for j in range(i + 1, n + 1):
            part = words[i:j]
            if part == words:
                add(part, make(scale))
            elif all(w in STOPWORDS for w in part):
                continue
            elif not is_generic(part):
                add(part, make(scale * costs.PART_OF_NAME_MATCH * len(part) / n))


def _span_ok(tokens: Sequence[Token], i: int, j: int) -> bool:
    first, last = tokens[i], tokens[j - 1]
    if any(t.quoted or t.number is not None for t in tokens[i:j]):
        return False
    return not (first.lemma in STOPWORDS or last.lemma in STOPWORDS)


def link_names(tokens: Sequence[Token], index: SchemaIndex, tables: _PhraseTables) -> list[Mention]:
    """Table and column mentions, longest best-scoring spans first, non-overlapping."""
    found: list[Mention] = []
    for i in range(len(tokens)):
        for j in range(min(len(tokens), i + _MAX_SPAN), i, -1):
            if not _span_ok(tokens, i, j):
                continue
            lemmas = _content(tuple(t.lemma for t in tokens[i:j]))
            if j - i == 1 and lemmas[0] in _CUE_WORDS and lemmas not in tables.phrases and not _names_an_order(
                    tokens, i):
                continue
            if j - i == 1 and _is_ordering_phrase(tokens, i):
                continue
            targets = list(tables.phrases.get(lemmas, ()))
            targets += [Target(t.table, t.column, t.score * costs.JOINED_MATCH)
                        for t in tables.joined.get("".join(lemmas), ())]
            if len(lemmas) > 1:
                targets += tables.bags.get(frozenset(lemmas), [])
            if j - i == 1:
                targets += _synonym_targets(lemmas[0], tables)
                if not targets and len(lemmas[0]) > 4:
                    targets += tables.stems.get(stem(lemmas[0]), [])
            targets = _dedupe(targets)
            if targets:
                kind: MentionKind = "column" if targets[0].column is not None else "table"
                targets = [t for t in targets if (t.column is not None) == (kind == "column")]
                found.append(Mention(i, j, kind, targets, text=" ".join(t.text for t in tokens[i:j])))
    return _drop_cue_names(tokens, _choose(found))


_ORDER_DETERMINERS = word_set("cues", "order_determiners")
_ORDER_NEIGHBOURS = word_set("cues", "order_neighbours")


def _is_ordering_phrase(tokens: Sequence[Token], i: int) -> bool:
    """"in descending order", "order by", "ordered by": the word order, not a table of orders."""
    if tokens[i].lower not in ("order", "ordered", "ordering") or _names_an_order(tokens, i):
        return False
    before = tokens[i - 1].lower if i > 0 else ""
    after = tokens[i + 1].lower if i + 1 < len(tokens) else ""
    return before in _ORDER_NEIGHBOURS or after in ("by", "of") or not after


def _names_an_order(tokens: Sequence[Token], i: int) -> bool:
    """"placed *an* order", "*never* ordered": after a determiner or a negation, "order" is the noun
    or the verb of buying, which may name a table of orders, not the sort order."""
    if tokens[i].lower not in ("order", "ordered"):
        return False
    before = tokens[i - 1].lower if i > 0 else ""
    after = tokens[i + 1].lower if i + 1 < len(tokens) else ""
    if after == "by":
        return False
    if tokens[i].lower == "order":
        return before in _ORDER_DETERMINERS
    return before in NEGATION_WORDS or before.endswith("n't") or (
        before == "been" and i > 1 and tokens[i - 2].lower in NEGATION_WORDS)


_AGGREGATE_CUES = word_set("cues", "aggregate_cues")


def _drop_cue_names(tokens: Sequence[Token], mentions: list[Mention]) -> list[Mention]:
    """"average age": a column called ``average`` is not meant when another name follows the word."""
    kept: list[Mention] = []
    for k, mention in enumerate(mentions):
        if mention.end - mention.start == 1 and tokens[mention.start].lower in _AGGREGATE_CUES:
            following = mentions[k + 1] if k + 1 < len(mentions) else None
            if following is not None and following.start - mention.end <= 3 and all(
                    t.lower in _AGGREGATE_CUES or t.lower in ("and", "or", "the", "of", "number")
                    for t in tokens[mention.end:following.start]):
                continue
        kept.append(mention)
    return kept


def _synonym_targets(lemma: str, tables: _PhraseTables) -> list[Target]:
    out: list[Target] = []
    for alternative in SYNONYMS.get(lemma, ()):
        for target in tables.phrases.get((alternative,), ()):
            out.append(Target(target.table, target.column, target.score * costs.SYNONYM_MATCH))
    return out


def _dedupe(targets: list[Target]) -> list[Target]:
    best: dict[tuple[int, int], Target] = {}
    for target in targets:
        key = (id(target.table), id(target.column))
        if key not in best or best[key].score < target.score:
            best[key] = target
    return sorted(best.values(), key=lambda t: -t.score)


def _choose(found: list[Mention]) -> list[Mention]:
    """Non-overlapping mentions, preferring covered words times match quality."""
    ranked = sorted(found, key=lambda m: (-(m.end - m.start) * m.score, m.start))
    taken: set[int] = set()
    chosen: list[Mention] = []
    for mention in ranked:
        span = set(range(mention.start, mention.end))
        if span & taken:
            continue
        taken |= span
        chosen.append(mention)
    return sorted(chosen, key=lambda m: m.start)


def link_values(tokens: Sequence[Token], index: SchemaIndex) -> list[Mention]:
    """Quoted phrases, numbers, and spans equal to a sample value."""
    found: list[Mention] = []
    taken: set[int] = set()
    for i, token in enumerate(tokens):
        if token.quoted:
            matches = index.values.get(" ".join(token.lower.split()), [])
            targets = [Target(c.table, c, costs.EXACT_MATCH, value) for c, value in matches]
            found.append(Mention(i, i + 1, "value", targets, text=token.text))
            taken.add(i)
    for size in range(index.max_value_words, 0, -1):
        for i in range(len(tokens) - size + 1):
            span = range(i, i + size)
            if taken & set(span) or any(tokens[k].quoted for k in span):
                continue
            key = " ".join(tokens[k].lower for k in span)
            matches = index.values.get(key, [])
            if not matches:
                continue
            capitalised = any(tokens[k].text[:1].isupper() for k in span if k > 0) or tokens[i].text.isupper()
            if size == 1 and (tokens[i].lemma in STOPWORDS or tokens[i].lemma in GENERIC_WORDS):
                continue
            score = costs.EXACT_MATCH if size > 1 or capitalised else costs.WEAK_VALUE_MATCH
            targets = [Target(c.table, c, score, value) for c, value in matches]
            found.append(Mention(i, i + size, "value", targets, text=key))
            taken |= set(span)
    for i, token in enumerate(tokens):
        if token.number is not None and i not in taken:
            found.append(Mention(i, i + 1, "number", [], number=token.number, text=token.text))
    return sorted(found, key=lambda m: m.start)


def link_proper_nouns(question: str, tokens: Sequence[Token], mentions: list[Mention]) -> list[Mention]:
    """The mentions plus a value for each run of capitalised words nothing else linked ("in *Lisbon*",
    "the supplier *Acme Tools*"): a name the schema's sample values do not hold. A sentence's first word
    is capitalised anyway and starts no run; a run next to a value is part of that value's phrase."""
    covered = {k for m in mentions for k in range(m.start, m.end)}
    covered |= {k for k in range(len(tokens)) if _starts_sentence(question, tokens, k)}
    found: list[Mention] = []
    i = 0
    while i < len(tokens):
        j = i
        while j < len(tokens) and j not in covered and _is_proper(tokens[j]):
            j += 1
        if j > i:
            if not any(m.kind == "value" and (m.end == i or m.start == j) for m in mentions):
                text = " ".join(t.text.removesuffix("'s") for t in tokens[i:j])
                found.append(Mention(i, j, "value", [], text=text, proper_noun=True))
            i = j
        i += 1
    return sorted([*mentions, *found], key=lambda m: m.start)


def _starts_sentence(question: str, tokens: Sequence[Token], k: int) -> bool:
    if k == 0:
        return True
    before = tokens[k - 1]
    return any(c in ".?!:;" for c in question[before.start + len(before.text):tokens[k].start])


def _is_proper(token: Token) -> bool:
    return (token.text[:1].isupper() and not token.quoted and token.number is None
            and token.lemma not in STOPWORDS and token.lower != "i")


def merge(names: list[Mention], values: list[Mention]) -> list[Mention]:
    """All mentions in question order; a value wins over a weak name on the same words."""
    out = list(values)
    value_words = {k for m in values for k in range(m.start, m.end)}
    strong_value_words = {k for m in values if m.kind == "value" and m.score >= costs.EXACT_MATCH
                          for k in range(m.start, m.end)}
    for mention in names:
        span = set(range(mention.start, mention.end))
        if span & strong_value_words:
            continue
        if span & value_words:
            if mention.score >= costs.STRONG_NAME and mention.end - mention.start >= 1:
                out = [v for v in out if not (set(range(v.start, v.end)) & span) or v.kind == "number"]
            else:
                continue
        out.append(mention)
    return sorted(out, key=lambda m: m.start)


def link_by_embedding(tokens: Sequence[Token], mentions: list[Mention], index: SchemaIndex,
                      embed: Embedder, cache: dict[str, np.ndarray]) -> list[Mention]:
    """Mentions for content words no lexical rule linked, by cosine similarity to column names."""
    covered = {k for m in mentions for k in range(m.start, m.end)}
    spans = [(i, i + 1) for i, t in enumerate(tokens)
             if i not in covered and t.number is None and not t.quoted and t.lemma not in STOPWORDS
             and t.lemma not in _CUE_WORDS and len(t.lemma) > 2]
    if not spans:
        return mentions
    columns = [c for t in index.tables for c in t.columns]
    names = [" ".join(c.words) for c in columns]
    matrix = cache.get("__columns__")
    if matrix is None or matrix.shape[0] != len(names):
        matrix = np.asarray(embed(names), dtype=np.float32)
        cache["__columns__"] = matrix
    vectors = np.asarray(embed([tokens[i].lower for i, _ in spans]), dtype=np.float32)
    sims = vectors @ matrix.T
    added = list(mentions)
    for row, (i, j) in enumerate(spans):
        order = np.argsort(-sims[row])[:3]
        targets = [Target(columns[k].table, columns[k], float(sims[row, k]) * costs.EMBED_MATCH) for k in order
                   if sims[row, k] >= costs.EMBED_THRESHOLD]
        if targets:
            added.append(Mention(i, j, "column", targets, text=tokens[i].text))
    return sorted(added, key=lambda m: m.start)
