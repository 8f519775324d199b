"""Builds AccessService from a process's Components.

The keys, policies and audit log are the process's own (``chatdb_server.server.access``), the
data sources are the shared schema catalog, and what follows a new EXCLUDE policy (stored
samples purged, trained tables re-documented) is TrainingService's domain, built on first use:
a process that never excludes a column never opens the vector store or loads the embedder.
"""

from __future__ import annotations

from chatdb_server.access.service import AccessService
from chatdb_server.access.servicer import AccessServicer
from chatdb_server.server.access import shared_audit, shared_keys, shared_policies
from chatdb_server.server.components import Components
from chatdb_server.server.shared import shared_catalog
from chatdb_server.server.wiring.training import training_service
from chatdb_server.sql.structure import SourceRef


class _ExclusionsOnFirstUse:
    """The ExclusionHook: TrainingService's purge, built when a column is first excluded."""

    def __init__(self, components: Components) -> None:
        self._components = components

    async def exclusions_changed(self, source: SourceRef) -> list[str]:
        return await training_service(self._components).exclusions_changed(source)


def access_service(components: Components) -> AccessService:
    """The process's AccessService domain."""
    def build() -> AccessService:
        return AccessService(shared_keys(components), shared_policies(components), shared_audit(components),
                             shared_catalog(components), components.pages, _ExclusionsOnFirstUse(components))

    service: AccessService = components.shared("access.service", build)
    return service


async def build_servicer(components: Components) -> AccessServicer:
    """AccessService over the process's key store, policy store, audit log and schema catalog."""
    return AccessServicer(access_service(components))


async def start(components: Components) -> None:
    """AccessService owns no background work."""


async def stop(components: Components) -> None:
    """AccessService owns no background work."""
