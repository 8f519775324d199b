"""The document embedded for each table: what a question about that table is likely to mention.

Layout, chosen by retrieval recall on Spider dev (``tests/bench/retrieval_recall.py``): the
table's name as words first, then its description and comment, then each column as words with
its key role (primary key, the table a foreign key references), then the tables it joins to.
A stored table's description is left out by default (:attr:`DocumentOptions.description`):
discovery writes it from the same structure, so it only doubled the tokens to embed.
Column types and sample values are optional: measured, both lowered recall (they dilute the
names a question actually uses), so they are off by default; the generator still gets the
sample values through the schema context. The embedding model reads at most a few hundred
tokens, so the most telling parts come first and long parts are bounded.

A stored table's document (:func:`stored_table_document`) never names a column an EXCLUDE
policy names, nor its values, nor a join through it: vectors are shared by every caller.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from chatdb_server.access.exclusions import NO_EXCLUSIONS, Exclusions, joins_without, without_columns
from chatdb_server.retrieval.words import identifier_phrase
from chatdb_server.sql.structure import ColumnStructure, JoinEdge, StoredTable, TableStructure


@dataclass(frozen=True)
class DocumentOptions:
    """What a table document includes; the defaults are the best variant measured."""

    raw_names: bool = True
    """Also give the names exactly as in the database (helps when questions quote them)."""
    expand_abbreviations: bool = False
    """Spell out abbreviations (``stu`` → student); measured neutral to slightly worse on Spider."""
    column_types: bool = False
    key_roles: bool = True
    """Mark primary keys and say which table a foreign key references."""
    joins: bool = True
    """List the tables this one joins to (declared and inferred)."""
    sample_values: int = 0
    """Sample values per text-like column; 0 leaves them out."""
    max_columns: int = 60
    max_value_chars: int = 40
    description: bool = False
    """Include a stored table's description. Discovery writes it from the structure (``schema.describe``), so
    it repeats the name, columns, keys and joins the document already lists: measured neutral on recall
    (r@3 0.991 with it, 0.990 without) while doubling the tokens to embed, the whole cost of training. The
    table search ranks the sample shop's tables as it did with it since the lexical bonus weighs a table's
    whole name (``retrieval.lexical``)."""


DEFAULT_OPTIONS = DocumentOptions()


def table_document(table: TableStructure, joins: list[JoinEdge], description: str = "",
                   options: DocumentOptions = DEFAULT_OPTIONS) -> str:
    """The text embedded for ``table``; ``joins`` may cover the whole source (only this table's are used)."""
    expand = options.expand_abbreviations
    lines = [_name_line(table.name, "table", options)]
    for text in dict.fromkeys(t.strip() for t in (description, table.comment) if t.strip()):
        lines.append(text)
    references = _references(table, joins)
    column_parts = [_column_part(column, table, references, options)
                    for column in table.columns[:options.max_columns]]
    if column_parts:
        lines.append("columns: " + "; ".join(column_parts))
    if options.joins:
        neighbours = _neighbours(table.name, joins)
        if neighbours:
            lines.append("joins: " + ", ".join(identifier_phrase(n, expand=expand) for n in neighbours))
    if options.sample_values:
        samples = _samples(table, options)
        if samples:
            lines.append("values: " + "; ".join(samples))
    return "\n".join(lines)


def stored_table_document(table: StoredTable, joins: list[JoinEdge], exclusions: Exclusions = NO_EXCLUSIONS,
                          options: DocumentOptions = DEFAULT_OPTIONS) -> str:
    """The document of a stored table, its excluded columns left out (its description only when ``options`` ask)."""
    return table_document(without_columns(table.structure, exclusions), joins_without(joins, exclusions),
                          table.description if options.description else "", options)


def _name_line(name: str, what: str, options: DocumentOptions) -> str:
    phrase = identifier_phrase(_bare(name), expand=options.expand_abbreviations)
    if options.raw_names and phrase.replace(" ", "_") != _bare(name).lower():
        return f"{what} {phrase} ({name})"
    return f"{what} {phrase}"


def _column_part(column: ColumnStructure, table: TableStructure, references: dict[str, str],
                 options: DocumentOptions) -> str:
    phrase = identifier_phrase(column.name, expand=options.expand_abbreviations)
    details: list[str] = []
    if options.column_types and column.data_type:
        details.append(column.data_type.lower())
    if options.key_roles:
        if column.primary_key or column.name in table.primary_key:
            details.append("primary key")
        referred = references.get(column.name)
        if referred:
            details.append(f"references {identifier_phrase(_bare(referred), expand=options.expand_abbreviations)}")
    if column.comment.strip():
        details.append(column.comment.strip())
    return f"{phrase} ({', '.join(details)})" if details else phrase


def _references(table: TableStructure, joins: Iterable[JoinEdge]) -> dict[str, str]:
    """Column → the table it references, from declared foreign keys and this table's outgoing joins."""
    out: dict[str, str] = {}
    for fk in table.foreign_keys:
        for column in fk.columns:
            out.setdefault(column, fk.referred_table)
    for edge in joins:
        if edge.from_table == table.name and edge.to_table != table.name:
            for column in edge.from_columns:
                out.setdefault(column, edge.to_table)
    return out


def _neighbours(name: str, joins: Iterable[JoinEdge]) -> list[str]:
    seen: dict[str, None] = {}
    for edge in joins:
        if edge.from_table == name and edge.to_table != name:
            seen[edge.to_table] = None
        elif edge.to_table == name and edge.from_table != name:
            seen[edge.from_table] = None
    return list(seen)


def _samples(table: TableStructure, options: DocumentOptions) -> list[str]:
    parts = []
    for column, values in table.sample_values.items():
        shown = [v[:options.max_value_chars] for v in values if v and v.strip()][:options.sample_values]
        if shown:
            parts.append(f"{identifier_phrase(column, expand=options.expand_abbreviations)}: {', '.join(shown)}")
    return parts


def _bare(name: str) -> str:
    """The table part of a possibly schema-qualified name."""
    return name.rsplit(".", 1)[-1]
