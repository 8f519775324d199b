"""The asyncio client (grpc.aio); the same operations as :class:`~chatdb_client.ChatDBClient`.

Per-call ``timeout`` arguments become gRPC deadlines, which the server sees and
honours, so they stay parameters rather than ``asyncio.timeout`` around the call.
"""
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar

import grpc
import grpc.aio

from chatdb.training.v1 import training_pb2
from chatdb_client import operations as ops
from chatdb_client.channel import RetryPolicy, call_metadata, channel_options, new_request_id
from chatdb_client.errors import ChatDBError, Unavailable
from chatdb_client.exports import ArrowCollector, ExportFile, format_for
from chatdb_client.methods import async_list, async_pages, async_stream, async_unary
from chatdb_client.results import ExportPart
from chatdb_client.routing import route_stubs

T = TypeVar("T")

AsyncProgressCallback = Callable[[training_pb2.TrainingJob], Awaitable[object] | object]


class AsyncChatDBClient:
    """Like :class:`~chatdb_client.ChatDBClient`, with coroutines, and async iterators for
    ``iter_*`` and streams. Create it inside a running event loop; use ``async with``, or
    await :meth:`close`."""

    def __init__(self, target: str = "127.0.0.1:50051", tenant: str = "", timeout: float = 30.0,
                 credentials: grpc.ChannelCredentials | None = None, *, retry: RetryPolicy | None = None,
                 api_key: str = "", token: str = "", service_targets: Mapping[str, str] | None = None) -> None:
        if api_key and token:
            raise ValueError("authenticate with an API key or a token, not both")
        self.target = target
        self.tenant = tenant
        self._credential = api_key or token
        self.timeout = timeout
        options = channel_options(retry or RetryPolicy())

        def open_channel(address: str) -> grpc.aio.Channel:
            return (grpc.aio.secure_channel(address, credentials, options=options) if credentials
                    else grpc.aio.insecure_channel(address, options=options))

        self.channel = open_channel(target)
        self._stubs, self._channels = route_stubs(self.channel, target, service_targets, open_channel)

    async def close(self) -> None:
        """Close the channels."""
        for channel in self._channels.values():
            await channel.close()

    async def __aenter__(self) -> AsyncChatDBClient:
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        trace: TracebackType | None) -> None:
        await self.close()

    # --- SchemaService ------------------------------------------------------------------------

    create_data_source = async_unary(ops.create_data_source)
    get_data_source = async_unary(ops.get_data_source)
    iter_data_sources = async_pages(ops.list_data_sources)
    list_data_sources = async_list(ops.list_data_sources)
    update_data_source = async_unary(ops.update_data_source)
    delete_data_source = async_unary(ops.delete_data_source)
    test_connection = async_unary(ops.test_connection)
    iter_tables = async_pages(ops.list_tables)
    list_tables = async_list(ops.list_tables)
    get_table = async_unary(ops.get_table)
    refresh_schema = async_unary(ops.refresh_schema)
    get_schema_graph = async_unary(ops.get_schema_graph)

    # --- TrainingService ----------------------------------------------------------------------

    create_training_job = async_unary(ops.create_training_job)
    get_training_job = async_unary(ops.get_training_job)
    iter_training_jobs = async_pages(ops.list_training_jobs)
    list_training_jobs = async_list(ops.list_training_jobs)
    cancel_training_job = async_unary(ops.cancel_training_job)
    watch_training_job = async_stream(ops.watch_training_job)
    create_example = async_unary(ops.create_example)
    iter_examples = async_pages(ops.list_examples)
    list_examples = async_list(ops.list_examples)
    delete_example = async_unary(ops.delete_example)

    async def train(self, source: str, tables: Sequence[str] | None = None, wait: bool = True,
                    on_progress: AsyncProgressCallback | None = None,
                    timeout: float | None = None) -> training_pb2.TrainingJob:
        """Train a source's tables; see :meth:`ChatDBClient.train`. ``on_progress`` may be
        a plain function or a coroutine function."""
        job: training_pb2.TrainingJob = await self.create_training_job(source, tables)
        return await self.wait_for_training_job(job.name, on_progress, timeout) if wait else job

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
            raise Unavailable(grpc.StatusCode.UNAVAILABLE, f"the watch of {name} ended before the job did")
        return ops.succeeded(job)

    # --- QueryService -------------------------------------------------------------------------

    ask = async_unary(ops.ask)
    stream_ask = async_stream(ops.stream_ask)
    batch_ask = async_stream(ops.batch_ask)
    execute_sql = async_unary(ops.execute_sql)
    export_query_result = async_stream(ops.export_query_result)
    validate_sql = async_unary(ops.validate_sql)
    search_tables = async_unary(ops.search_tables)
    iter_queries = async_pages(ops.list_queries)
    list_queries = async_list(ops.list_queries)
    get_query = async_unary(ops.get_query)
    submit_feedback = async_unary(ops.submit_feedback)
    get_system_status = async_unary(ops.get_system_status)
    system_status = get_system_status

    async def export_to_file(self, path: str | os.PathLike[str], source: str = "", sql: str = "", query: str = "",
                       format: str | int | None = None, max_rows: int = 0, query_timeout: float | None = None,
                       timeout: float | None = None) -> ExportPart:
        """Export the full result of ``sql`` (or of a recorded ``query``) into the file ``path``, in ``format``
        or the one its suffix names (``.csv``, ``.jsonl``, ``.arrow``, ``.parquet``); returns the summary
        (``row_count``, ``byte_count``, ``truncated``, ``warnings``). The file appears only once complete."""
        parts = self.export_query_result(source, sql, query, format_for(path, format), max_rows, query_timeout,
                                         timeout)
        async with contextlib.aclosing(parts):
            with ExportFile(path) as sink:
                async for part in parts:
                    await asyncio.to_thread(sink.take, part)
        assert sink.summary is not None
        return sink.summary

    async def export_to_arrow(self, source: str = "", sql: str = "", query: str = "", max_rows: int = 0,
                        query_timeout: float | None = None, timeout: float | None = None) -> Any:
        """The full result of ``sql`` (or of a recorded ``query``) as a ``pyarrow.Table``, through an Arrow
        IPC export (needs ``chatdb-client[arrow]``); unlike :meth:`execute_sql`, beyond Ask's row cap."""
        collector = ArrowCollector()
        async for part in self.export_query_result(source, sql, query, "arrow", max_rows, query_timeout, timeout):
            collector.take(part)
        return collector.table()

    # --- PredictionService --------------------------------------------------------------------

    generate_sql = async_unary(ops.generate_sql)
    list_models = async_unary(ops.list_models)
    load_adapter = async_unary(ops.load_adapter)
    unload_adapter = async_unary(ops.unload_adapter)

    # --- AccessService (admin) ----------------------------------------------------------------

    create_api_key = async_unary(ops.create_api_key)
    iter_api_keys = async_pages(ops.list_api_keys)
    list_api_keys = async_list(ops.list_api_keys)
    revoke_api_key = async_unary(ops.revoke_api_key)
    create_column_policy = async_unary(ops.create_column_policy)
    list_column_policies = async_unary(ops.list_column_policies)
    delete_column_policy = async_unary(ops.delete_column_policy)
    create_row_policy = async_unary(ops.create_row_policy)
    list_row_policies = async_unary(ops.list_row_policies)
    delete_row_policy = async_unary(ops.delete_row_policy)
    iter_audit_events = async_pages(ops.list_audit_events)
    list_audit_events = async_list(ops.list_audit_events)

    # --- WebhookService -----------------------------------------------------------------------

    create_webhook = async_unary(ops.create_webhook)
    iter_webhooks = async_pages(ops.list_webhooks)
    list_webhooks = async_list(ops.list_webhooks)
    get_webhook = async_unary(ops.get_webhook)
    delete_webhook = async_unary(ops.delete_webhook)
    iter_webhook_deliveries = async_pages(ops.list_webhook_deliveries)
    list_webhook_deliveries = async_list(ops.list_webhook_deliveries)

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
