"""A real gRPC server on a loopback port that serves the real generated services
with small scripted servicers, for client SDK tests.

It exercises what the SDKs must get right whatever the domain does: typed values
built by hand on the server side, errors with google.rpc details (through the
suite's own ``chatdb_server.rpc`` / ``chatdb_server.errors`` translation), pagination, tenant
and request id metadata, streaming jobs, and UNAVAILABLE injected on demand to
check retries. It runs on its own event loop in a thread, so synchronous clients
and child processes can call it while the test waits.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter, defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import struct_pb2, timestamp_pb2

from chatdb.common.v1 import degradation_pb2, dialect_pb2, value_pb2
from chatdb.prediction.v1 import prediction_pb2, prediction_service_pb2, prediction_service_pb2_grpc
from chatdb.query.v1 import query_pb2, query_service_pb2, query_service_pb2_grpc
from chatdb.schema.v1 import schema_pb2, schema_service_pb2, schema_service_pb2_grpc
from chatdb.training.v1 import training_pb2, training_service_pb2, training_service_pb2_grpc
from chatdb_server.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable, trailing_metadata
from chatdb_server.rpc import CallInfo, streaming, unary

DIALECTS = {"postgresql": dialect_pb2.DIALECT_POSTGRESQL, "mysql": dialect_pb2.DIALECT_MYSQL,
            "sqlite": dialect_pb2.DIALECT_SQLITE}
TABLES = ["customers", "order_items", "orders", "products", "reviews"]
PAGE = 2  # small, so every listing of a few items spans several pages

# The typed result every ExecuteSql and Ask answers with: one column per wire type.
RESULT_COLUMNS = [
    ("id", value_pb2.VALUE_TYPE_INTEGER, "BIGINT"),
    ("ratio", value_pb2.VALUE_TYPE_DOUBLE, "DOUBLE PRECISION"),
    ("total", value_pb2.VALUE_TYPE_DECIMAL, "NUMERIC(10,2)"),
    ("active", value_pb2.VALUE_TYPE_BOOL, "BOOLEAN"),
    ("name", value_pb2.VALUE_TYPE_STRING, "TEXT"),
    ("photo", value_pb2.VALUE_TYPE_BYTES, "BYTEA"),
    ("created", value_pb2.VALUE_TYPE_TIMESTAMP, "TIMESTAMPTZ"),
    ("birthday", value_pb2.VALUE_TYPE_DATE, "DATE"),
    ("opens", value_pb2.VALUE_TYPE_TIME, "TIME"),
    ("prefs", value_pb2.VALUE_TYPE_JSON, "JSONB"),
]
RESULT_ROWS = [
    value_pb2.Row(values=[
        value_pb2.Value(int_value=9_007_199_254_740_993),  # beyond double precision
        value_pb2.Value(double_value=0.25),
        value_pb2.Value(decimal_value="12.50"),
        value_pb2.Value(bool_value=True),
        value_pb2.Value(string_value="Zoë"),
        value_pb2.Value(bytes_value=b"\x00\x01\xff"),
        value_pb2.Value(timestamp_value=timestamp_pb2.Timestamp(seconds=1_700_000_000, nanos=123_000_000)),
        value_pb2.Value(date_value=value_pb2.Date(year=1990, month=7, day=14)),
        value_pb2.Value(time_value="09:30:00"),
        value_pb2.Value(json_value='{"tags": ["a", "b"], "n": 1}'),
    ]),
    value_pb2.Row(values=[value_pb2.Value(int_value=-2)]
                  + [value_pb2.Value(null_value=struct_pb2.NULL_VALUE)] * (len(RESULT_COLUMNS) - 1)),
]
UNSAFE_WORDS = ("drop ", "delete ", "update ", "insert ")


def _offset(token: str) -> int:
    if not token:
        return 0
    if not token.isdigit():
        raise InvalidArgument("page_token", "not a page token issued by this server", reason="INVALID_PAGE_TOKEN")
    return int(token)


def _page(items: list[Any], token: str, size: int) -> tuple[list[Any], str]:
    start = _offset(token)
    size = size or PAGE
    end = start + size
    return items[start:end], (str(end) if end < len(items) else "")


@dataclass
class Script:
    """The server's state and what it saw: sources per tenant, metadata per call,
    and failures to inject (``fail_next["ListDataSources"] = 2`` answers the next
    two calls of that method with UNAVAILABLE)."""

    sources: dict[str, dict[str, schema_pb2.DataSource]] = field(default_factory=lambda: defaultdict(dict))
    calls: Counter[str] = field(default_factory=Counter)
    seen: list[tuple[str, str, str]] = field(default_factory=list)
    """(method, tenant, request id) of every call."""
    fail_next: Counter[str] = field(default_factory=Counter)
    jobs: dict[str, list[training_pb2.TrainingJob]] = field(default_factory=dict)

    async def enter(self, method: str, call: CallInfo, context: grpc.aio.ServicerContext) -> None:
        """Record a call; end it UNAVAILABLE when a failure is scripted for it.

        The failure is a trailers-only status (``abort``), as a proxy or a server that
        is going away sends it: gRPC retries those, not a status after response headers."""
        self.calls[method] += 1
        self.seen.append((method, call.tenant, call.request_id))
        if self.fail_next[method] > 0:
            self.fail_next[method] -= 1
            unavailable = Unavailable(f"{method} is briefly unavailable")
            await context.abort(unavailable.code, unavailable.message, trailing_metadata(unavailable))

    def source(self, call: CallInfo, name: str) -> schema_pb2.DataSource:
        """A source of the caller's tenant, or NOT_FOUND."""
        found = self.sources[call.tenant].get(name)
        if found is None:
            raise NotFound(name, "data source")
        return found


