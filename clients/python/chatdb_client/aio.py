"""The asyncio client (grpc.aio); the same operations as :class:`~chatdb_client.ChatDBClient`.

Per-call ``timeout`` arguments become gRPC deadlines, which the server sees and
honours, so they stay parameters rather than ``asyncio.timeout`` around the call.
"""
# ruff: noqa: ASYNC109

from __future__ import annotations

import contextlib
import inspect
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, TypeVar

import grpc
import grpc.aio

from chatdb.prediction.v1 import prediction_pb2
from chatdb.query.v1 import query_pb2
from chatdb.schema.v1 import schema_pb2
from chatdb.training.v1 import training_pb2
from chatdb_client import operations as ops
from chatdb_client.channel import STUB_CLASSES, RetryPolicy, call_metadata, channel_options, new_request_id
from chatdb_client.errors import ChatDBError
from chatdb_client.results import AskResult, QueryResult, SystemStatus

T = TypeVar("T")

AsyncProgressCallback = Callable[[training_pb2.TrainingJob], Awaitable[object] | object]


class AsyncChatDBClient:
    """Like :class:`~chatdb_client.ChatDBClient`, with coroutines. Create it inside a
    running event loop; use ``async with``, or await :meth:`close`."""

    def __init__(self, target: str = "127.0.0.1:50051", tenant: str = "", timeout: float = 30.0,
                 credentials: grpc.ChannelCredentials | None = None, *, retry: RetryPolicy | None = None,
                 api_key: str = "", token: str = "") -> None:
        if api_key and token:
            raise ValueError("authenticate with an API key or a token, not both")
        self.target = target
        self.tenant = tenant
        self._credential = api_key or token
        self.timeout = timeout
        options = channel_options(retry or RetryPolicy())
        self.channel = (grpc.aio.secure_channel(target, credentials, options=options) if credentials
                        else grpc.aio.insecure_channel(target, options=options))
        self._stubs = {service: stub(self.channel) for service, stub in STUB_CLASSES.items()}

    async def close(self) -> None:
        """Close the channel."""
        await self.channel.close()

    async def __aenter__(self) -> AsyncChatDBClient:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        await self.close()

    # --- data sources and schema -------------------------------------------------------------

    async def create_data_source(self, dsn: str, display_name: str = "", data_source_id: str = "",
                                 schemas: Sequence[str] = ()) -> schema_pb2.DataSource:
        """Register a database; its connection is tested and its schema discovered first."""
        return await self._call(ops.create_data_source(dsn, display_name, data_source_id, schemas))

    async def get_data_source(self, source: str) -> schema_pb2.DataSource:
        """One data source, by id or ``dataSources/{id}``."""
        return await self._call(ops.get_data_source(source))

    async def list_data_sources(self) -> list[schema_pb2.DataSource]:
        """Every data source of the tenant (all pages)."""
        return await self._collect(ops.list_data_sources)

    async def delete_data_source(self, source: str) -> None:
        """Delete a data source and everything stored for it."""
        await self._call(ops.delete_data_source(source))

    async def list_tables(self, source: str, full: bool = False) -> list[schema_pb2.Table]:
        """Every table and view of a source (all pages)."""
        return await self._collect(lambda token: ops.list_tables(source, token, full))

    async def get_schema_graph(self, source: str, min_confidence: float = 0.0) -> Any:
        """The join graph (``GetSchemaGraphResponse``: ``tables`` and ``edges``)."""
        return await self._call(ops.get_schema_graph(source, min_confidence))

    # --- training ----------------------------------------------------------------------------

    async def train(self, source: str, tables: Sequence[str] | None = None, wait: bool = True,
                    on_progress: AsyncProgressCallback | None = None,
                    timeout: float | None = None) -> training_pb2.TrainingJob:
        """Train a source's tables; see :meth:`ChatDBClient.train`. ``on_progress`` may be
        a plain function or a coroutine function."""
        job = await self._call(ops.create_training_job(source, tables))
        return await self.wait_for_training_job(job.name, on_progress, timeout) if wait else job

    async def get_training_job(self, name: str) -> training_pb2.TrainingJob:
        """One training job, ``trainingJobs/{id}``."""
        return await self._call(ops.get_training_job(name))

    async def wait_for_training_job(self, name: str, on_progress: AsyncProgressCallback | None = None,
                                    timeout: float | None = None) -> training_pb2.TrainingJob:
        """Follow a job through WatchTrainingJob until it ends, starting the watch again when it broke off
        with UNAVAILABLE after delivering updates; see :meth:`ChatDBClient.wait_for_training_job`."""
        deadline = ops.Deadline(timeout)
        job: training_pb2.TrainingJob | None = None
        watching = True
        while watching:
            delivered = False
            try:
                watch = self._stream(ops.watch_training_job(name, deadline.remaining()))
                async with contextlib.aclosing(watch) as updates:
                    async for job in updates:
                        delivered = True
                        if on_progress is not None:
                            outcome = on_progress(job)
                            if inspect.isawaitable(outcome):
                                await outcome
                        if ops.is_finished(job):
                            break
                watching = False
            except ChatDBError as error:
                if not ops.watch_resumes(error, delivered):
                    raise
        if job is None or not ops.is_finished(job):
            job = await self.get_training_job(name)
        if not ops.is_finished(job):
            raise ChatDBError(grpc.StatusCode.UNAVAILABLE, f"the watch of {name} ended before the job did")
        return ops.succeeded(job)

    # --- questions and SQL -------------------------------------------------------------------

    async def ask(self, source: str, question: str, max_rows: int = 0, execute: bool = True,
                  query_timeout: float | None = None, candidate_count: int = 0, model: str = "",
                  timeout: float | None = None) -> AskResult:
        """Answer a question with guarded SQL and its typed rows; see :meth:`ChatDBClient.ask`."""
        return await self._call(ops.ask(source, question, max_rows, execute, query_timeout, candidate_count,
                                        model, timeout))

    async def execute_sql(self, source: str, sql: str, max_rows: int = 0, query_timeout: float | None = None,
                          timeout: float | None = None) -> QueryResult:
        """Run a read-only query of your own through the server's guard."""
        return await self._call(ops.execute_sql(source, sql, max_rows, query_timeout, timeout))

    async def validate_sql(self, source: str, sql: str) -> Any:
        """The guard's verdict (``ValidateSqlResponse``)."""
        return await self._call(ops.validate_sql(source, sql))

    async def submit_feedback(self, query: str, correct: bool | None = None, corrected_sql: str = "",
                              comment: str = "") -> query_pb2.Query:
        """Rate an answered query; a corrected SQL implies incorrect."""
        return await self._call(ops.submit_feedback(query, correct, corrected_sql, comment))

    async def system_status(self) -> SystemStatus:
        """The degradation level and each dependency's health."""
        return await self._call(ops.system_status())

    async def generate_sql(self, question: str, dialect: str | int, schema_context: prediction_pb2.SchemaContext,
                           examples: Sequence[tuple[str, str]] = (), candidate_count: int = 0, model: str = "",
                           constrained_decoding: bool = False) -> Any:
        """SQL candidates from PredictionService (``GenerateSqlResponse``)."""
        return await self._call(ops.generate_sql(question, dialect, schema_context, examples, candidate_count,
                                                 model, constrained_decoding))

    # --- plumbing ----------------------------------------------------------------------------

    async def _call(self, operation: ops.Operation[T]) -> T:
        request_id = new_request_id()
        method = getattr(self._stubs[operation.service], operation.method)
        try:
            reply = await method(operation.request, timeout=operation.timeout or self.timeout,
                                 metadata=call_metadata(self.tenant, request_id, self._credential))
        except grpc.RpcError as error:
            raise ChatDBError.from_rpc_error(error, request_id=request_id) from None
        return operation.read(reply)

    async def _stream(self, operation: ops.Operation[T]) -> AsyncGenerator[T, None]:
        request_id = new_request_id()
        method = getattr(self._stubs[operation.service], operation.method)
        call = method(operation.request, timeout=operation.timeout,
                      metadata=call_metadata(self.tenant, request_id, self._credential))
        try:
            async for reply in call:
                yield operation.read(reply)
        except grpc.RpcError as error:
            raise ChatDBError.from_rpc_error(error, request_id=request_id) from None
        finally:
            call.cancel()

    async def _collect(self, page: Callable[[str], ops.Operation[ops.Page[T]]]) -> list[T]:
        items: list[T] = []
        token = ""
        while True:
            result = await self._call(page(token))
            items.extend(result.items)
            if not result.next_page_token:
                return items
            token = result.next_page_token
