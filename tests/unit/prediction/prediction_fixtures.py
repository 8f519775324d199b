"""A small schema shared by the PredictionService unit tests."""

from __future__ import annotations

from chatdb_server.generation.interface import GenerationRequest
from chatdb_server.retrieval.context import ColumnInfo, SchemaContext, TableInfo
from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.structure import JoinEdge

SINGER = TableInfo("singer", (
    ColumnInfo("singer_id", "INTEGER", primary_key=True),
    ColumnInfo("name", "TEXT", sample_values=("Joe Sharp", "O'Brien")),
    ColumnInfo("country", "TEXT", comment="country of birth", sample_values=("France", "Netherlands")),
    ColumnInfo("age", "INTEGER"),
    ColumnInfo("order", "INTEGER"),
), description="singers who performed")
CONCERT = TableInfo("concert", (
    ColumnInfo("concert_id", "INTEGER", primary_key=True),
    ColumnInfo("concert_name", "TEXT"),
    ColumnInfo("singer_id", "INTEGER"),
    ColumnInfo("year", "INTEGER"),
))
SCHEMA = SchemaContext(tables=(SINGER, CONCERT),
                       joins=(JoinEdge("concert", ("singer_id",), "singer", ("singer_id",)),))
KNOWN_TABLES = {"singer", "concert"}


def request(question: str = "How many singers are there?", **changes: object) -> GenerationRequest:
    """A valid request over :data:`SCHEMA`, with fields changed."""
    values: dict[str, object] = {"question": question, "dialect": Dialect.SQLITE, "schema": SCHEMA}
    values.update(changes)
    return GenerationRequest(**values)  # type: ignore[arg-type]
