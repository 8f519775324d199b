"""The schema context of one question: the tables (most relevant first) and joins the SQL may use.

The retriever builds it; every generator (a model's prompt, the grammar, the template
generator) and the fine-tune dataset read it. Joins are :class:`chatdb_server.sql.structure.JoinEdge`,
the one join model of the suite.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection
from dataclasses import dataclass

from chatdb_server.sql.structure import JoinEdge


@dataclass(frozen=True)
class ColumnInfo:
    """A column as a generator sees it."""

    name: str
    data_type: str = ""
    primary_key: bool = False
    comment: str = ""
    sample_values: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableInfo:
    """A table as a generator sees it (name as in the database, schema-qualified if needed)."""

    name: str
    columns: tuple[ColumnInfo, ...]
    description: str = ""
    score: float = 0.0


@dataclass(frozen=True)
class SchemaContext:
    """The tables (most relevant first) and joins the SQL may use."""

    tables: tuple[TableInfo, ...]
    joins: tuple[JoinEdge, ...] = ()

    def table(self, name: str) -> TableInfo | None:
        """The table called ``name`` (case-insensitive), if present."""
        lowered = name.lower()
        return next((t for t in self.tables if t.name.lower() == lowered), None)

    def without_columns(self, excluded: Collection[tuple[str, str]],
                        unsampled: Collection[tuple[str, str]] = ()) -> SchemaContext:
        """The context as a caller bound by column policies may see it: no ``excluded`` column (nor a join
        through one, nor a table description that names one), and no sample values of ``unsampled``
        columns; pairs are lower-case (table, column)."""
        def hidden(pairs: Collection[tuple[str, str]], table: str, columns: Collection[str]) -> bool:
            return any((table.lower(), c.lower()) in pairs for c in columns)

        def visible(table: TableInfo) -> TableInfo:
            names = [c for t, c in excluded if t == table.name.lower()]
            mentions = re.compile("|".join(rf"\b{re.escape(n)}\b" for n in names), re.IGNORECASE) if names else None
            return dataclasses.replace(
                table, description="" if mentions and mentions.search(table.description) else table.description,
                columns=tuple(dataclasses.replace(c, sample_values=()) if hidden(unsampled, table.name, [c.name])
                              else c for c in table.columns if not hidden(excluded, table.name, [c.name])))

        joins = tuple(j for j in self.joins if not (hidden(excluded, j.from_table, j.from_columns)
                                                    or hidden(excluded, j.to_table, j.to_columns)))
        return SchemaContext(tuple(visible(t) for t in self.tables), joins)
