"""``chatdb mcp``: serve ChatDB to AI agents over the Model Context Protocol.

The connection options work here as on every command (and may also come before ``mcp``): the MCP
server calls ChatDB with that API key, so its agents can do what the key may and no more, audited
as the key. The MCP SDK is imported only when the command runs, so other commands start without it.
"""

from __future__ import annotations

import enum
from pathlib import Path
from typing import Annotated

import typer

from chatdb_cli.connection import resolve_connection
from chatdb_cli.errors import CommandError
from chatdb_cli.invocation import current

CONNECTION_PANEL = "Connection"
HTTP_PANEL = "Streamable HTTP"
TOKEN_VARIABLE = "CHATDB_MCP_TOKEN"


class TransportChoice(enum.StrEnum):
    """How MCP clients reach the server."""

    STDIO = "stdio"
    HTTP = "http"


def mcp(ctx: typer.Context,
        transport: Annotated[TransportChoice, typer.Option(
            help="stdio: the agent starts this command itself; http: streamable HTTP for many agents.",
            case_sensitive=False)] = TransportChoice.STDIO,
        host: Annotated[str, typer.Option(help="Address to listen on (http).", rich_help_panel=HTTP_PANEL)]
        = "127.0.0.1",
        port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on (http); the endpoint is /mcp.",
                                          rich_help_panel=HTTP_PANEL)] = 8765,
        http_token: Annotated[str | None, typer.Option(
            envvar=TOKEN_VARIABLE, show_envvar=False, show_default=False, rich_help_panel=HTTP_PANEL,
            help=f"Bearer token MCP clients must send over http ({TOKEN_VARIABLE}); default: the API key.")] = None,
        address: Annotated[str | None, typer.Option(help="Server host:port (CHATDB_ADDRESS).", show_default=False,
                                                    rich_help_panel=CONNECTION_PANEL)] = None,
        api_key: Annotated[str | None, typer.Option(help="API key the tools call ChatDB with (CHATDB_API_KEY).",
                                                    show_default=False, rich_help_panel=CONNECTION_PANEL)] = None,
        tenant: Annotated[str | None, typer.Option(help="Act for this tenant, operators only (CHATDB_TENANT).",
                                                   show_default=False, rich_help_panel=CONNECTION_PANEL)] = None,
        profile: Annotated[str | None, typer.Option(help="Profile of profiles.toml (CHATDB_PROFILE).",
                                                    show_default=False, rich_help_panel=CONNECTION_PANEL)] = None,
        ca_file: Annotated[Path | None, typer.Option(help="CA of the server's certificate; turns TLS on.",
                                                     show_default=False, rich_help_panel=CONNECTION_PANEL)] = None,
        cert_file: Annotated[Path | None, typer.Option(help="Client certificate for mTLS.", show_default=False,
                                                       rich_help_panel=CONNECTION_PANEL)] = None,
        key_file: Annotated[Path | None, typer.Option(help="Client key for mTLS.", show_default=False,
                                                      rich_help_panel=CONNECTION_PANEL)] = None,
        timeout: Annotated[float | None, typer.Option(help="Seconds each ChatDB call may take (CHATDB_TIMEOUT).",
                                                      show_default=False, rich_help_panel=CONNECTION_PANEL)] = None,
        ) -> None:
    """Serve ChatDB's tools (data sources, table search, table descriptions, ask, guarded SQL, feedback)
    and every source's schema as resources to AI agents over MCP, on stdio or streamable HTTP.
    Over HTTP every request must carry 'Authorization: Bearer <token>': --http-token, else the API key."""
    run = current(ctx)
    connection = resolve_connection(
        address or run.address, api_key or run.api_key, tenant or run.tenant, profile or run.profile,
        ca_file or run.ca_file, cert_file or run.cert_file, key_file or run.key_file, timeout or run.timeout)
    token = http_token or connection.api_key
    if transport is TransportChoice.HTTP and not token:
        raise CommandError(f"--transport http needs a bearer token for its clients: give --http-token "
                           f"({TOKEN_VARIABLE}) or an API key")
    from chatdb_cli.mcp.server import serve  # the MCP SDK, only for this command

    serve(connection, transport.value, host, port, token)


def register(app: typer.Typer) -> None:
    """Add the ``mcp`` command to ``app``."""
    app.command("mcp")(mcp)
