"""What the ask pipeline knows of a source: its reference, stored and trained tables, joins, and
its column and row policies.

Read from SchemaService's catalog and the policy store, and kept for as long as the source's
generation in the metadata store stays the same (``chatdb_server.metadata.generations``): every
question reads the current generation (one single-row read, under a millisecond) and a context built at
another one is read again. So a training job, an example, a refresh or a policy committed by any
replica shows in every replica's next question, and a busy, unchanged source costs that one read
rather than several. ``ttl_s`` only bounds how long a context may live at all, a safety net for a
change made without a bump (an edit of the metadata store by hand).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from cachetools import LRUCache
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from chatdb_server.access.context import current_principal
from chatdb_server.access.policies import EffectivePolicies, SourcePolicies
from chatdb_server.errors import NotFound, Unavailable
from chatdb_server.log import get_logger
from chatdb_server.metadata.generations import SourceVersion
from chatdb_server.query.policed_check import PolicedVerdict
from chatdb_server.query.ports import PolicyLookup, SchemaLookup
from chatdb_server.sql.structure import JoinEdge, SourceRef, StoredTable, known_columns

log = get_logger(__name__)

DEFAULT_TTL_S = 300.0
VERDICTS_KEPT = 512
"""Guard verdicts a source context keeps (the most recently used)."""


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
    version: SourceVersion | None = None
    """The source's row and generation when this context was read: the retriever keys its copies by it."""
    verdicts: LRUCache[tuple[str, int, str], PolicedVerdict] = field(
        default_factory=lambda: LRUCache(VERDICTS_KEPT), repr=False, compare=False)
    """The guard's verdicts on SQL over this context, by SQL text, row cap and policy scope: a question asked
    again comes back with the same SQL, and the verdict (a pure function of those and the schema) costs a
    parse and a render to make afresh. A new version of the source is a new context, so they never outlive
    the schema they were made for."""

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
    """Source contexts by tenant and name, kept while the source's generation is unchanged (and ``ttl_s`` at most)."""

    def __init__(self, catalog: SchemaLookup, ttl_s: float = DEFAULT_TTL_S,
                 policies: PolicyLookup | None = None) -> None:
        self._catalog = catalog
        self._policies = policies
        self._ttl_s = ttl_s
        self._cache: dict[tuple[str, str], tuple[float, SourceContext]] = {}

    async def get(self, tenant: str, name: str, field: str = "parent") -> SourceContext:
        """The context of the tenant's ``dataSources/{id}``; InvalidArgument / NotFound from the catalog.

        The version is read on every call, before anything else: it also settles that the source exists
        and that the caller may use it, so a kept context is never handed to a caller the catalog refuses."""
        key = (tenant, name)
        try:
            async with metadata_store_errors():
                version = await self._catalog.version(tenant, name, field)
        except NotFound:
            self._cache.pop(key, None)
            raise
        hit = self._cache.get(key)
        if hit is not None and hit[1].version == version and time.monotonic() - hit[0] < self._ttl_s:
            return hit[1]
        # Read after the version: a change committed meanwhile is then at worst read twice, never missed.
        async with metadata_store_errors():
            source = await self._catalog.resolve(tenant, name, field)
            tables = await self._catalog.stored_tables(source)
            joins = await self._catalog.join_edges(source) if tables else []
            policies = await self._policies.policies(source) if self._policies is not None else SourcePolicies()
        trained = [t for t in tables if t.trained_fingerprint is not None]
        context = SourceContext(source, tables, trained, joins, known_columns([t.structure for t in tables]),
                                policies, {t.structure.name.lower(): tuple(c.name for c in t.structure.columns)
                                           for t in tables}, version)
        self._cache[key] = (time.monotonic(), context)
        return context

    def forget(self, source: SourceRef) -> None:
        """Drop a source (deleted or refreshed)."""
        self._cache.pop((source.tenant, source.name), None)
