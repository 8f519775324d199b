"""The MCP server: ChatDB's tools and schema resources on the official ``mcp`` SDK's ``MCPServer``,
served over stdio (an agent starts ``chatdb mcp`` itself) or streamable HTTP (one server for many
agents, each request carrying the bearer token of :mod:`chatdb_cli.mcp.http_auth`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.types import INTERNAL_ERROR
from mcp.types import Resource as MCPResource

from chatdb_cli.connection import Connection
from chatdb_cli.mcp import replies
from chatdb_cli.mcp.gateway import ChatDBGateway
from chatdb_cli.mcp.http_auth import StaticTokenVerifier
from chatdb_cli.mcp.resources import register_resources, schema_resources
from chatdb_cli.mcp.tools import register_tools
from chatdb_client import ChatDBError

Transport = Literal["stdio", "http"]
HTTP_PATH = "/mcp"
INSTRUCTIONS = """ChatDB answers questions about relational databases with guarded, read-only SQL.
Start with list_data_sources; read a source's schema resource or use search_tables and describe_table
to find the tables; then ask a question (ask) or run your own SELECT (execute_sql). Tell ChatDB whether
an answer was right with submit_feedback: correct answers teach it. Errors name a gRPC status and a
reason such as UNSAFE_SQL or NOT_TRAINED."""


@dataclass(frozen=True)
class HttpAccess:
    """Where the streamable-HTTP transport listens and the bearer token its clients must send."""

    host: str
    port: int
    token: str


class ChatDBMCPServer(MCPServer[Any]):
    """``MCPServer`` whose resource list is every data source's schema, read from ChatDB at each listing."""

    def __init__(self, chatdb: ChatDBGateway, **options: Any) -> None:
        super().__init__(**options)
        self._chatdb = chatdb

    async def list_resources(self) -> list[MCPResource]:
        """The registered resources and one schema resource per data source the key may use."""
        try:
            sources = await schema_resources(self._chatdb)
        except ChatDBError as error:
            fields = replies.error_fields(error)
            raise MCPError(code=INTERNAL_ERROR, message=f"{fields['code']} [{fields['reason']}]: {fields['message']}",
                           data=fields) from None
        return [*await super().list_resources(), *sources]


def build_server(connection: Connection, http: HttpAccess | None = None) -> ChatDBMCPServer:
    """The MCP server over ``connection``; with ``http``, every HTTP request must carry its bearer token."""
    chatdb = ChatDBGateway(connection)
    auth: dict[str, Any] = {}
    if http is not None:
        # A resource server with a static token: no authorization server exists, so the issuer is the server
        # itself and no OAuth metadata is published (resource_server_url stays unset).
        auth = {"token_verifier": StaticTokenVerifier(http.token),
                "auth": AuthSettings(issuer_url=f"http://{http.host}:{http.port}",  # type: ignore[arg-type]
                                     resource_server_url=None)}
    server = ChatDBMCPServer(chatdb, name="chatdb", title="ChatDB", instructions=INSTRUCTIONS,
                             log_level="WARNING", lifespan=lambda _: chatdb.opened(), **auth)
    register_tools(server, chatdb)
    register_resources(server, chatdb)
    return server


def serve(connection: Connection, transport: Transport | str, host: str = "127.0.0.1", port: int = 8765,
          http_token: str = "") -> None:
    """Serve until the client goes (stdio) or the process is stopped (HTTP, whose clients must send
    ``http_token`` as their bearer token)."""
    if transport == "stdio":
        build_server(connection).run("stdio")
        return
    access = HttpAccess(host, port, http_token)
    build_server(connection, access).run("streamable-http", host=host, port=port, streamable_http_path=HTTP_PATH)
