"""QueryService's domain in one object: it builds the ask pipeline, guarded execution, the result
cache, the history and the feedback desk from what it is given, and answers each RPC's use case
in domain terms (the servicer only translates, through :mod:`chatdb_server.query.convert`).

What it needs from other services comes through the ports of :mod:`chatdb_server.query.ports`;
it puts PredictionService and TrainingService calls behind their breakers and registers every
dependency's health probe with the monitor. ``policies`` (the policy store; None: no policies) and
``masker`` hold every call to its principal's column and row policies (``pipeline_execution``).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from chatdb_server.access.masking import Masker
from chatdb_server.errors import Unimplemented
from chatdb_server.generation.interface import SqlGenerator
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.pagination import PageTokens
from chatdb_server.query.batch import BatchOutcome, BatchQuestion, batch_ask, check_questions
from chatdb_server.query.cache import ResultCache
from chatdb_server.query.domain import Rating
from chatdb_server.query.export import ExportEvent, ExportRequest, QueryExport, RowStreamer
from chatdb_server.query.history import QueryHistory, QueryPage, StoredQuery, query_name_parts
from chatdb_server.query.history_feedback import FeedbackDesk
from chatdb_server.query.metrics import ASKS_IN_FLIGHT, TimedHistory, observe_stages
from chatdb_server.query.pipeline import Answer, AskOptions, AskPipeline
from chatdb_server.query.pipeline_execution import Executor, GuardedExecution
from chatdb_server.query.pipeline_sources import DEFAULT_TTL_S, SourceContexts, metadata_store_errors
from chatdb_server.query.pipeline_sql import CallerSql, SqlRun, SqlValidation
from chatdb_server.query.ports import (
    BreakerExampleSink,
    BreakerGenerator,
    ExampleSink,
    Generator,
    PolicyLookup,
    SchemaLookup,
)
from chatdb_server.query.stream import AskEvent, stream_ask
from chatdb_server.query.table_search import TableSearch, TableSearchResult
from chatdb_server.resilience.breakers import Breakers, database_key
from chatdb_server.resilience.levels import METADATA, PREDICTION, TRAINING, DependencyHealth, HealthMonitor, Level
from chatdb_server.retrieval.retriever import Retriever
from chatdb_server.settings import Settings
from chatdb_server.sql.guard import SqlGuard
from chatdb_server.sql.structure import SourceRef


@dataclass(frozen=True)
class SystemStatus:
    """The service's degradation level and each dependency's health, as probed now."""

    level: Level
    dependencies: list[DependencyHealth]
    check_time: datetime


class QueryService:
    """Ask, StreamAsk, BatchAsk, ExecuteSql, ExportQueryResult, ValidateSql, SearchTables, ListQueries,
    GetQuery, SubmitFeedback, GetSystemStatus."""

    def __init__(self, settings: Settings, store: MetadataStore, pages: PageTokens, catalog: SchemaLookup,
                 retriever: Retriever, executor: Executor, generator: Generator, fallback: SqlGenerator,
                 examples: ExampleSink, breakers: Breakers, monitor: HealthMonitor, *,
                 contexts_ttl_s: float = DEFAULT_TTL_S, guard: SqlGuard | None = None,
                 policies: PolicyLookup | None = None, masker: Masker | None = None,
                 streamer: RowStreamer | None = None) -> None:
        self.settings = settings
        self.breakers = breakers
        self.monitor = monitor
        self.executor = executor
        self.generator = BreakerGenerator(generator, breakers.prediction)
        self.examples = BreakerExampleSink(examples, breakers.training)
        self.contexts = SourceContexts(catalog, contexts_ttl_s, policies)
        self.cache = ResultCache(store, settings.result_cache_ttl_s)
        self.history = QueryHistory(store, pages)
        self.execution = GuardedExecution(settings, guard, executor, self.cache, breakers, monitor, masker)
        self.pipeline = AskPipeline(self.contexts, retriever, self.generator, fallback, self.execution,
                                    TimedHistory(store, pages), monitor,
                                    min_example_similarity=settings.example_reuse_min_similarity)
        self.caller_sql = CallerSql(self.contexts, self.execution, self.history, monitor)
        self.feedback = FeedbackDesk(self.contexts, self.history, self.execution, self.examples, monitor)
        self.exports = (QueryExport(settings, self.contexts, self.execution, self.history, streamer, masker)
                        if streamer is not None else None)
        self.table_search = TableSearch(self.contexts, retriever, monitor)
        monitor.register(METADATA, store.ping)
        monitor.register(PREDICTION, self.generator.probe, breakers.prediction)
        monitor.register(TRAINING, self.examples.probe, breakers.training)
        catalog.add_delete_listener(self.source_deleted)

    async def source_deleted(self, source: SourceRef) -> None:
        """Forget what is held for a deleted source: its context, its database breaker and connections."""
        self.contexts.forget(source)
        self.breakers.forget_database(database_key(source.tenant, source.name))
        await self.executor.dispose_source(source.pk)

    async def ask(self, tenant: str, parent: str, question: str, options: AskOptions,
                  request_id: str = "") -> Answer:
        """Answer ``question`` about the tenant's source ``parent``; counted in flight, its stages timed."""
        with ASKS_IN_FLIGHT.track_inprogress():
            answer = await self.pipeline.ask(tenant, parent, question, options, request_id=request_id)
        observe_stages(answer.timings)
        return answer

    async def stream_ask(self, tenant: str, parent: str, question: str, options: AskOptions, batch_size: int,
                         request_id: str = "") -> AsyncIterator[AskEvent]:
        """Stages as they complete, the rows in batches of ``batch_size`` (0: 100), then the answer; counted in
        flight while the stream is open, its stages timed like an ask's."""
        with ASKS_IN_FLIGHT.track_inprogress():
            async for event in stream_ask(self.pipeline, tenant, parent, question, options, batch_size, request_id):
                if isinstance(event, Answer):
                    observe_stages(event.timings)
                yield event

    async def batch_ask(self, tenant: str, parent: str, questions: Sequence[BatchQuestion], options: AskOptions,
                        request_id: str = "") -> AsyncIterator[BatchOutcome]:
        """Each question's outcome as it completes, each a full :meth:`ask`, ``batch_ask_concurrency`` at a time;
        the source, the batch's size and the query its questions follow up (``options.previous_query``) are
        checked before any question runs."""
        check_questions(questions, self.settings.batch_ask_max_questions)
        await self.pipeline.conversation(await self.contexts.get(tenant, parent), options.previous_query)

        def ask_one(question: str) -> Awaitable[Answer]:
            return self.ask(tenant, parent, question, options, request_id)

        async for outcome in batch_ask(ask_one, questions, self.settings.batch_ask_concurrency):
            yield outcome

    def export(self, tenant: str, request: ExportRequest) -> AsyncGenerator[ExportEvent, None]:
        """A query's whole result as a file: its start, chunks of bytes, then its end."""
        if self.exports is None:
            raise Unimplemented("ExportQueryResult")
        return self.exports.export(tenant, request)

    async def execute_sql(self, tenant: str, parent: str, sql: str, max_rows: int,
                          timeout_s: float | None) -> SqlRun:
        """Guard and run caller-supplied SQL, recorded in the history."""
        return await self.caller_sql.execute(tenant, parent, sql, max_rows, timeout_s)

    async def validate_sql(self, tenant: str, parent: str, sql: str) -> SqlValidation:
        """The guard's verdict on caller-supplied SQL (unsafe SQL is a verdict, not an error)."""
        return await self.caller_sql.validate(tenant, parent, sql)

    async def search_tables(self, tenant: str, parent: str, query: str, page_size: int) -> TableSearchResult:
        """The source's trained tables that best match ``query``, best first, then those that join them."""
        return await self.table_search.search(tenant, parent, query, page_size)

    async def list_queries(self, tenant: str, parent: str, page_size: int, page_token: str) -> QueryPage:
        """A page of the source's recorded queries, newest first."""
        source = (await self.contexts.get(tenant, parent)).source
        async with metadata_store_errors():
            return await self.history.list(source, page_size, page_token)

    async def get_query(self, tenant: str, name: str) -> StoredQuery:
        """The recorded query ``dataSources/{ds}/queries/{q}``."""
        source_id, query_id = query_name_parts(name)
        source = (await self.contexts.get(tenant, f"dataSources/{source_id}", "name")).source
        async with metadata_store_errors():
            return await self.history.get(source, query_id)

    async def submit_feedback(self, tenant: str, name: str, rating: Rating | None, corrected_sql: str,
                              comment: str, request_id: str = "") -> StoredQuery:
        """Attach feedback to a recorded query (InvalidArgument when ``rating`` is None); a CORRECT answer or
        corrected SQL becomes a golden example through TrainingService."""
        return await self.feedback.submit(tenant, name, rating, corrected_sql, comment, request_id)

    async def system_status(self, tenant: str) -> SystemStatus:
        """The degradation level and every dependency's health, probed now."""
        dependencies = await self.monitor.dependencies(tenant, fresh=True)
        level = await self.monitor.level()
        return SystemStatus(level, dependencies, datetime.now(UTC))
