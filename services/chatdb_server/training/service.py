"""TrainingService's domain in one object: it builds and owns the job store, the example book
and the worker, and answers each RPC's use case in domain terms (the servicer only translates).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from chatdb_server.errors import InvalidArgument, NotFound
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.pagination import PageTokens
from chatdb_server.retrieval.embeddings import Embedder
from chatdb_server.retrieval.vectors import VectorStore
from chatdb_server.settings import Settings
from chatdb_server.sql.structure import SourceRef
from chatdb_server.training.cleanup import VectorCleanup
from chatdb_server.training.examples import MANUAL, Example, ExampleBook
from chatdb_server.training.filters import parse_job_filter
from chatdb_server.training.handlers import HandlerRegistry, JobHandler
from chatdb_server.training.job_model import JobType, TrainingJob
from chatdb_server.training.jobs import JobStore
from chatdb_server.training.metrics import QueueGauges
from chatdb_server.training.names import parse_example_name, parse_job_name
from chatdb_server.training.ports import TrainingCatalog
from chatdb_server.training.schema_job import DEFAULT_BATCH, SchemaTrainer
from chatdb_server.training.watch import watch_job
from chatdb_server.training.worker import TrainingWorker, WorkerOptions

MAX_TABLES_PER_JOB = 100_000


class TrainingService:
    """Jobs, examples and the worker of one process."""

    def __init__(self, store: MetadataStore, catalog: TrainingCatalog, vectors: VectorStore, embedder: Embedder,
                 pages: PageTokens, settings: Settings, *, worker_options: WorkerOptions | None = None,
                 worker_id: str | None = None, batch_size: int = DEFAULT_BATCH) -> None:
        self.settings = settings
        self.catalog = catalog
        self.pages = pages
        self.jobs = JobStore(store)
        self.examples = ExampleBook(store, catalog, vectors, embedder)
        self.handlers = HandlerRegistry()
        self.schema_trainer = SchemaTrainer(catalog, vectors, embedder, batch_size)
        options = worker_options or WorkerOptions(
            concurrency=settings.training_workers, poll_s=settings.job_poll_s, heartbeat_s=settings.job_heartbeat_s,
            stale_after_s=settings.job_stale_after_s, recover_every_s=settings.job_recover_every_s)
        self.worker = TrainingWorker(self.jobs, catalog, self.schema_trainer, self.handlers, options, worker_id)
        self._cleanup = VectorCleanup(vectors)
        self.queue_gauges = QueueGauges(self.jobs, settings.job_poll_s)
        self._started = False

    def register_handler(self, job_type: JobType | str, handler: JobHandler) -> None:
        """Run jobs of ``job_type`` (e.g. FINE_TUNE) with ``handler``; see :mod:`chatdb_server.training.handlers`."""
        self.handlers.register(job_type, handler)

    async def start(self) -> None:
        """Listen to the catalog, export the queue's gauges and start the worker (none when ``training_workers``
        is 0: the gauges are exported all the same, for whatever scales the workers)."""
        if self._started:
            return
        self._cleanup.register(self.catalog)
        self.queue_gauges.start()
        if self.settings.training_workers > 0:
            await self.worker.start()
        self._started = True

    async def stop(self, grace_s: float | None = None) -> None:
        """Stop the worker; running jobs get ``grace_s`` (default: the settings' grace) to finish."""
        await self.worker.stop(self.settings.grace_s if grace_s is None else grace_s)
        await self.queue_gauges.stop()

    async def exclusions_changed(self, source: SourceRef) -> list[str]:
        """An EXCLUDE policy was created on ``source``: purge the stored samples and mentions of every excluded
        column and re-document, in place, the trained tables whose stored text changed or that have an
        excluded column; the tables re-documented."""
        changed = await self.catalog.purge_excluded(source)
        affected = {t for t, _ in (await self.catalog.exclusions(source)).columns}
        names = [t.structure.name for t in await self.catalog.stored_tables(source)
                 if t.structure.name in changed or t.structure.name.lower() in affected]
        return await self.schema_trainer.rebuild(source, names)

    # --- jobs -------------------------------------------------------------------------------------

    async def create_job(self, tenant: str, parent: str, tables: Sequence[str], job_type: JobType,
                         config: dict[str, Any] | None = None) -> TrainingJob:
        """Queue a job; NotFound for an unknown source or table, FailedPrecondition when the type cannot run."""
        source = await self.resolve(tenant, parent, "parent")
        if job_type is not JobType.SCHEMA:
            self.handlers.require(job_type)
        names = await self._known_tables(source, tables)
        job = await self.jobs.create(source, job_type, names, config)
        self.worker.wake()
        return job

    async def get_job(self, tenant: str, name: str) -> TrainingJob:
        """One job of the tenant."""
        return await self.jobs.get(tenant, parse_job_name(name))

    async def list_jobs(self, tenant: str, page_size: int, page_token: str,
                        filter_text: str) -> tuple[list[TrainingJob], str]:
        """A page of jobs, newest first, and the next page's token."""
        job_filter = parse_job_filter(filter_text)
        scope = f"trainingJobs|{tenant}|{filter_text.strip()}"
        page = self.pages.page(page_size, page_token, scope)
        jobs, more = await self.jobs.list_jobs(tenant, job_filter, page.offset, page.size)
        return jobs, self.pages.next_token(page, len(jobs), more, scope)

    async def cancel_job(self, tenant: str, name: str) -> TrainingJob:
        """Cancel a queued job now, a running one at its next safe point."""
        return await self.jobs.cancel(tenant, parse_job_name(name))

    async def watch(self, tenant: str, name: str) -> AsyncIterator[TrainingJob]:
        """The job now, then each change until it ends."""
        job_id = parse_job_name(name)
        async for job in watch_job(self.jobs, self.jobs.feed, tenant, job_id, self.settings.job_poll_s):
            yield job

    # --- examples ---------------------------------------------------------------------------------

    async def create_example(self, tenant: str, parent: str, question: str, sql: str,
                             origin: str = MANUAL) -> Example:
        """Check and store a golden example."""
        source = await self.resolve(tenant, parent, "parent")
        return await self.examples.create(source, question, sql, origin)

    async def list_examples(self, tenant: str, parent: str, page_size: int,
                            page_token: str) -> tuple[list[Example], str]:
        """A page of the source's examples, newest first, and the next page's token."""
        source = await self.resolve(tenant, parent, "parent")
        scope = f"examples|{tenant}|{source.source_id}"
        page = self.pages.page(page_size, page_token, scope)
        examples, more = await self.examples.list_examples(source, page.offset, page.size)
        return examples, self.pages.next_token(page, len(examples), more, scope)

    async def delete_example(self, tenant: str, name: str) -> None:
        """Delete an example and its vector."""
        parent, example_id = parse_example_name(name)
        source = await self.resolve(tenant, parent, "name")
        await self.examples.delete(source, example_id)

    # --- helpers ----------------------------------------------------------------------------------

    async def resolve(self, tenant: str, name: str, field: str) -> SourceRef:
        """The tenant's source ``name``; a malformed name is reported on the request's ``field``."""
        return await self.catalog.resolve(tenant, name, field=field)

    async def _known_tables(self, source: SourceRef, tables: Sequence[str]) -> list[str]:
        """The requested tables as the catalog names them; NotFound for the first unknown one."""
        if len(tables) > MAX_TABLES_PER_JOB:
            raise InvalidArgument("tables", f"at most {MAX_TABLES_PER_JOB} tables per job", reason="TOO_LARGE")
        for index, table in enumerate(tables):
            if not table.strip():
                raise InvalidArgument(f"tables[{index}]", "must not be empty")
        if not tables:
            return []
        stored = [t.structure.name for t in await self.catalog.stored_tables(source)]
        exact = set(stored)
        folded = {name.lower(): name for name in stored}
        names = []
        for table in dict.fromkeys(tables):
            name = table if table in exact else folded.get(table.lower())
            if name is None:
                raise NotFound(f"{source.name}/tables/{table}", "table")
            names.append(name)
        return list(dict.fromkeys(names))
