"""The bearer token MCP clients must send over streamable HTTP.

ChatDB itself authenticates the MCP server by its API key; over HTTP anyone who reaches the port
could otherwise use that key through the tools. So every HTTP request must carry
``Authorization: Bearer <token>``: a token configured for MCP clients (``--http-token``,
``CHATDB_MCP_TOKEN``), else the server's own ChatDB API key, which its clients then present as they
would to ChatDB. The token is compared in constant time and never logged. Through the SDK's
``TokenVerifier``, a request without it or with another is answered 401 before any MCP message is read.
"""

from __future__ import annotations

import hmac

from mcp.server.auth.provider import AccessToken

CLIENT_ID = "chatdb-mcp-client"


class StaticTokenVerifier:
    """Accepts exactly one bearer token (the SDK's ``TokenVerifier`` protocol)."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ValueError("the HTTP transport needs a bearer token: give --http-token or an API key")
        self._token = token.encode()

    async def verify_token(self, token: str) -> AccessToken | None:
        """The access of ``token`` when it is the configured one, else None (refused)."""
        if not hmac.compare_digest(token.encode(), self._token):
            return None
        return AccessToken(token=token, client_id=CLIENT_ID, scopes=[])
