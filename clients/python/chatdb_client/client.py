"""The synchronous client."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Generator, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar

import grpc

from chatdb.training.v1 import training_pb2
from chatdb_client import operations as ops
from chatdb_client.channel import RetryPolicy, call_metadata, channel_options, new_request_id
from chatdb_client.errors import ChatDBError, Unavailable
from chatdb_client.exports import ArrowCollector, ExportFile, format_for
from chatdb_client.methods import sync_list, sync_pages, sync_stream, sync_unary
from chatdb_client.results import ExportPart
from chatdb_client.routing import route_stubs

T = TypeVar("T")

ProgressCallback = Callable[[training_pb2.TrainingJob], object]


class ChatDBClient:
    """A connection to a ChatDB server: one method per RPC of every service (schema, training,
    query, prediction, access), named after it in snake case, plus ``iter_*`` for listings and
    :meth:`train`. Every call carries the credential (``api_key`` or ``token``, sent as
    ``authorization: Bearer``) and a fresh request id, fails with
    :class:`~chatdb_client.ChatDBError`, and has ``timeout`` seconds unless said otherwise.
    The tenant comes from the credential; ``tenant`` names another one, which only an operator
    may act for. Use it as a context manager, or call :meth:`close`.

    ``target`` is ``host:port``, or ``dns:///name:port``: the channel keeps a connection to every
    address the name resolves to (a headless Kubernetes Service gives one per pod) and sends calls to
    them in turn. ``credentials`` (:func:`~chatdb_client.tls_credentials` or
    ``grpc.ssl_channel_credentials``) makes a TLS channel. ``service_targets`` sends the calls of some services
    elsewhere, for deployments where each service has its own address: full service name → address, e.g.
    ``{"chatdb.schema.v1.SchemaService": "dns:///chatdb-schema:50051"}``."""

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

        def open_channel(address: str) -> grpc.Channel:
            return (grpc.secure_channel(address, credentials, options=options) if credentials
                    else grpc.insecure_channel(address, options=options))

        self.channel = open_channel(target)
        self._stubs, self._channels = route_stubs(self.channel, target, service_targets, open_channel)

    def close(self) -> None:
        """Close the channels."""
        for channel in self._channels.values():
            channel.close()

    def __enter__(self) -> ChatDBClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    # --- SchemaService ------------------------------------------------------------------------

    create_data_source = sync_unary(ops.create_data_source)
    get_data_source = sync_unary(ops.get_data_source)
    iter_data_sources = sync_pages(ops.list_data_sources)
    list_data_sources = sync_list(ops.list_data_sources)
    update_data_source = sync_unary(ops.update_data_source)
    delete_data_source = sync_unary(ops.delete_data_source)
    test_connection = sync_unary(ops.test_connection)
    iter_tables = sync_pages(ops.list_tables)
    list_tables = sync_list(ops.list_tables)
    get_table = sync_unary(ops.get_table)
    refresh_schema = sync_unary(ops.refresh_schema)
    get_schema_graph = sync_unary(ops.get_schema_graph)

    # --- TrainingService ----------------------------------------------------------------------

    create_training_job = sync_unary(ops.create_training_job)
    get_training_job = sync_unary(ops.get_training_job)
    iter_training_jobs = sync_pages(ops.list_training_jobs)
    list_training_jobs = sync_list(ops.list_training_jobs)
    cancel_training_job = sync_unary(ops.cancel_training_job)
    watch_training_job = sync_stream(ops.watch_training_job)
    create_example = sync_unary(ops.create_example)
    iter_examples = sync_pages(ops.list_examples)
    list_examples = sync_list(ops.list_examples)
    delete_example = sync_unary(ops.delete_example)

    def train(self, source: str, tables: Sequence[str] | None = None, wait: bool = True,
              on_progress: ProgressCallback | None = None, timeout: float | None = None) -> training_pb2.TrainingJob:
        """Train a source's tables (all when ``tables`` is empty).

        With ``wait``, follows the job until it ends, calling ``on_progress`` with every
        state, returns the succeeded job and raises :class:`~chatdb_client.TrainingJobFailed`
        if it fails or is cancelled; ``timeout`` bounds the wait (no bound by default)."""
        job: training_pb2.TrainingJob = self.create_training_job(source, tables)
        return self.wait_for_training_job(job.name, on_progress, timeout) if wait else job

    def wait_for_training_job(self, name: str, on_progress: ProgressCallback | None = None,
                              timeout: float | None = None) -> training_pb2.TrainingJob:
        """Follow a job through WatchTrainingJob until it ends (see :meth:`train`). A watch that was
        delivering updates when it broke off with UNAVAILABLE (its server closed an aged connection, or
        stopped) is started again, on whichever server the channel picks."""
        deadline = ops.Deadline(timeout)
        job: training_pb2.TrainingJob | None = None
        watching = True
        while watching:
            delivered = False
            try:
                with contextlib.closing(self._stream(ops.watch_training_job(name, deadline.remaining()))) as updates:
                    for job in updates:
                        delivered = True
                        if on_progress is not None:
                            on_progress(job)
                        if ops.is_finished(job):
                            break
                watching = False
            except ChatDBError as error:
                if not ops.watch_resumes(error, delivered):
                    raise
        if job is None or not ops.is_finished(job):
            job = self.get_training_job(name)
        if not ops.is_finished(job):
            raise Unavailable(grpc.StatusCode.UNAVAILABLE, f"the watch of {name} ended before the job did")
        return ops.succeeded(job)

    # --- QueryService -------------------------------------------------------------------------

    ask = sync_unary(ops.ask)
    stream_ask = sync_stream(ops.stream_ask)
    batch_ask = sync_stream(ops.batch_ask)
    execute_sql = sync_unary(ops.execute_sql)
    export_query_result = sync_stream(ops.export_query_result)
    validate_sql = sync_unary(ops.validate_sql)
    search_tables = sync_unary(ops.search_tables)
    iter_queries = sync_pages(ops.list_queries)
    list_queries = sync_list(ops.list_queries)
    get_query = sync_unary(ops.get_query)
    submit_feedback = sync_unary(ops.submit_feedback)
    get_system_status = sync_unary(ops.get_system_status)
    system_status = get_system_status

    def export_to_file(self, path: str | os.PathLike[str], source: str = "", sql: str = "", query: str = "",
                       format: str | int | None = None, max_rows: int = 0, query_timeout: float | None = None,
                       timeout: float | None = None) -> ExportPart:
        """Export the full result of ``sql`` (or of a recorded ``query``) into the file ``path``, in ``format``
        or the one its suffix names (``.csv``, ``.jsonl``, ``.arrow``, ``.parquet``); returns the summary
        (``row_count``, ``byte_count``, ``truncated``, ``warnings``). The file appears only once complete."""
        parts = self.export_query_result(source, sql, query, format_for(path, format), max_rows, query_timeout,
                                         timeout)
        with contextlib.closing(parts), ExportFile(path) as sink:
            for part in parts:
                sink.take(part)
        assert sink.summary is not None
        return sink.summary

    def export_to_arrow(self, source: str = "", sql: str = "", query: str = "", max_rows: int = 0,
                        query_timeout: float | None = None, timeout: float | None = None) -> Any:
        """The full result of ``sql`` (or of a recorded ``query``) as a ``pyarrow.Table``, through an Arrow
        IPC export (needs ``chatdb-client[arrow]``); unlike :meth:`execute_sql`, beyond Ask's row cap."""
        collector = ArrowCollector()
        for part in self.export_query_result(source, sql, query, "arrow", max_rows, query_timeout, timeout):
            collector.take(part)
        return collector.table()

    # --- PredictionService --------------------------------------------------------------------

    generate_sql = sync_unary(ops.generate_sql)
    list_models = sync_unary(ops.list_models)
    load_adapter = sync_unary(ops.load_adapter)
    unload_adapter = sync_unary(ops.unload_adapter)

    # --- AccessService (admin) ----------------------------------------------------------------

    create_api_key = sync_unary(ops.create_api_key)
    iter_api_keys = sync_pages(ops.list_api_keys)
    list_api_keys = sync_list(ops.list_api_keys)
    revoke_api_key = sync_unary(ops.revoke_api_key)
    create_column_policy = sync_unary(ops.create_column_policy)
    list_column_policies = sync_unary(ops.list_column_policies)
    delete_column_policy = sync_unary(ops.delete_column_policy)
    create_row_policy = sync_unary(ops.create_row_policy)
    list_row_policies = sync_unary(ops.list_row_policies)
    delete_row_policy = sync_unary(ops.delete_row_policy)
    iter_audit_events = sync_pages(ops.list_audit_events)
    list_audit_events = sync_list(ops.list_audit_events)

    # --- WebhookService -----------------------------------------------------------------------

    create_webhook = sync_unary(ops.create_webhook)
    iter_webhooks = sync_pages(ops.list_webhooks)
    list_webhooks = sync_list(ops.list_webhooks)
    get_webhook = sync_unary(ops.get_webhook)
    delete_webhook = sync_unary(ops.delete_webhook)
    iter_webhook_deliveries = sync_pages(ops.list_webhook_deliveries)
    list_webhook_deliveries = sync_list(ops.list_webhook_deliveries)

    # --- plumbing ----------------------------------------------------------------------------

    def _call(self, operation: ops.Operation[T]) -> T:
        request_id = new_request_id()
        method = getattr(self._stubs[operation.service], operation.method)
        try:
            reply = method(operation.request, timeout=operation.timeout or self.timeout,
                           metadata=call_metadata(self.tenant, request_id, self._credential))
        except grpc.RpcError as error:
            raise ChatDBError.from_rpc_error(error, request_id=request_id) from None
        return operation.read(reply)

    def _stream(self, operation: ops.Operation[T]) -> Generator[T, None, None]:
        request_id = new_request_id()
        method = getattr(self._stubs[operation.service], operation.method)
        replies = method(operation.request, timeout=operation.timeout,
                         metadata=call_metadata(self.tenant, request_id, self._credential))
        try:
            for reply in replies:
                yield operation.read(reply)
        except grpc.RpcError as error:
            raise ChatDBError.from_rpc_error(error, request_id=request_id) from None
        finally:
            replies.cancel()
