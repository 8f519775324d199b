"""The synchronous client."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator, Sequence
from types import TracebackType
from typing import Any, TypeVar

import grpc

from chatdb.prediction.v1 import prediction_pb2
from chatdb.query.v1 import query_pb2
from chatdb.schema.v1 import schema_pb2
from chatdb.training.v1 import training_pb2
from chatdb_client import operations as ops
from chatdb_client.channel import STUB_CLASSES, RetryPolicy, call_metadata, channel_options, new_request_id
from chatdb_client.errors import ChatDBError
from chatdb_client.results import AskResult, QueryResult, SystemStatus

T = TypeVar("T")

ProgressCallback = Callable[[training_pb2.TrainingJob], object]


class ChatDBClient:
    """A connection to a ChatDB server (all four services, or one ``target`` each
    behind a gateway). Every call carries the credential (``api_key`` or ``token``, sent as
    ``authorization: Bearer``) and a fresh request id, fails with
    :class:`~chatdb_client.ChatDBError`, and has ``timeout`` seconds unless said otherwise.
    The tenant comes from the credential; ``tenant`` names another one, which only an operator
    may act for. Use it as a context manager, or call :meth:`close`.

    ``target`` is ``host:port``, or ``dns:///name:port``: the channel keeps a connection to every
    address the name resolves to (a headless Kubernetes Service gives one per pod) and sends calls to
    them in turn. ``credentials`` (:func:`~chatdb_client.tls_credentials` or
    ``grpc.ssl_channel_credentials``) makes a TLS channel."""

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
        self.channel = (grpc.secure_channel(target, credentials, options=options) if credentials
                        else grpc.insecure_channel(target, options=options))
        self._stubs = {service: stub(self.channel) for service, stub in STUB_CLASSES.items()}

    def close(self) -> None:
        """Close the channel."""
        self.channel.close()

    def __enter__(self) -> ChatDBClient:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    # --- data sources and schema -------------------------------------------------------------

    def create_data_source(self, dsn: str, display_name: str = "", data_source_id: str = "",
                           schemas: Sequence[str] = ()) -> schema_pb2.DataSource:
        """Register a database; its connection is tested and its schema discovered first."""
        return self._call(ops.create_data_source(dsn, display_name, data_source_id, schemas))

    def get_data_source(self, source: str) -> schema_pb2.DataSource:
        """One data source, by id or ``dataSources/{id}``."""
        return self._call(ops.get_data_source(source))

    def list_data_sources(self) -> list[schema_pb2.DataSource]:
        """Every data source of the tenant (all pages)."""
        return self._collect(ops.list_data_sources)

    def delete_data_source(self, source: str) -> None:
        """Delete a data source and everything stored for it."""
        self._call(ops.delete_data_source(source))

    def list_tables(self, source: str, full: bool = False) -> list[schema_pb2.Table]:
        """Every table and view of a source (all pages)."""
        return self._collect(lambda token: ops.list_tables(source, token, full))

    def get_schema_graph(self, source: str, min_confidence: float = 0.0) -> Any:
        """The join graph (``GetSchemaGraphResponse``: ``tables`` and ``edges``)."""
        return self._call(ops.get_schema_graph(source, min_confidence))

    # --- training ----------------------------------------------------------------------------

    def train(self, source: str, tables: Sequence[str] | None = None, wait: bool = True,
              on_progress: ProgressCallback | None = None, timeout: float | None = None) -> training_pb2.TrainingJob:
        """Train a source's tables (all when ``tables`` is empty).

        With ``wait``, follows the job until it ends, calling ``on_progress`` with every
        state, returns the succeeded job and raises :class:`~chatdb_client.TrainingJobFailed`
        if it fails or is cancelled; ``timeout`` bounds the wait (no bound by default)."""
        job = self._call(ops.create_training_job(source, tables))
        return self.wait_for_training_job(job.name, on_progress, timeout) if wait else job

    def get_training_job(self, name: str) -> training_pb2.TrainingJob:
        """One training job, ``trainingJobs/{id}``."""
        return self._call(ops.get_training_job(name))

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
            raise ChatDBError(grpc.StatusCode.UNAVAILABLE, f"the watch of {name} ended before the job did")
        return ops.succeeded(job)

    # --- questions and SQL -------------------------------------------------------------------

    def ask(self, source: str, question: str, max_rows: int = 0, execute: bool = True,
            query_timeout: float | None = None, candidate_count: int = 0, model: str = "",
            timeout: float | None = None) -> AskResult:
        """Answer a question with guarded SQL and its typed rows (``.sql``, ``.columns``,
        ``.rows``, ``.degradation_level``). ``max_rows`` 0 and ``query_timeout`` None take the
        server's defaults; ``timeout`` is the call's deadline."""
        return self._call(ops.ask(source, question, max_rows, execute, query_timeout, candidate_count, model,
                                  timeout))

    def execute_sql(self, source: str, sql: str, max_rows: int = 0, query_timeout: float | None = None,
                    timeout: float | None = None) -> QueryResult:
        """Run a read-only query of your own through the server's guard."""
        return self._call(ops.execute_sql(source, sql, max_rows, query_timeout, timeout))

    def validate_sql(self, source: str, sql: str) -> Any:
        """The guard's verdict (``ValidateSqlResponse``: ``valid``, ``sql``, ``violations``)."""
        return self._call(ops.validate_sql(source, sql))

    def submit_feedback(self, query: str, correct: bool | None = None, corrected_sql: str = "",
                        comment: str = "") -> query_pb2.Query:
        """Rate an answered query (``AskResult.query``); a corrected SQL implies incorrect."""
        return self._call(ops.submit_feedback(query, correct, corrected_sql, comment))

    def system_status(self) -> SystemStatus:
        """The degradation level and each dependency's health."""
        return self._call(ops.system_status())

    def generate_sql(self, question: str, dialect: str | int, schema_context: prediction_pb2.SchemaContext,
                     examples: Sequence[tuple[str, str]] = (), candidate_count: int = 0, model: str = "",
                     constrained_decoding: bool = False) -> Any:
        """SQL candidates from PredictionService (``GenerateSqlResponse``)."""
        return self._call(ops.generate_sql(question, dialect, schema_context, examples, candidate_count, model,
                                           constrained_decoding))

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

    def _collect(self, page: Callable[[str], ops.Operation[ops.Page[T]]]) -> list[T]:
        items: list[T] = []
        token = ""
        while True:
            result = self._call(page(token))
            items.extend(result.items)
            if not result.next_page_token:
                return items
            token = result.next_page_token
