"""``chatdb mcp``: ChatDB as a Model Context Protocol server for AI agents.

Every tool and resource is a call of ChatDB's public API through the Python SDK, made with the
server's API key, so an agent gets exactly what a gRPC caller with that key would: the same
authentication, guard, column and row policies, quotas and audit log.
"""

from chatdb_cli.mcp.command import register

__all__ = ["register"]
