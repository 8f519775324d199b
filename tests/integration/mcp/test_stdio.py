"""``chatdb mcp`` over stdio, driven by the MCP SDK's own client, which spawns it as an agent would; every
tool and resource answers from the real ChatDB suite of the conftest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.types import CallToolResult, TextResourceContents

from tests.integration.mcp.conftest import MCP_COMMAND, ChatDB

pytestmark = [pytest.mark.asyncio(loop_scope="package"), pytest.mark.slow]
TOOLS = {"list_data_sources", "search_tables", "describe_table", "ask", "execute_sql", "submit_feedback"}


@asynccontextmanager
async def agent(chatdb: ChatDB, api_key: str | None = None) -> AsyncIterator[Client]:
    """An MCP client connected to a ``chatdb mcp`` process it started over stdio."""
    server = StdioServerParameters(command=MCP_COMMAND[0], args=MCP_COMMAND[1:], env=chatdb.env(api_key))
    async with Client(server, read_timeout_seconds=60) as client:
        yield client


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """A tool's structured result; fails the test on a tool error."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


def error_text(result: CallToolResult) -> str:
    assert result.is_error, result
    return " ".join(getattr(block, "text", "") for block in result.content)


async def test_the_tools_are_listed_with_their_schemas(chatdb: ChatDB) -> None:
    async with agent(chatdb) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    assert all(tool.description for tool in tools.values())
    assert set(tools["ask"].input_schema["required"]) == {"data_source", "question"}
    assert "previous_query" in tools["ask"].input_schema["properties"]
    assert tools["execute_sql"].input_schema["properties"]["max_rows"]["maximum"] == 200


async def test_sources_search_and_a_table_description_come_from_the_schema(chatdb: ChatDB) -> None:
    async with agent(chatdb) as client:
        sources = (await call(client, "list_data_sources"))["data_sources"]
        found = (await call(client, "search_tables", data_source="shop", query="payment method of each order",
                            limit=3))["tables"]
        orders = await call(client, "describe_table", data_source="shop", table="orders")
    assert [(s["id"], s["dialect"], s["schema_resource"]) for s in sources] == [
        ("shop", "SQLITE", "chatdb://sources/shop/schema")]
    assert found[0]["table"] == "payments" and found[0]["reason"] == "SEARCH"
    assert "method" in found[0]["matched_columns"]
    columns = {c["name"]: c for c in orders["columns"]}
    assert set(columns) == {"id", "customer_id", "order_date", "status", "total_amount"}
    assert columns["id"]["primary_key"] and not columns["status"]["nullable"]
    assert orders["primary_key"] == ["id"]
    assert {"columns": ["customer_id"], "referred_table": "customers", "referred_columns": ["id"]} in \
        orders["foreign_keys"]
    assert {(j["from_table"], j["to_table"]) for j in orders["joins"]} >= {("orders", "customers"),
                                                                         ("payments", "orders")}
    assert orders["sample_rows"] and len(orders["sample_rows"][0]) == len(columns)


async def test_ask_returns_the_sql_its_rows_and_takes_feedback_audited_as_the_key(chatdb: ChatDB) -> None:
    question = "How many customers are there?"
    async with agent(chatdb) as client:
        answer = await call(client, "ask", data_source="shop", question=question)
        rated = await call(client, "submit_feedback", query=answer["query"], correct=True)
    assert "count" in answer["sql"].lower() and "customers" in answer["sql"].lower()
    assert answer["rows"] == chatdb.rows("SELECT COUNT(*) FROM customers")
    assert answer["explanation"] and answer["tables_used"] == ["customers"]
    assert answer["answer_text"].startswith("There are ") and answer["answer_text"].endswith(" customers.")
    assert rated["query"] == answer["query"] and rated["rating"] == "CORRECT"
    events = await chatdb.audit_events()
    asked = [e for e in events if e.method == "/chatdb.query.v1.QueryService/Ask" and e.question == question]
    assert asked and asked[0].status_code == "OK" and asked[0].row_count == 1
    assert any(e.method == "/chatdb.query.v1.QueryService/SubmitFeedback" for e in events)