class ScriptedSchema(schema_service_pb2_grpc.SchemaServiceServicer):
    def __init__(self, script: Script) -> None:
        self.script = script

    @unary
    async def CreateDataSource(self, request: Any, context: Any, call: CallInfo) -> Any:
        await self.script.enter("CreateDataSource", call, context)
        dsn = request.data_source.dsn
        if "://" not in dsn:
            raise InvalidArgument("data_source.dsn", "must be a URL such as postgresql://user@host/db")
        scheme = dsn.split("://", 1)[0].split("+", 1)[0]
        if scheme not in DIALECTS:
            raise InvalidArgument("data_source.dsn", f"unsupported scheme {scheme!r}", reason="UNSUPPORTED_DIALECT")
        if "unreachable" in dsn:
            raise FailedPrecondition("could not connect: connection refused", "SOURCE_UNREACHABLE")
        name = f"dataSources/{request.data_source_id or f'src-{len(self.script.sources[call.tenant]) + 1}'}"
        source = schema_pb2.DataSource(name=name, display_name=request.data_source.display_name,
                                       dialect=DIALECTS[scheme], redacted_dsn=dsn.split("@")[-1],
                                       table_count=len(TABLES))
        self.script.sources[call.tenant][name] = source
        return schema_service_pb2.CreateDataSourceResponse(data_source=source)

    @unary
    async def GetDataSource(self, request: Any, context: Any, call: CallInfo) -> Any:
        await self.script.enter("GetDataSource", call, context)
        return schema_service_pb2.GetDataSourceResponse(data_source=self.script.source(call, request.name))

    @unary
    async def ListDataSources(self, request: Any, context: Any, call: CallInfo) -> Any:
        await self.script.enter("ListDataSources", call, context)
        items, token = _page(list(self.script.sources[call.tenant].values()), request.page_token, request.page_size)
        return schema_service_pb2.ListDataSourcesResponse(data_sources=items, next_page_token=token)

    @unary
    async def DeleteDataSource(self, request: Any, context: Any, call: CallInfo) -> Any:
        await self.script.enter("DeleteDataSource", call, context)
        self.script.source(call, request.name)
        del self.script.sources[call.tenant][request.name]
        return schema_service_pb2.DeleteDataSourceResponse()

    @unary
    async def ListTables(self, request: Any, context: Any, call: CallInfo) -> Any:
        await self.script.enter("ListTables", call, context)
        self.script.source(call, request.parent)
        full = request.view == schema_pb2.TABLE_VIEW_FULL
        tables = [schema_pb2.Table(name=f"{request.parent}/tables/{t}", table=t,
                                   columns=[schema_pb2.Column(name="id", primary_key=True)] if full else [])
                  for t in TABLES]
        items, token = _page(tables, request.page_token, request.page_size)
        return schema_service_pb2.ListTablesResponse(tables=items, next_page_token=token, total_size=len(TABLES))


