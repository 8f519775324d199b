"""The schema context of one question: the tables (most relevant first) and joins the SQL may use.

The retriever builds it; every generator (a model's prompt, the grammar, the template
generator) and the fine-tune dataset read it. Joins are :class:`chatdb_server.sql.structure.JoinEdge`,
the one join model of the suite.
"""

from __future__ import annotations

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
