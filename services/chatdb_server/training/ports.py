"""What training needs from SchemaService's catalog (``chatdb_server.schema.catalog.SchemaCatalog``).

Declared here as a protocol so the training modules name exactly the calls they rely on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Protocol

from chatdb_server.access.exclusions import Exclusions
from chatdb_server.sql.structure import JoinEdge, SourceRef, StoredTable

SourceDeletedListener = Callable[[SourceRef], Awaitable[None]]
TablesRemovedListener = Callable[[SourceRef, list[str]], Awaitable[None]]


class TrainingCatalog(Protocol):
    """The data-source catalog as training uses it."""

    async def resolve(self, tenant: str, name: str, field: str = "name") -> SourceRef:
        """The tenant's source called ``dataSources/{id}``; NotFound, or InvalidArgument naming ``field``."""

    async def stored_tables(self, source: SourceRef, names: Sequence[str] | None = None) -> list[StoredTable]:
        """The source's stored tables (all, or those named)."""

    async def join_edges(self, source: SourceRef) -> list[JoinEdge]:
        """Declared and inferred joins of the source."""

    async def mark_trained(self, source: SourceRef, fingerprints: Mapping[str, str]) -> Any:
        """Record that each table was trained at the given fingerprint."""

    async def clear_trained(self, source: SourceRef, tables: Sequence[str] | None = None) -> Any:
        """Forget that tables were trained."""

    async def exclusions(self, source: SourceRef) -> Exclusions:
        """The columns of the source EXCLUDE policies name: no document or adapter may carry them."""

    async def purge_excluded(self, source: SourceRef) -> list[str]:
        """Drop stored samples and mentions of excluded columns; the tables that changed."""

    def add_delete_listener(self, listener: SourceDeletedListener) -> Any:
        """Call ``listener`` when a data source is deleted."""

    def add_tables_removed_listener(self, listener: TablesRemovedListener) -> Any:
        """Call ``listener`` when a schema refresh finds tables gone."""
