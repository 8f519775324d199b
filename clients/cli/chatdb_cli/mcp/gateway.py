"""The MCP server's one connection to ChatDB: the SDK's asyncio client, opened when the MCP server starts
serving and closed when it stops."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from chatdb_cli.connection import Connection, open_async_client
from chatdb_client import AsyncChatDBClient


class ChatDBGateway:
    """What tools and resources call: :attr:`client`, the SDK."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._client: AsyncChatDBClient | None = None

    @asynccontextmanager
    async def opened(self) -> AsyncIterator[ChatDBGateway]:
        """Open the channel for as long as the context lasts (the MCP server's lifespan)."""
        client = open_async_client(self.connection)
        self._client = client
        try:
            yield self
        finally:
            self._client = None
            await client.close()

    @property
    def client(self) -> AsyncChatDBClient:
        """The SDK client; only while :meth:`opened`."""
        if self._client is None:
            raise RuntimeError("the ChatDB connection is not open: the MCP server is not serving")
        return self._client
