"""The schema as the template generator reads it: words of every name, value lookups, label columns.

Built once per SchemaContext and cached by the generator, so per-question work stays small.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

from chatdb_server.prediction.template.words import GENERIC_WORDS, name_vocabulary, name_words, segment, text_words
from chatdb_server.retrieval.context import ColumnInfo, SchemaContext, TableInfo

Kind = Literal["number", "text", "date", "bool"]

_NUMBER_TYPES = ("int", "real", "float", "double", "decimal", "numeric", "number", "money", "serial")
_DATE_TYPES = ("date", "time")


def column_kind(info: ColumnInfo) -> Kind:
    """A coarse type class from the declared type, falling back to the name."""
    declared = info.data_type.lower()
    if "bool" in declared:
        return "bool"
    if any(t in declared for t in _DATE_TYPES):
        return "date"
    if any(t in declared for t in _NUMBER_TYPES):
        return "number"
    words = name_words(info.name)
    if words and (words[-1] in ("date", "time", "datetime", "timestamp") or words[0] == "date"):
        return "date"
    return "text"


@dataclass(eq=False)
class ColumnEntry:
    """One column with the words that name it."""

    table: TableEntry
    info: ColumnInfo
    words: tuple[str, ...]
    kind: Kind
    own_words: tuple[str, ...]
    """The name's words without the table's words (``stadium.stadium_id`` → ``id``)."""
    comment_words: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def is_key_like(self) -> bool:
        """Ids and codes: joinable, rarely what a question asks to see."""
        return self.info.primary_key or (bool(self.words) and self.words[-1] in ("id", "code"))

    @property
    def is_numeric(self) -> bool:
        return self.kind in ("number", "date", "bool") or self.looks_numeric_text

    @property
    def looks_numeric_text(self) -> bool:
        """A text-typed column whose samples are numbers (common in loosely typed databases)."""
        samples = self.info.sample_values
        return self.kind == "text" and bool(samples) and all(_is_number(v) for v in samples)

    def __repr__(self) -> str:
        return f"{self.table.name}.{self.name}"


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


@dataclass(eq=False)
class TableEntry:
    """One table with the words that name it and its columns."""

    info: TableInfo
    words: tuple[str, ...]
    columns: list[ColumnEntry] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def key(self) -> ColumnEntry | None:
        """The (first) primary-key column, else a column called id."""
        for column in self.columns:
            if column.info.primary_key:
                return column
        return next((c for c in self.columns if c.words in (("id",), (*self.words, "id"))), None)

    @property
    def label_columns(self) -> list[ColumnEntry]:
        """The columns that name a row of this table (what "list the X" shows)."""
        names = [c for c in self.columns if "name" in c.words and not c.is_key_like]
        if names:
            firsts = [c for c in names if c.words[0] in ("first", "given", "last", "family", "sur")]
            exact = [c for c in names if c.own_words in (("name",), ()) or c.words == (*self.words, "name")]
            if exact:
                return exact[:1]
            if firsts:
                return sorted(firsts, key=lambda c: 0 if c.words[0] in ("first", "given") else 1)
            return names[:1]
        for candidate in ("title", "label", "description"):
            match = [c for c in self.columns if candidate in c.words]
            if match:
                return match[:1]
        own = [c for c in self.columns if c.kind == "text" and not c.is_key_like and c.own_words == ()]
        if own:
            return own[:1]
        key = self.key
        return [key] if key else self.columns[:1]

    def __repr__(self) -> str:
        return self.name


@dataclass
class SchemaIndex:
    """Lookups from words and values to tables and columns."""

    tables: list[TableEntry]
    by_name: dict[str, TableEntry]
    values: dict[str, list[tuple[ColumnEntry, str]]]
    """lower-cased sample value → (column, value as stored)."""
    max_value_words: int

    def table(self, name: str) -> TableEntry | None:
        return self.by_name.get(name.lower())

    def column(self, table: str, column: str) -> ColumnEntry | None:
        entry = self.table(table)
        if entry is None:
            return None
        lowered = column.lower()
        return next((c for c in entry.columns if c.name.lower() == lowered), None)


def build_index(schema: SchemaContext) -> SchemaIndex:
    """Index every table, column and sample value of a schema."""
    tables: list[TableEntry] = []
    values: dict[str, list[tuple[ColumnEntry, str]]] = defaultdict(list)
    max_value_words = 1
    table_names = [name_words(info.name) for info in schema.tables]
    vocabulary = name_vocabulary([name_words(c.name) for info in schema.tables for c in info.columns] + table_names,
                                 table_names)
    for info in schema.tables:
        words = segment(name_words(info.name), vocabulary)
        table = TableEntry(info=info, words=words)
        for column_info in info.columns:
            column_words = segment(name_words(column_info.name), vocabulary)
            own = _without_prefix(column_words, words)
            entry = ColumnEntry(table=table, info=column_info, words=column_words, kind=column_kind(column_info),
                                own_words=own, comment_words=text_words(column_info.comment))
            table.columns.append(entry)
            if entry.kind == "text" and not entry.info.primary_key:
                for value in column_info.sample_values:
                    key = " ".join(value.lower().split())
                    if len(key) < 2 or _is_number(key):
                        continue
                    values[key].append((entry, value))
                    max_value_words = max(max_value_words, len(key.split()))
        tables.append(table)
    return SchemaIndex(tables=tables, by_name={t.name.lower(): t for t in tables}, values=dict(values),
                       max_value_words=min(max_value_words, 8))


def _without_prefix(column_words: tuple[str, ...], table_words: tuple[str, ...]) -> tuple[str, ...]:
    remaining = [w for w in column_words if w not in table_words]
    return tuple(remaining) if len(remaining) < len(column_words) else column_words


def is_generic(words: tuple[str, ...]) -> bool:
    """Whether a phrase is made only of words every schema uses."""
    return all(w in GENERIC_WORDS for w in words)
