"""Keeping vectors in step with the catalog: a deleted source or a removed table loses its vectors.

Registered as SchemaCatalog listeners. A deleted source's example and job rows go with it
(foreign keys cascade in the metadata store); its vectors live in Milvus and are removed here.
"""

from __future__ import annotations

import asyncio

from chatdb_server.log import get_logger
from chatdb_server.retrieval.vectors import VectorStore
from chatdb_server.sql.structure import SourceRef
from chatdb_server.training.ports import TrainingCatalog

log = get_logger(__name__)


class VectorCleanup:
    """Catalog listeners that delete vectors nobody can use any more."""

    def __init__(self, vectors: VectorStore) -> None:
        self._vectors = vectors

    def register(self, catalog: TrainingCatalog) -> None:
        """Listen to source deletions and table removals of ``catalog``."""
        catalog.add_delete_listener(self.source_deleted)
        catalog.add_tables_removed_listener(self.tables_removed)

    async def source_deleted(self, source: SourceRef) -> None:
        """Remove every table and example vector of the source."""
        await asyncio.to_thread(self._vectors.delete_namespace, source.namespace)
        log.info("vectors.source_deleted", source=source.name)

    async def tables_removed(self, source: SourceRef, tables: list[str]) -> None:
        """Remove the vectors of tables a schema refresh no longer found."""
        if tables:
            await asyncio.to_thread(self._vectors.delete_tables, source.namespace, tables)
            log.info("vectors.tables_removed", source=source.name, tables=len(tables))
