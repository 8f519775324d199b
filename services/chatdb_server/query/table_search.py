"""SearchTables: a trained source's tables that best match a free-text query, for agents and people
who browse a schema before they ask.

The source is resolved as an ask resolves it (NOT_FOUND for another tenant's source or one the
caller's key may not use, NOT_TRAINED before training), and the schema searched is the one the
caller's column policies leave: an excluded column never scores, is never named as a reason, and a
join through one is not a join (``retrieval.table_search``).
"""

from __future__ import annotations

from dataclasses import dataclass

from chatdb_server.access import context as call
from chatdb_server.errors import FailedPrecondition, InvalidArgument
from chatdb_server.generation.interface import MAX_QUESTION_CHARS
from chatdb_server.query.pipeline_sources import SourceContexts
from chatdb_server.resilience.levels import HealthMonitor, Level
from chatdb_server.retrieval.retriever import SEARCH, Retriever, ScoredTable, schema_context
from chatdb_server.retrieval.table_search import TableMatch, rank_tables

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 50


@dataclass(frozen=True)
class TableSearchResult:
    """The tables found, best first, then those that join them; and the level it was served at."""

    tables: list[TableMatch]
    level: Level


class TableSearch:
    """Searches sources' trained tables by meaning, under the caller's column policies."""

    def __init__(self, contexts: SourceContexts, retriever: Retriever, monitor: HealthMonitor) -> None:
        self._contexts = contexts
        self._retriever = retriever
        self._monitor = monitor

    async def search(self, tenant: str, parent: str, query: str, page_size: int) -> TableSearchResult:
        """At most ``page_size`` tables (0: 10; clamped to 50) of the tenant's source ``parent`` for ``query``."""
        text = _require_query(query)
        size = _page_size(page_size)
        context = await self._contexts.get(tenant, parent)
        source = context.source
        if not context.trained:
            raise FailedPrecondition(
                f"{source.name} has no trained tables yet: create a training job for it "
                f"(TrainingService.CreateTrainingJob, parent {source.name}) and search again once it has succeeded",
                "NOT_TRAINED", {"data_source": source.name})
        call.note(data_source=source.source_id, question=text)
        similarity = await self._retriever.similarities(source, text, context.tables, version=context.version)
        schema = schema_context([ScoredTable(t, 0.0, SEARCH) for t in context.trained], context.joins, 0)
        policies = context.caller_policies()
        if policies.excluded:
            schema = schema.without_columns(policies.excluded)
        settings = self._retriever.settings
        found = rank_tables(text, similarity, schema, size, settings.lexical_weight, settings.max_bridge_hops)
        return TableSearchResult(found, await self._monitor.level())


def _require_query(query: str) -> str:
    text = query.strip()
    if not text:
        raise InvalidArgument("query", "is required: what to look for, in plain language")
    if len(text) > MAX_QUESTION_CHARS:
        raise InvalidArgument("query", f"must be at most {MAX_QUESTION_CHARS} characters")
    return text


def _page_size(page_size: int) -> int:
    if page_size < 0:
        raise InvalidArgument("page_size", "must not be negative")
    return min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
