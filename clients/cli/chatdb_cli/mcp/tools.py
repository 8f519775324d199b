"""The MCP tools: each one ChatDB call (or two) through the gateway, its reply as a JSON object.

A call ChatDB refuses becomes an MCP tool error (``isError``) whose text and structured content name
the gRPC status, the stable reason (``UNSAFE_SQL``, ``NOT_TRAINED``, ...) and the message; never a
traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, ParamSpec

import grpc
from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from chatdb_cli.mcp import replies
from chatdb_cli.mcp.gateway import ChatDBGateway
from chatdb_client import ChatDBError

MAX_TOOL_ROWS = 200
"""The most rows a tool result carries; a larger result is cut and marked ``truncated``."""
DEFAULT_TOOL_ROWS = 50
SAMPLE_ROWS = 3

P = ParamSpec("P")

Source = Annotated[str, Field(description="The data source: its id (e.g. 'shop') or 'dataSources/{id}'.")]
MaxRows = Annotated[int, Field(ge=1, le=MAX_TOOL_ROWS, description="The most rows to return.")]
PreviousQuery = Annotated[str, Field(description="The 'query' of an earlier answer (dataSources/{id}/queries/{q}) "
                                                 "this question follows up; empty for a new conversation.")]
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)


def error_result(error: ChatDBError) -> CallToolResult:
    """A refused call as an MCP tool error: status, reason and message, as text and as structured content."""
    fields = replies.error_fields(error)
    reason = f" [{fields['reason']}]" if fields["reason"] else ""
    text = f"{fields['code']}{reason}: {fields['message']}"
    if "field_violations" in fields:
        text += "; " + "; ".join(f"{v['field']}: {v['description']}" for v in fields["field_violations"])
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content={"error": fields},
                          is_error=True)


def reports_errors(tool: Callable[P, Awaitable[dict[str, Any]]]) -> Callable[P, Awaitable[Any]]:
    """Turn a ChatDB error raised by ``tool`` into :func:`error_result` (the signature is kept for the schema)."""
    @functools.wraps(tool)
    async def guarded(*args: P.args, **kwargs: P.kwargs) -> Any:
        try:
            return await tool(*args, **kwargs)
        except ChatDBError as error:
            return error_result(error)
        except ValueError as error:  # the SDK's own argument checks, before any call
            return error_result(ChatDBError(grpc.StatusCode.INVALID_ARGUMENT, str(error)))

    return guarded


def register_tools(server: MCPServer[Any], chatdb: ChatDBGateway) -> None:
    """Add ChatDB's tools to ``server``."""

    @server.tool(annotations=READ_ONLY)
    @reports_errors
    async def list_data_sources() -> dict[str, Any]:
        """List the data sources (databases) this key may use, with their dialect, table count and the URI
        of their schema resource."""
        sources = await chatdb.client.list_data_sources()
        return {"data_sources": [replies.data_source(s) for s in sources]}

    @server.tool(annotations=READ_ONLY)
    @reports_errors
    async def search_tables(
            data_source: Source,
            query: Annotated[str, Field(description="What to look for, in plain language or as words of names.")],
            limit: Annotated[int, Field(ge=1, le=50, description="The most tables the query finds.")] = 10,
    ) -> dict[str, Any]:
        """Search a trained data source's tables by meaning: the best matches first, each with its score and
        why it matched (query words in its name, matching columns, tables it joins), then the tables needed
        to join them."""
        return replies.table_matches(await chatdb.client.search_tables(data_source, query, limit))

    @server.tool(annotations=READ_ONLY)
    @reports_errors
    async def describe_table(
            data_source: Source,
            table: Annotated[str, Field(description="The table's name in the database, e.g. 'orders'.")],
    ) -> dict[str, Any]:
        """Describe one table: its columns and types, primary and foreign keys, the joins to other tables
        (declared and inferred) and a few sample rows."""
        found = await chatdb.client.get_table(data_source, table)
        graph = await chatdb.client.get_schema_graph(data_source)
        return replies.table_description(found, graph.edges, SAMPLE_ROWS)

    @server.tool(annotations=READ_ONLY)
    @reports_errors
    async def ask(
            data_source: Source,
            question: Annotated[str, Field(description="The question, in plain language.")],
            max_rows: MaxRows = DEFAULT_TOOL_ROWS,
            previous_query: PreviousQuery = "",
    ) -> dict[str, Any]:
        """Answer a question about a data source: ChatDB writes guarded, read-only SQL, runs it and returns
        the SQL, how it answers the question and the rows. Keep the returned 'query' to give feedback, or to
        continue the conversation: pass it as 'previous_query' with a follow-up such as "only those in Berlin",
        "sort them by price" or "how many are there?", which then refines that answer's SQL."""
        result = await chatdb.client.ask(data_source, question, max_rows=max_rows, previous_query=previous_query)
        return replies.answer(result, max_rows)

    @server.tool(annotations=READ_ONLY)
    @reports_errors
    async def execute_sql(
            data_source: Source,
            sql: Annotated[str, Field(description="One read-only SELECT in the source's dialect.")],
            max_rows: MaxRows = DEFAULT_TOOL_ROWS,
    ) -> dict[str, Any]:
        """Run one read-only SQL query through ChatDB's guard and return its rows. Anything but a single
        SELECT over known tables is refused (UNSAFE_SQL)."""
        result = await chatdb.client.execute_sql(data_source, sql, max_rows=max_rows)
        return replies.query_result(result, max_rows)

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False))
    @reports_errors
    async def submit_feedback(
            query: Annotated[str, Field(description="The 'query' an ask returned: dataSources/{id}/queries/{q}.")],
            correct: Annotated[bool, Field(description="Whether the SQL answered the question.")],
            corrected_sql: Annotated[str, Field(description="For a wrong answer: SQL that answers it.")] = "",
            comment: Annotated[str, Field(description="Free text.")] = "",
    ) -> dict[str, Any]:
        """Say whether an answer was right. A correct answer, or a corrected SQL, becomes a golden example
        that teaches ChatDB the question."""
        stored = await chatdb.client.submit_feedback(query, correct, corrected_sql, comment)
        return replies.recorded_query(stored)
