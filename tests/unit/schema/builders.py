"""Small builders of discovered tables for unit tests."""

from __future__ import annotations

from chatdb_server.sql.structure import ColumnStructure, ForeignKeyStructure, IndexStructure, TableStructure
from chatdb_server.sql.types import value_type_for_database_type


def col(name: str, data_type: str = "INTEGER", nullable: bool = True) -> ColumnStructure:
    """A column whose value type follows from its database type."""
    return ColumnStructure(name=name, data_type=data_type, value_type=value_type_for_database_type(data_type),
                           nullable=nullable)


def table(name: str, *columns: ColumnStructure, pk: tuple[str, ...] = (), fks: tuple[ForeignKeyStructure, ...] = (),
          indexes: tuple[IndexStructure, ...] = (), kind: str = "TABLE", schema: str = "") -> TableStructure:
    """A table; primary-key columns are marked and made NOT NULL."""
    marked = tuple(ColumnStructure(c.name, c.data_type, c.value_type, c.nullable and c.name not in pk, c.default,
                                   c.comment, c.name in pk) for c in columns)
    return TableStructure(name=name, schema=schema, kind=kind, columns=marked, primary_key=pk, foreign_keys=fks,
                          indexes=indexes)


def fk(columns: tuple[str, ...], referred: str, referred_columns: tuple[str, ...], name: str = "",
       on_delete: str = "") -> ForeignKeyStructure:
    """A declared foreign key."""
    return ForeignKeyStructure(columns=columns, referred_table=referred, referred_columns=referred_columns,
                               name=name, on_delete=on_delete)
