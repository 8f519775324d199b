"""The MCP server's one connection to ChatDB: the SDK's asyncio client and the stub calls beside it,
opened when the MCP server starts serving and closed when it stops."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from chatdb_cli.connection import Connection, open_async_client
from chatdb_cli.mcp.stub_calls import StubCalls
from chatdb_client import AsyncChatDBClient


class ChatDBGateway:
    """What tools and resources call: :attr:`client` (the SDK) and :attr:`stubs` (what it lacks)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._opened: tuple[AsyncChatDBClient, StubCalls] | None = None

    @asynccontextmanager
    async def opened(self) -> AsyncIterator[ChatDBGateway]:
        """Open the channel for as long as the context lasts (the MCP server's lifespan)."""
        client = open_async_client(self.connection)
        self._opened = (client, StubCalls(client, self.connection))
        try:
            yield self
        finally:
            self._opened = None
            await client.close()

    @property
    def client(self) -> AsyncChatDBClient:
        """The SDK client; only while :meth:`opened`."""
        return self._require()[0]

    @property
    def stubs(self) -> StubCalls:
        """What the SDK lacks (SearchTables); only while :meth:`opened`."""
        return self._require()[1]

    def _require(self) -> tuple[AsyncChatDBClient, StubCalls]:
        if self._opened is None:
            raise RuntimeError("the ChatDB connection is not open: the MCP server is not serving")
        return self._opened
