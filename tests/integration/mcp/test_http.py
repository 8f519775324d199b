"""``chatdb mcp --transport http``: a server process on a free port, reached by the MCP SDK's own
streamable-HTTP client; requests without the bearer token, or with another, are refused before any
MCP message is read."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import TextResourceContents

from tests.integration.mcp.conftest import MCP_COMMAND, ChatDB

pytestmark = [pytest.mark.asyncio(loop_scope="package"), pytest.mark.slow]
READY_TIMEOUT_S = 60.0
CONFIGURED_TOKEN = "a-token-for-mcp-clients-only"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def http_server(chatdb: ChatDB, *options: str, **env: str) -> Iterator[str]:
    """``chatdb mcp --transport http`` on a free port, once it accepts connections; yields its endpoint URL."""
    port = free_port()
    process = subprocess.Popen([*MCP_COMMAND, "--transport", "http", "--port", str(port), *options],
                               env=chatdb.env(**env), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            assert process.poll() is None, process.communicate()[1]
            try:
                httpx2.get(url, timeout=1.0)
                break
            except httpx2.TransportError:
                assert time.monotonic() < deadline, "the MCP server did not start listening"
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(30)


@asynccontextmanager
async def agent(url: str, token: str) -> AsyncIterator[Client]:
    """An MCP client that sends ``token`` as its bearer token."""
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60.0) as http, \
            Client(streamable_http_client(url, http_client=http), read_timeout_seconds=60) as client:
        yield client


def initialize(url: str, token: str | None) -> httpx2.Response:
    """A bare MCP initialize request, with ``token`` as the bearer (none when None)."""
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}}}
    return httpx2.post(url, json=body, headers=headers, timeout=10.0)


async def test_tools_and_resources_answer_a_client_with_the_api_key_as_bearer(chatdb: ChatDB) -> None:
    with http_server(chatdb) as url:
        async with agent(url, chatdb.agent_key) as client:
            tools = {tool.name for tool in (await client.list_tools()).tools}
            answer = await client.call_tool("ask", {"data_source": "shop", "question": "How many customers are there?"})
            schema = (await client.read_resource("chatdb://sources/shop/schema")).contents
    assert {"ask", "execute_sql", "search_tables", "describe_table"} <= tools
    assert not answer.is_error and answer.structured_content is not None
    assert answer.structured_content["rows"] == chatdb.rows("SELECT COUNT(*) FROM customers")
    assert isinstance(schema[0], TextResourceContents) and "## customers\n" in schema[0].text


async def test_requests_without_the_token_or_with_another_are_refused(chatdb: ChatDB) -> None:
    with http_server(chatdb) as url:
        missing = initialize(url, None)
        wrong = initialize(url, "chatdb_not_the_key")
        right = initialize(url, chatdb.agent_key)
    assert missing.status_code == 401 and "Bearer" in missing.headers["www-authenticate"]
    assert wrong.status_code == 401
    assert right.status_code == 200
    assert chatdb.agent_key not in missing.text + wrong.text


async def test_a_configured_token_replaces_the_api_key_as_bearer(chatdb: ChatDB) -> None:
    with http_server(chatdb, CHATDB_MCP_TOKEN=CONFIGURED_TOKEN) as url:
        assert initialize(url, chatdb.agent_key).status_code == 401
        async with agent(url, CONFIGURED_TOKEN) as client:
            found = await client.call_tool("search_tables", {"data_source": "shop", "query": "orders", "limit": 1})
    assert not found.is_error and found.structured_content is not None
    assert found.structured_content["tables"][0]["table"] == "orders"


async def test_a_wrong_api_key_reaches_the_agent_as_a_tool_error(chatdb: ChatDB) -> None:
    with http_server(chatdb, api_key="chatdb_not_a_real_key", CHATDB_MCP_TOKEN=CONFIGURED_TOKEN) as url:
        async with agent(url, CONFIGURED_TOKEN) as client:
            refused = await client.call_tool("list_data_sources", {})
    assert refused.is_error and refused.structured_content is not None
    assert refused.structured_content["error"]["code"] == "UNAUTHENTICATED"
