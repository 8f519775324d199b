"""Searching a source's tables by meaning, for a caller who browses rather than asks (SearchTables).

A table's score is what a question's retrieval gives it: the cosine similarity of its document to
the query plus the lexical bonus of the query's words in its table and column names. Unlike an
ask, every score and every reason is computed over the schema as the caller may see it, so a
column that a policy excludes neither lifts a table nor appears among the reasons. The best
tables come first; the tables needed to join them follow, as an ask's retrieval adds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chatdb_server.retrieval.context import SchemaContext, TableInfo
from chatdb_server.retrieval.join_paths import bridge_tables, join_graph
from chatdb_server.retrieval.lexical import lexical_bonus, name_words
from chatdb_server.retrieval.retriever import JOIN_NEIGHBOR, SEARCH
from chatdb_server.retrieval.words import content_words, identifier_words


@dataclass(frozen=True)
class TableMatch:
    """A table a search found (``SEARCH``) or needs to join those it found (``JOIN_NEIGHBOR``), and why."""

    table: str
    score: float
    reason: str
    matched_words: tuple[str, ...] = ()
    """Query words in the table's name."""
    matched_columns: tuple[str, ...] = ()
    """Columns whose names share a word with the query."""
    joins_with: tuple[str, ...] = ()
    """Other tables of the result this one joins directly."""
    description: str = ""


def rank_tables(query: str, similarity: Mapping[str, float], schema: SchemaContext, k: int,
                lexical_weight: float, max_hops: int) -> list[TableMatch]:
    """The ``k`` best tables of ``schema`` for ``query``, then the bridges that join them.

    ``similarity`` is the cosine of each table's document to the query (tables without one are not
    searched); ``schema`` is every searched table and join as the caller may see them."""
    tables = [t for t in schema.tables if t.name in similarity]
    if not tables:
        return []
    words = name_words([(t.name, [c.name for c in t.columns]) for t in tables],
                       [t.name for t in schema.tables if t.name not in similarity])
    bonus = lexical_bonus(query, words, lexical_weight)
    scores = {t.name: similarity[t.name] + float(b) for t, b in zip(tables, bonus, strict=True)}
    ranked = sorted(tables, key=lambda t: (-scores[t.name], t.name))[:k]
    graph = join_graph(schema.joins, set(scores))
    bridges = bridge_tables([t.name for t in ranked], graph, max_hops)
    by_name = {t.name: t for t in tables}
    chosen = [(t, SEARCH) for t in ranked] + [(by_name[name], JOIN_NEIGHBOR) for name in bridges]
    names = {t.name for t, _ in chosen}
    asked = content_words(query)
    return [_match(table, scores[table.name], reason, asked, sorted(graph.get(table.name, set()) & names))
            for table, reason in chosen]


def _match(table: TableInfo, score: float, reason: str, asked: set[str], joins_with: list[str]) -> TableMatch:
    return TableMatch(
        table=table.name, score=score, reason=reason,
        matched_words=tuple(sorted(_words(table.name) & asked)),
        matched_columns=tuple(c.name for c in table.columns if _words(c.name) & asked),
        joins_with=tuple(joins_with), description=table.description)


def _words(name: str) -> set[str]:
    return content_words(" ".join(identifier_words(name)))
