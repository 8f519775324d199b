"""ChatDB's replies as the JSON objects the MCP tools return: plain names and values an agent reads,
rows bounded, never a credential (a data source's DSN is not carried at all)."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from chatdb.common.v1 import dialect_pb2, join_pb2
from chatdb.query.v1 import query_pb2, query_service_pb2
from chatdb.schema.v1 import schema_pb2
from chatdb_client import AskResult, ChatDBError, QueryResult
from chatdb_client.values import from_rows

SCHEMA_URI = "chatdb://sources/{id}/schema"
"""The URI template of a data source's schema resource."""


def schema_uri(source_id: str) -> str:
    """The schema resource of the data source ``source_id``."""
    return SCHEMA_URI.format(id=source_id)


def source_id(name: str) -> str:
    """``shop`` of ``dataSources/shop``."""
    return name.rsplit("/", 1)[-1]


def json_value(value: Any) -> Any:
    """A typed row value as JSON: decimals as exact strings, times in ISO 8601, bytes in base64."""
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return value


def json_rows(rows: Iterable[Sequence[Any]]) -> list[list[Any]]:
    """Rows of typed values as JSON arrays."""
    return [[json_value(v) for v in row] for row in rows]


def error_fields(error: ChatDBError) -> dict[str, Any]:
    """What an agent needs of a failed call: the gRPC status, the stable reason, the message, bad fields."""
    fields: dict[str, Any] = {"code": error.code.name, "reason": error.reason, "message": error.message}
    if error.field_violations:
        fields["field_violations"] = [{"field": v.field, "description": v.description}
                                      for v in error.field_violations]
    return fields


def data_source(source: schema_pb2.DataSource) -> dict[str, Any]:
    """A data source as listed: its name, dialect, size, and where its schema resource is."""
    ident = source_id(source.name)
    return {"name": source.name, "id": ident, "display_name": source.display_name,
            "dialect": dialect_pb2.Dialect.Name(source.dialect).removeprefix("DIALECT_"),
            "table_count": source.table_count, "schema_resource": schema_uri(ident)}


def table_matches(reply: query_service_pb2.SearchTablesResponse) -> dict[str, Any]:
    """SearchTables' tables, best first, with why each matched."""
    return {"tables": [
        {"table": m.table, "score": round(m.score, 4),
         "reason": query_pb2.RetrievalReason.Name(m.reason).removeprefix("RETRIEVAL_REASON_"),
         "matched_words": list(m.matched_words), "matched_columns": list(m.matched_columns),
         "joins_with": list(m.joins_with), "description": m.description}
        for m in reply.tables]}


def join_edge(edge: join_pb2.JoinEdge) -> dict[str, Any]:
    """One join of the schema graph."""
    return {"from_table": edge.from_table, "from_columns": list(edge.from_columns), "to_table": edge.to_table,
            "to_columns": list(edge.to_columns),
            "kind": join_pb2.JoinEdgeKind.Name(edge.kind).removeprefix("JOIN_EDGE_KIND_"),
            "confidence": round(edge.confidence, 3)}


def table_description(table: schema_pb2.Table, edges: Iterable[join_pb2.JoinEdge],
                      sample_rows: int) -> dict[str, Any]:
    """A table's columns, types, keys, the joins that touch it and a few sample rows."""
    name = table.table
    return {
        "table": name, "kind": schema_pb2.TableKind.Name(table.kind).removeprefix("TABLE_KIND_"),
        "description": table.description or table.comment, "row_estimate": table.row_estimate,
        "columns": [{"name": c.name, "data_type": c.data_type, "nullable": c.nullable,
                     "primary_key": c.primary_key, "comment": c.comment} for c in table.columns],
        "primary_key": list(table.primary_key),
        "foreign_keys": [{"columns": list(fk.columns), "referred_table": fk.referred_table,
                          "referred_columns": list(fk.referred_columns)} for fk in table.foreign_keys],
        "joins": [join_edge(e) for e in edges if name in (e.from_table, e.to_table)],
        "sample_rows": json_rows(from_rows(table.sample_rows[:sample_rows])),
    }


def query_result(result: QueryResult, max_rows: int) -> dict[str, Any]:
    """Rows of an ExecuteSql (or an ask): the SQL that ran, the columns, at most ``max_rows`` rows."""
    return {"query": result.query, "sql": result.sql,
            "columns": [{"name": c.name, "type": c.type} for c in result.columns],
            "rows": json_rows(result.rows[:max_rows]), "row_count": result.row_count,
            "truncated": result.truncated or len(result.rows) > max_rows,
            "warnings": result.warnings, "served_by": result.served_by}


def answer(result: AskResult, max_rows: int) -> dict[str, Any]:
    """An ask's answer: the SQL, how it answers the question, and its rows (bounded)."""
    return {**query_result(result, max_rows), "explanation": result.explanation,
            "confidence": round(result.confidence, 4), "tables_used": result.tables_used,
            "answer_text": result.answer_text,
            **({"low_confidence": True, "closest_tables": result.retrieved_tables,
                "suggested_question": result.suggested_question} if result.low_confidence else {})}


def recorded_query(query: query_pb2.Query) -> dict[str, Any]:
    """A recorded query with its feedback."""
    return {"query": query.name, "question": query.question, "sql": query.sql,
            "rating": query_pb2.FeedbackRating.Name(query.feedback.rating).removeprefix("FEEDBACK_RATING_"),
            "example": query.feedback.example}
