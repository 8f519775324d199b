"""Builds SchemaService from a process's Components."""

from __future__ import annotations

from chatdb_server.schema.servicer import SchemaServicer
from chatdb_server.server.components import Components
from chatdb_server.server.shared import shared_catalog


async def build_servicer(components: Components) -> SchemaServicer:
    """SchemaService over the shared catalog."""
    return SchemaServicer(shared_catalog(components))


async def start(components: Components) -> None:
    """SchemaService owns no background work."""


async def stop(components: Components) -> None:
    """SchemaService owns no background work."""