async def test_ask_continues_a_conversation_from_the_query_it_returned(chatdb: ChatDB) -> None:
    async with agent(chatdb) as client:
        listed = await call(client, "ask", data_source="shop", question="List the customers")
        berlin = await call(client, "ask", data_source="shop", question="only those in Berlin",
                            previous_query=listed["query"])
        counted = await call(client, "ask", data_source="shop", question="how many are there?",
                             previous_query=berlin["query"])
        unknown = await client.call_tool("ask", {"data_source": "shop", "question": "only those in Paris",
                                                 "previous_query": "dataSources/shop/queries/qnosuchquery00000"})
    assert listed["query"].startswith("dataSources/shop/queries/") and berlin["query"] != listed["query"]
    assert "WHERE city = 'Berlin'" in berlin["sql"]
    assert sorted(berlin["rows"]) == sorted(chatdb.rows("SELECT name FROM customers WHERE city = 'Berlin'"))
    assert counted["rows"] == chatdb.rows("SELECT COUNT(*) FROM customers WHERE city = 'Berlin'")
    assert error_text(unknown).startswith("NOT_FOUND")


async def test_execute_sql_bounds_its_rows_and_unsafe_sql_is_a_tool_error(chatdb: ChatDB) -> None:
    customers = chatdb.rows("SELECT COUNT(*) FROM customers")
    async with agent(chatdb) as client:
        rows = await call(client, "execute_sql", data_source="shop",
                          sql="SELECT id, name, city FROM customers ORDER BY id", max_rows=3)
        unsafe = await client.call_tool("execute_sql", {"data_source": "shop", "sql": "DELETE FROM customers"})
        unknown = await client.call_tool("ask", {"data_source": "nowhere", "question": "How many customers?"})
    assert rows["rows"] == chatdb.rows("SELECT id, name, city FROM customers ORDER BY id LIMIT 3")
    assert rows["truncated"] and [c["name"] for c in rows["columns"]] == ["id", "name", "city"]
    assert "UNSAFE_SQL" in error_text(unsafe) and "Traceback" not in error_text(unsafe)
    assert unsafe.structured_content is not None
    assert unsafe.structured_content["error"]["code"] == "INVALID_ARGUMENT"
    assert unsafe.structured_content["error"]["reason"] == "UNSAFE_SQL"
    assert chatdb.rows("SELECT COUNT(*) FROM customers") == customers
    assert error_text(unknown).startswith("NOT_FOUND")


async def test_each_sources_schema_is_a_listed_readable_resource(chatdb: ChatDB) -> None:
    async with agent(chatdb) as client:
        listed = (await client.list_resources()).resources
        read = (await client.read_resource("chatdb://sources/shop/schema")).contents
    assert [(str(r.uri), r.mime_type) for r in listed] == [("chatdb://sources/shop/schema", "text/markdown")]
    assert len(read) == 1 and isinstance(read[0], TextResourceContents)
    text = read[0].text
    for table in ("customers", "orders", "order_items", "payments", "products", "reviews"):
        assert f"## {table}\n" in text
    assert "| total_amount | NUMERIC(10, 2) | no |  |" in text
    assert "`orders.(customer_id)` = `customers.(id)` declared" in text


async def test_a_wrong_api_key_is_refused_on_every_call(chatdb: ChatDB) -> None:
    async with agent(chatdb, api_key="chatdb_not_a_real_key") as client:
        refused = await client.call_tool("list_data_sources", {})
        searched = await client.call_tool("search_tables", {"data_source": "shop", "query": "orders"})
    assert error_text(refused).startswith("UNAUTHENTICATED")
    assert error_text(searched).startswith("UNAUTHENTICATED")