class ScriptedTraining(training_service_pb2_grpc.TrainingServiceServicer):
    """Jobs run instantly: the watch replays the scripted stages."""

    def __init__(self, script: Script) -> None:
        self.script = script

    @unary
    async def CreateTrainingJob(self, request: Any, context: Any, call: CallInfo) -> Any:
        await self.script.enter("CreateTrainingJob", call, context)
        self.script.source(call, request.parent)
        name = f"trainingJobs/job-{len(self.script.jobs) + 1}"
        stages = [(training_pb2.TRAINING_JOB_STATE_QUEUED, 0, 0),
                  (training_pb2.TRAINING_JOB_STATE_RUNNING, training_pb2.TRAINING_STAGE_FETCH, 25),
                  (training_pb2.TRAINING_JOB_STATE_RUNNING, training_pb2.TRAINING_STAGE_ANALYZE, 50),
                  (training_pb2.TRAINING_JOB_STATE_RUNNING, training_pb2.TRAINING_STAGE_VECTORIZE, 75)]
        if request.parent.endswith("broken"):
            stages.append((training_pb2.TRAINING_JOB_STATE_FAILED, training_pb2.TRAINING_STAGE_VECTORIZE, 75))
        else:
            stages.append((training_pb2.TRAINING_JOB_STATE_SUCCEEDED, training_pb2.TRAINING_STAGE_DONE, 100))
        tables = list(request.tables) or TABLES
        self.script.jobs[name] = [self._state(name, request.parent, tables, *stage) for stage in stages]
        return training_service_pb2.CreateTrainingJobResponse(training_job=self.script.jobs[name][0])

    @staticmethod
    def _state(name: str, parent: str, tables: list[str], state: int, stage: int,
               percent: int) -> training_pb2.TrainingJob:
        failed = state == training_pb2.TRAINING_JOB_STATE_FAILED
        return training_pb2.TrainingJob(name=name, data_source=parent, state=state, stage=stage,
                                        progress_percent=percent, tables=tables, total_table_count=len(tables),
                                        error_reason="SOURCE_UNREACHABLE" if failed else "",
                                        error_message="lost the connection" if failed else "")

    def _job(self, name: str) -> list[training_pb2.TrainingJob]:
        if name not in self.script.jobs:
            raise NotFound(name, "training job")
        return self.script.jobs[name]

    @unary
    async def GetTrainingJob(self, request: Any, context: Any, call: CallInfo) -> Any:
        await self.script.enter("GetTrainingJob", call, context)
        return training_service_pb2.GetTrainingJobResponse(training_job=self._job(request.name)[-1])

    @streaming
    async def WatchTrainingJob(self, request: Any, context: Any, call: CallInfo) -> AsyncIterator[Any]:
        await self.script.enter("WatchTrainingJob", call, context)
        for state in self._job(request.name):
            yield training_service_pb2.WatchTrainingJobResponse(training_job=state)


