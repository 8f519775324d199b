"""The MCP resources: the schema of every data source the key may use, as Markdown an agent reads
before it asks (``chatdb://sources/{id}/schema``): tables, columns and types, keys, and the joins
ChatDB knows (declared and inferred). Listed from ListDataSources, read from ListTables and
GetSchemaGraph, so a key sees only its own sources and never a column its policies exclude."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp.types import Resource

from chatdb.common.v1 import dialect_pb2, join_pb2
from chatdb.schema.v1 import schema_pb2
from chatdb_cli.mcp import replies
from chatdb_cli.mcp.gateway import ChatDBGateway
from chatdb_client import ChatDBError

MARKDOWN = "text/markdown"


async def schema_resources(chatdb: ChatDBGateway) -> list[Resource]:
    """One schema resource per data source the key may use."""
    return [Resource(uri=replies.schema_uri(replies.source_id(s.name)), name=f"{replies.source_id(s.name)} schema",
                     title=f"Schema of {s.display_name or s.name}", mime_type=MARKDOWN,
                     description=f"Tables, columns, keys and joins of {s.name} "
                                 f"({dialect_pb2.Dialect.Name(s.dialect).removeprefix('DIALECT_').lower()})")
            for s in await chatdb.client.list_data_sources()]


def register_resources(server: MCPServer[Any], chatdb: ChatDBGateway) -> None:
    """Add the schema resource template to ``server`` (the list of sources comes from :func:`schema_resources`)."""

    @server.resource(replies.SCHEMA_URI, name="schema", title="A data source's schema", mime_type=MARKDOWN,
                     description="Tables, columns, keys and joins of one data source, as Markdown.")
    async def schema(id: str) -> str:
        try:
            source = await chatdb.client.get_data_source(id)
            tables = await chatdb.client.list_tables(id, full=True)
            graph = await chatdb.client.get_schema_graph(id)
        except ChatDBError as error:
            fields = replies.error_fields(error)
            text = f"{fields['code']} [{fields['reason']}]: {fields['message']}"
            if error.code.name == "NOT_FOUND":
                raise ResourceNotFoundError(text) from None
            raise ResourceError(text) from None
        return schema_markdown(source, tables, graph.edges)


def schema_markdown(source: schema_pb2.DataSource, tables: Sequence[schema_pb2.Table],
                    edges: Iterable[join_pb2.JoinEdge]) -> str:
    """The Markdown of a source's schema."""
    dialect = dialect_pb2.Dialect.Name(source.dialect).removeprefix("DIALECT_").lower()
    lines = [f"# {source.display_name or replies.source_id(source.name)}", "",
             f"`{source.name}`, {dialect}, {len(tables)} tables and views.", ""]
    for table in tables:
        lines += _table_markdown(table)
    joins = [replies.join_edge(e) for e in edges]
    if joins:
        lines += ["## Joins", ""]
        lines += [f"- `{j['from_table']}.({', '.join(j['from_columns'])})` = "
                  f"`{j['to_table']}.({', '.join(j['to_columns'])})` {j['kind'].lower()}"
                  + (f", confidence {j['confidence']}" if j["kind"] != "DECLARED" else "") for j in joins]
        lines.append("")
    return "\n".join(lines)


def _table_markdown(table: schema_pb2.Table) -> list[str]:
    kind = schema_pb2.TableKind.Name(table.kind).removeprefix("TABLE_KIND_").lower()
    lines = [f"## {table.table}", "", f"{kind}" + (f", about {table.row_estimate} rows" if table.row_estimate >= 0
                                                     else "")]
    description = table.description or table.comment
    if description:
        lines += ["", description]
    lines += ["", "| column | type | null | key | comment |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {c.name} | {c.data_type} | {'yes' if c.nullable else 'no'} | {'PK' if c.primary_key else ''} | "
              f"{_cell(c.comment)} |" for c in table.columns]
    for fk in table.foreign_keys:
        lines.append(f"\nForeign key ({', '.join(fk.columns)}) → {fk.referred_table}({', '.join(fk.referred_columns)})")
    lines.append("")
    return lines


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
