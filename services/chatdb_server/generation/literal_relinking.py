"""Re-linking a golden example's SQL to a new question: its literal values replaced by the values the
new question names ("orders from Berlin" → ``city = 'Berlin'``; "orders from Paris" → ``city = 'Paris'``).

sqlglot finds the literals of the example's SQL; each is looked up in the example's question (as
words, as a number — "three" is 3 — or as an ISO date). A literal the new question repeats stays; one
it changes takes the new question's value where the two questions line up word by word around it
(difflib), or where the new question names exactly one value of that kind that the example's
question does not. Anything less certain refuses: a literal named twice, two changed values of one
kind that the alignment cannot tell apart, a value of the new question that nothing accounts for (a
condition the example lacks), a value of the example's question the new one drops, or a changed value
beside an unnamed literal of the same kind that may depend on it (``BETWEEN 1990 AND 1999``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from chatdb_server.generation.question_values import (
    CLOSING_QUOTES,
    DATE,
    NUMBER,
    OPENING_QUOTES,
    TEXT,
    Span,
    Token,
    covered,
    keys,
    number_key,
    occurrences,
    one_phrase,
    tokenize,
    value_kind,
    value_spans,
)
from chatdb_server.retrieval.words import STOPWORDS

_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Like, exp.ILike, exp.In, exp.Between)
_WRAPPERS = (exp.Paren, exp.Cast, exp.Neg, exp.Tuple)
_WILDCARDS = "%_"


@dataclass(frozen=True)
class Relinked:
    """The example's SQL for the new question, and each (old value, new value) it changed."""

    sql: str
    changes: tuple[tuple[str, str], ...] = ()
    restated: str = ""
    """The new question with the example's values in place of the ones it changed: how close it is to the
    example's question says how alike the two questions are apart from their values."""


@dataclass
class _Use:
    node: exp.Literal
    prefix: str
    suffix: str


@dataclass
class _Slot:
    """One value of the SQL (every literal with that value), as a question would name it."""

    kind: str
    key: tuple[str, ...]
    core: str
    uses: list[_Use] = field(default_factory=list)
    compared: bool = False
    columns: set[str] = field(default_factory=set)
    old: Span | None = None
    new: Span | None = None


def relink(example_question: str, example_sql: str, question: str, dialect: str,
           samples: Mapping[str, Sequence[str]] | None = None) -> Relinked | None:
    """``example_sql`` with its values re-linked to ``question``, or None when that is not certain.

    ``samples`` maps lower-case column names to known values of those columns: they are values a
    question may name, and give a re-linked value its stored spelling."""
    try:
        tree = sqlglot.parse_one(example_sql, read=dialect)
    except sqlglot.errors.ParseError:
        return None
    samples = samples or {}
    sample_keys = _sample_keys(samples)
    old_tokens, new_tokens = tokenize(example_question), tokenize(question)
    old_keys, new_keys = keys(old_tokens), keys(new_tokens)
    slots = _slots(tree)

    kept: list[Span] = []
    changed: list[_Slot] = []
    unnamed_kinds: set[str] = set()
    for slot in slots:
        named = occurrences(slot.key, old_keys)
        if not named:
            if slot.compared:
                unnamed_kinds.add(slot.kind)
            continue
        repeated = occurrences(slot.key, new_keys)
        if repeated:
            kept += repeated
        elif len(named) > 1:
            return None  # which mention the new question changed is unclear
        else:
            slot.old = named[0]
            changed.append(slot)
    if any(slot.kind in unnamed_kinds for slot in changed):
        return None

    new_values = value_spans(question, new_tokens, sample_keys)
    if not _assign(changed, old_keys, new_keys, question, new_tokens, new_values, kept, samples):
        return None
    used = kept + [s.new for s in changed if s.new is not None]
    if any(not occurrences(new_keys[s.start:s.end], old_keys) and not covered(used, s) for s in new_values):
        return None  # the question names a value the example has no place for
    dropped = [s.old for s in changed if s.old is not None]
    if any(not occurrences(old_keys[s.start:s.end], new_keys) and not covered(dropped, s)
           for s in value_spans(example_question, old_tokens, sample_keys)):
        return None  # the example is about a value the question does not name
    if not changed:
        return Relinked(example_sql, restated=question)
    changes = tuple(_rewrite(slot, example_question, old_tokens, question, new_tokens, samples) for slot in changed)
    return Relinked(tree.sql(dialect=dialect), changes, _restated(changed, example_question, old_tokens, question,
                                                                  new_tokens))


def _assign(changed: list[_Slot], old_keys: tuple[str, ...], new_keys: tuple[str, ...], question: str,
            new_tokens: list[Token], new_values: list[Span], kept: list[Span],
            samples: Mapping[str, Sequence[str]]) -> bool:
    """Give every changed slot its span of the new question; False when one cannot be told for sure.

    A slot takes the words that replace its value where the questions line up around it; otherwise the
    one value of its kind the new question adds, if it is a number or date, quoted, or a known value of
    the compared column (a capitalised word alone may be a paraphrase: "from France" → "French")."""
    replaced = [op for op in difflib.SequenceMatcher(None, old_keys, new_keys, autojunk=False).get_opcodes()
                if op[0] == "replace"]
    for slot in changed:
        assert slot.old is not None
        for _, i1, i2, j1, j2 in replaced:
            if (i1, i2) == (slot.old.start, slot.old.end):
                if not _fits(slot.kind, question, new_tokens[j1:j2]):
                    return False
                slot.new = Span(j1, j2)
    taken = kept + [s.new for s in changed if s.new is not None]
    free = [s for s in new_values if not occurrences(new_keys[s.start:s.end], old_keys)
            and not any(_overlap(s, t) for t in taken)]
    free = [s for s in free if not any(o != s and o.start <= s.start and s.end <= o.end for o in free)]
    for kind in {slot.kind for slot in changed}:
        waiting = [slot for slot in changed if slot.kind == kind and slot.new is None]
        if not waiting:
            continue
        options = [s for s in free if _fits(kind, question, new_tokens[s.start:s.end])]
        if len(waiting) != 1 or len(options) != 1:
            return False
        tokens = new_tokens[options[0].start:options[0].end]
        said = question[tokens[0].start:tokens[-1].end]
        if kind == TEXT and not _quoted(question, tokens) and not _stored_spelling(said, waiting[0].columns, samples):
            return False
        waiting[0].new = options[0]
    return True