class ScriptedQuery(query_service_pb2_grpc.QueryServiceServicer):
    def __init__(self, script: Script) -> None:
        self.script = script

    def _guard(self, sql: str) -> None:
        if any(word in sql.lower() + " " for word in UNSAFE_WORDS):
            raise FailedPrecondition("only SELECT statements are allowed", "UNSAFE_SQL", {"violation": "NOT_SELECT"})

    @staticmethod
    def _columns() -> list[value_pb2.ResultColumn]:
        return [value_pb2.ResultColumn(name=n, type=t, database_type=d) for n, t, d in RESULT_COLUMNS]

    @unary
    async def ExecuteSql(self, request: Any, context: Any, call: CallInfo) -> Any:
        await self.script.enter("ExecuteSql", call, context)
        self.script.source(call, request.parent)
        self._guard(request.sql)
        return query_service_pb2.ExecuteSqlResponse(
            query=f"{request.parent}/queries/q-{self.script.calls['ExecuteSql']}", sql=request.sql,
            columns=self._columns(), rows=RESULT_ROWS, row_count=len(RESULT_ROWS),
            degradation_level=degradation_pb2.DEGRADATION_LEVEL_FULL, served_by=query_pb2.SERVED_BY_CALLER_SQL)

    @unary
    async def Ask(self, request: Any, context: Any, call: CallInfo) -> Any:
        await self.script.enter("Ask", call, context)
        self.script.source(call, request.parent)
        if not request.question.strip():
            raise InvalidArgument("question", "must not be empty")
        executed = not request.options.HasField("execute") or request.options.execute
        return query_service_pb2.AskResponse(
            query=f"{request.parent}/queries/a-{self.script.calls['Ask']}",
            sql="SELECT id, ratio, total, active, name, photo, created, birthday, opens, prefs FROM customers",
            explanation="lists customers", confidence=0.75, tables_used=["customers"],
            retrieved_tables=[query_pb2.RetrievedTable(table="customers", score=0.9)],
            columns=self._columns() if executed else [], rows=RESULT_ROWS if executed else [],
            row_count=len(RESULT_ROWS) if executed else 0, executed=executed, model="template",
            degradation_level=degradation_pb2.DEGRADATION_LEVEL_NO_MODEL, served_by=query_pb2.SERVED_BY_TEMPLATE)

    @unary
    async def ValidateSql(self, request: Any, context: Any, call: CallInfo) -> Any:
        await self.script.enter("ValidateSql", call, context)
        try:
            self._guard(request.sql)
        except FailedPrecondition as refused:
            return query_service_pb2.ValidateSqlResponse(
                valid=False, violations=[query_service_pb2.Violation(reason="NOT_SELECT", message=refused.message)])
        return query_service_pb2.ValidateSqlResponse(valid=True, sql=request.sql + " LIMIT 1000",
                                                     warnings=["LIMIT 1000 added"])

    @unary
    async def SubmitFeedback(self, request: Any, context: Any, call: CallInfo) -> Any:
        await self.script.enter("SubmitFeedback", call, context)
        feedback = query_pb2.Feedback(rating=request.rating, corrected_sql=request.corrected_sql,
                                      comment=request.comment)
        return query_service_pb2.SubmitFeedbackResponse(query=query_pb2.Query(name=request.name, feedback=feedback))

    @unary
    async def GetSystemStatus(self, request: Any, context: Any, call: CallInfo) -> Any:
        await self.script.enter("GetSystemStatus", call, context)
        return query_service_pb2.GetSystemStatusResponse(
            degradation_level=degradation_pb2.DEGRADATION_LEVEL_NO_MODEL,
            dependencies=[query_pb2.DependencyStatus(name="prediction", healthy=False, detail="connection refused",
                                                     breaker_state="open", failure_count=5),
                          query_pb2.DependencyStatus(name="metadata", healthy=True, breaker_state="closed")],
            check_time=timestamp_pb2.Timestamp(seconds=1_700_000_000))


class ScriptedPrediction(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, script: Script) -> None:
        self.script = script

    @unary
    async def GenerateSql(self, request: Any, context: Any, call: CallInfo) -> Any:
        await self.script.enter("GenerateSql", call, context)
        if not request.schema_context.tables:
            raise InvalidArgument("schema_context.tables", "at least one table is required")
        table = request.schema_context.tables[0].name
        candidates = [prediction_pb2.Candidate(sql=f"SELECT COUNT(*) FROM {table}", confidence=0.6,
                                               explanation=f"counts {table}")
                      for _ in range(max(1, request.candidate_count))]
        return prediction_service_pb2.GenerateSqlResponse(candidates=candidates, model="models/template",
                                                          backend=prediction_pb2.BACKEND_KIND_TEMPLATE)


class ScriptedServer:
    """The four scripted services on 127.0.0.1 and a free port, on a thread's own loop."""

    def __init__(self) -> None:
        self.script = Script()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: grpc.aio.Server | None = None

    @property
    def address(self) -> str:
        """host:port to dial."""
        return f"127.0.0.1:{self.port}"

    def start(self) -> ScriptedServer:
        """Start serving; returns once the port is bound and the server accepts calls."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=30)
        return self

    async def _start(self) -> None:
        self._server = grpc.aio.server()
        schema_service_pb2_grpc.add_SchemaServiceServicer_to_server(ScriptedSchema(self.script), self._server)
        training_service_pb2_grpc.add_TrainingServiceServicer_to_server(ScriptedTraining(self.script), self._server)
        query_service_pb2_grpc.add_QueryServiceServicer_to_server(ScriptedQuery(self.script), self._server)
        prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(ScriptedPrediction(self.script),
                                                                            self._server)
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        await self._server.start()

    def stop(self) -> None:
        """Stop serving and end the thread (once; later calls do nothing)."""
        if self._loop.is_closed():
            return
        if self._server is not None:
            asyncio.run_coroutine_threadsafe(self._server.stop(None), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()
