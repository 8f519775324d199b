"""What the ask pipeline knows of a source: its reference, stored and trained tables, joins, and
its column and row policies.

Read from SchemaService's catalog and the policy store and kept for a few seconds, so a busy
source costs one metadata round trip per ``ttl_s`` rather than several per question. Only
trained sources are kept: the first question after a training job finishes sees it at once. A
policy created or deleted binds every replica's callers within ``ttl_s`` (2 s by default).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from chatdb_server.access.context import current_principal
from chatdb_server.access.policies import EffectivePolicies, SourcePolicies
from chatdb_server.errors import Unavailable
from chatdb_server.log import get_logger
from chatdb_server.query.ports import PolicyLookup, SchemaLookup
from chatdb_server.sql.structure import JoinEdge, SourceRef, StoredTable, known_columns

log = get_logger(__name__)

DEFAULT_TTL_S = 2.0


@dataclass(frozen=True)
class SourceContext:
    """A resolved source and what is known of its schema."""

    source: SourceRef
    tables: list[StoredTable]
    trained: list[StoredTable]
    """Tables with vectors (trained, or stale since the schema changed)."""
    joins: list[JoinEdge]
    known_columns: dict[str, set[str]]
    """The guard's view: lower-case table → lower-case columns, over every stored table."""
    policies: SourcePolicies = field(default_factory=SourcePolicies)
    stored_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Lower-case table → its column names as stored, in table order (what ``*`` expands into)."""

    def caller_policies(self) -> EffectivePolicies:
        """The policies that bind the principal of the call in progress (none outside a call)."""
        return self.policies.for_principal(current_principal())


@asynccontextmanager
async def metadata_store_errors() -> AsyncIterator[None]:
    """Turn a failing metadata store into the level-4 status a caller can act on."""
    try:
        yield
    except (OperationalError, InterfaceError, OSError, TimeoutError) as exc:
        log.warning("metadata.unreachable", error=type(exc).__name__, detail=str(exc)[:300])
        raise _store_down() from None
    except DBAPIError as exc:
        if not exc.connection_invalidated:
            raise
        raise _store_down() from None


def _store_down() -> Unavailable:
    return Unavailable("the metadata store is unreachable: only health and status answer until it is back",
                       reason="DEGRADED", metadata={"dependency": "metadata"})


class SourceContexts:
    """Source contexts by tenant and name, cached for ``ttl_s``."""

    def __init__(self, catalog: SchemaLookup, ttl_s: float = DEFAULT_TTL_S,
                 policies: PolicyLookup | None = None) -> None:
        self._catalog = catalog
        self._policies = policies
        self._ttl_s = ttl_s
        self._cache: dict[tuple[str, str], tuple[float, SourceContext]] = {}

    async def get(self, tenant: str, name: str, field: str = "parent") -> SourceContext:
        """The context of the tenant's ``dataSources/{id}``; InvalidArgument / NotFound from the catalog."""
        key = (tenant, name)
        hit = self._cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < self._ttl_s:
            return hit[1]
        async with metadata_store_errors():
            source = await self._catalog.resolve(tenant, name, field)
            tables = await self._catalog.stored_tables(source)
            joins = await self._catalog.join_edges(source) if tables else []
            policies = await self._policies.policies(source) if self._policies is not None else SourcePolicies()
        trained = [t for t in tables if t.trained_fingerprint is not None]
        context = SourceContext(source, tables, trained, joins, known_columns([t.structure for t in tables]),
                                policies, {t.structure.name.lower(): tuple(c.name for c in t.structure.columns)
                                           for t in tables})
        if trained:
            self._cache[key] = (time.monotonic(), context)
        else:
            self._cache.pop(key, None)
        return context

    def forget(self, source: SourceRef) -> None:
        """Drop a source (deleted or refreshed)."""
        self._cache.pop((source.tenant, source.name), None)