def _fits(kind: str, question: str, tokens: Sequence[Token]) -> bool:
    """Whether ``tokens`` (of ``question``) can stand for one value of ``kind``."""
    if kind in (NUMBER, DATE):
        return len(tokens) == 1 and tokens[0].kind == kind
    return (bool(tokens) and one_phrase(question, tokens)
            and any(t.kind == TEXT and t.text.lower() not in STOPWORDS for t in tokens))


def _quoted(question: str, tokens: Sequence[Token]) -> bool:
    """Whether ``tokens`` are the whole of a quotation in ``question``."""
    before, after = question[:tokens[0].start].rstrip()[-1:], question[tokens[-1].end:].lstrip()[:1]
    return bool(before) and before in OPENING_QUOTES and bool(after) and after in CLOSING_QUOTES


def _overlap(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def _slots(tree: exp.Expr) -> list[_Slot]:
    """The SQL's literal values, each with every literal that holds it."""
    slots: dict[tuple[str, tuple[str, ...]], _Slot] = {}
    for node in tree.find_all(exp.Literal):
        value = str(node.this)
        parent = node.parent
        while isinstance(parent, _WRAPPERS):
            parent = parent.parent
        core, prefix, suffix = value, "", ""
        if node.is_string and isinstance(parent, (exp.Like, exp.ILike)):
            core = value.strip(_WILDCARDS)
            start = value.find(core) if core else len(value)
            prefix, suffix = value[:start], value[start + len(core):]
        kind = value_kind(core)
        key = (number_key(core),) if kind == NUMBER else keys(tokenize(core))
        slot = slots.setdefault((kind, key), _Slot(kind, key, core))
        slot.uses.append(_Use(node, prefix, suffix))
        if isinstance(parent, _COMPARISONS):
            slot.compared = True
            slot.columns |= {c.name.lower() for c in parent.find_all(exp.Column)}
    return [slot for slot in slots.values() if slot.key]


def _rewrite(slot: _Slot, old_text: str, old_tokens: list[Token], new_text: str, new_tokens: list[Token],
             samples: Mapping[str, Sequence[str]]) -> tuple[str, str]:
    """Put the new value into every literal of ``slot``; the (old, new) value pair."""
    assert slot.old is not None and slot.new is not None
    said = new_text[new_tokens[slot.new.start].start:new_tokens[slot.new.end - 1].end]
    if slot.kind == NUMBER:
        value = number_key(said)
    elif slot.kind == DATE:
        value = said
    else:
        before = old_text[old_tokens[slot.old.start].start:old_tokens[slot.old.end - 1].end]
        value = _stored_spelling(said, slot.columns, samples) or _cased_like(slot.core, before, said)
    for use in slot.uses:
        text = f"{use.prefix}{value}{use.suffix}"
        use.node.replace(exp.Literal.string(text) if use.node.is_string else exp.Literal.number(text))
    return slot.core, value


def _restated(changed: list[_Slot], old_text: str, old_tokens: list[Token], new_text: str,
              new_tokens: list[Token]) -> str:
    """``new_text`` with each changed slot's words replaced by the words the example's question used."""
    text = new_text
    for slot in sorted(changed, key=lambda s: -(s.new.start if s.new else 0)):
        assert slot.old is not None and slot.new is not None
        before = old_text[old_tokens[slot.old.start].start:old_tokens[slot.old.end - 1].end]
        text = text[:new_tokens[slot.new.start].start] + before + text[new_tokens[slot.new.end - 1].end:]
    return text


def _stored_spelling(said: str, columns: set[str], samples: Mapping[str, Sequence[str]]) -> str:
    """The known value of the compared column that ``said`` names (case aside), if any."""
    wanted = said.casefold()
    return next((v for c in sorted(columns) for v in samples.get(c, ()) if v.casefold() == wanted), "")


def _cased_like(stored: str, said_before: str, said: str) -> str:
    """``said`` written the way the example's SQL wrote what its question said (as said, upper or lower)."""
    if stored == said_before:
        return said
    if stored == said_before.upper():
        return said.upper()
    if stored == said_before.lower():
        return said.lower()
    return said


def _sample_keys(samples: Mapping[str, Sequence[str]]) -> list[tuple[str, ...]]:
    """Known values as key sequences, leaving out those a question says in passing ("yes", "a", "1")."""
    found = set()
    for values in samples.values():
        for value in values:
            words = keys(tokenize(value))
            if value_kind(value) == TEXT and any(len(w) > 2 and w not in STOPWORDS for w in words):
                found.add(words)
    return sorted(found)
