"""Requests a hostile caller would send, against real servers: each gets a clear status naming the limit or
the field, none stalls the server, none ends UNKNOWN, and none leaves a traceback in the log.

One ``chatdb serve`` process (small reply caps, default guard limits) answers the size, function, reply and
malformed-request cases; an in-process server whose token limit lets a 99,000-character ``OR`` chain
through to the guard's time budget shows that health checks and a simple ask keep being answered while
four such checks run.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import REGISTRY

from chatdb.access.v1 import access_service_pb2
from chatdb.prediction.v1 import prediction_service_pb2
from chatdb.query.v1 import query_service_pb2, query_service_pb2_grpc
from chatdb.schema.v1 import schema_service_pb2, schema_service_pb2_grpc
from chatdb.training.v1 import training_pb2, training_service_pb2, training_service_pb2_grpc
from chatdb_server.samples.shop import build_shop_database
from tests.support.grpc_unit import bad_request_fields, error_info
from tests.support.server import ServerProcess, in_process_suite, keyed_metadata

pytestmark = [pytest.mark.slow, pytest.mark.reliability]

SHOP = "dataSources/shop"
MAX_CELL_BYTES = 200
MAX_REPLY_BYTES = 20_000
CALL_TIMEOUT_S = 60.0
LOG_WAIT_S = 30.0
QUERY_SERVICE = "chatdb.query.v1.QueryService"


def or_chain(characters: int) -> str:
    """``SELECT id FROM customers WHERE id=0 OR id=1 OR ...`` of about ``characters`` characters."""
    parts = ["SELECT id FROM customers WHERE id=0"]
    length, term = len(parts[0]), 1
    while length < characters:
        parts.append(f" OR id={term}")
        length += len(parts[-1])
        term += 1
    return "".join(parts)


def nested_in(levels: int) -> str:
    sql = "SELECT id FROM customers"
    for _ in range(levels):
        sql = f"SELECT id FROM customers WHERE id IN ({sql})"
    return sql


HOSTILE_OR_CHAIN = or_chain(99_000)


@dataclass
class Hostile:
    """The ``chatdb serve`` process and a blocking channel to it."""

    process: ServerProcess
    channel: grpc.Channel
    metadata: tuple[tuple[str, str], ...]

    @property
    def query(self) -> query_service_pb2_grpc.QueryServiceStub:
        return query_service_pb2_grpc.QueryServiceStub(self.channel)

    def refused(self, call: grpc.UnaryUnaryMultiCallable, request: Message) -> grpc.RpcError:
        """The error ``call`` ends with (it must end with one)."""
        with pytest.raises(grpc.RpcError) as raised:
            call(request, metadata=self.metadata, timeout=CALL_TIMEOUT_S)
        return raised.value

    def raw(self, path: str, payload: bytes, *, streaming: bool = False) -> grpc.RpcError:
        """The error a call of ``path`` ends with when its request is ``payload``, sent as it is."""
        with pytest.raises(grpc.RpcError) as raised:
            if streaming:
                for _ in self.channel.unary_stream(path)(payload, metadata=self.metadata, timeout=CALL_TIMEOUT_S):
                    pass
            else:
                self.channel.unary_unary(path)(payload, metadata=self.metadata, timeout=CALL_TIMEOUT_S)
        return raised.value

    def log_through(self, request_id: str) -> str:
        """The server's log up to and including the line of the call with ``request_id`` (polled for)."""
        deadline = time.monotonic() + LOG_WAIT_S
        while time.monotonic() < deadline:
            text = "".join(self.process.log_lines)
            if request_id in text:
                return text
            time.sleep(0.05)
        raise AssertionError(f"the server never logged the call {request_id}")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hostile]:
    directory = tmp_path_factory.mktemp("hostile")
    shop = build_shop_database(directory / "shop.db")
    env = {"CHATDB_MAX_CELL_BYTES": str(MAX_CELL_BYTES), "CHATDB_MAX_REPLY_BYTES": str(MAX_REPLY_BYTES)}
    with ServerProcess(directory / "data", env=env) as process:
        channel = grpc.insecure_channel(process.address)
        metadata = keyed_metadata(process.admin_key)
        schema_service_pb2_grpc.SchemaServiceStub(channel).CreateDataSource(schema_service_pb2.CreateDataSourceRequest(
            data_source_id="shop", data_source={"dsn": f"sqlite:///{shop}"}), metadata=metadata, timeout=60)
        try:
            yield Hostile(process, channel, metadata)
        finally:
            channel.close()


def assert_invalid(error: grpc.RpcError, field: str, reason: str, *mentions: str) -> None:
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error
    info = error_info(error.trailing_metadata())
    assert info is not None and info.reason == reason, info
    assert bad_request_fields(error.trailing_metadata()) == [field]
    for mention in mentions:
        assert mention in (error.details() or ""), error.details()


# ---- SQL beyond what the guard checks ----------------------------------------------------------------------

@pytest.mark.parametrize(("sql", "limit"), [
    pytest.param(HOSTILE_OR_CHAIN, "max_sql_tokens", id="99k-character-or-chain"),
    pytest.param("SELECT " + "+".join(["1"] * 20_000) + " FROM customers", "max_sql_tokens", id="long-sum"),
    pytest.param(" UNION ALL ".join(["SELECT id FROM customers"] * 2_500), "max_sql_tokens", id="union-all-chain"),
    pytest.param("WITH " + ", ".join(f"c{i} AS (SELECT id FROM customers)" for i in range(2_000))
                 + " SELECT id FROM c0",
                 "max_sql_tokens", id="cte-chain"),
    pytest.param("SELECT " + "(" * 1_000 + "1" + ")" * 1_000 + " FROM customers", "max_sql_depth",
                 id="1000-nested-parentheses"),
    pytest.param(nested_in(400), "max_sql_depth", id="400-nested-in-select"),
])
def test_sql_beyond_the_limits_is_invalid_naming_the_limit(hostile: Hostile, sql: str, limit: str) -> None:
    for call, request in ((hostile.query.ValidateSql, query_service_pb2.ValidateSqlRequest(parent=SHOP, sql=sql)),
                          (hostile.query.ExecuteSql, query_service_pb2.ExecuteSqlRequest(parent=SHOP, sql=sql))):
        assert_invalid(hostile.refused(call, request), "sql", "SQL_TOO_COMPLEX", limit)


@pytest.mark.parametrize("sql", [
    # Both over 1,000 characters, so checked in a worker. Under that size the compiled parser (sqlglotc) no
    # longer reaches the stack's limit; the guard's own handling of it is unit-tested (test_guard_limits.py).
    pytest.param("SELECT id FROM customers WHERE " + "NOT " * 2000 + "id = 1", id="2000-nots"),
    pytest.param("SELECT " + "- " * 2000 + "1 FROM customers", id="2000-minus-signs"),
])
def test_sql_that_exhausts_the_stack_is_invalid_not_unknown(hostile: Hostile, sql: str) -> None:
    error = hostile.refused(hostile.query.ValidateSql, query_service_pb2.ValidateSqlRequest(parent=SHOP, sql=sql))
    assert_invalid(error, "sql", "SQL_TOO_COMPLEX", "nests too deeply", "max_sql_depth")


def test_large_sql_within_the_limits_is_checked_in_a_worker_and_runs(hostile: Hostile) -> None:
    sql = or_chain(6_000)  # over 1,000 characters: checked off the event loop; SQLite nests at most 1,000 terms
    verdict = hostile.query.ValidateSql(query_service_pb2.ValidateSqlRequest(parent=SHOP, sql=sql),
                                        metadata=hostile.metadata, timeout=CALL_TIMEOUT_S)
    assert verdict.valid and verdict.tables == ["customers"]
    run = hostile.query.ExecuteSql(query_service_pb2.ExecuteSqlRequest(parent=SHOP, sql=sql),
                                   metadata=hostile.metadata, timeout=CALL_TIMEOUT_S)
    assert run.row_count > 0


# ---- functions that blow memory ---------------------------------------------------------------------------

@pytest.mark.parametrize(("sql", "says"), [
    ("SELECT printf('%.*c', 10000000, 'x')", "printf() may not take a precision from its arguments"),
    ("SELECT printf('%100000000s', name) FROM customers LIMIT 3", "printf() width 100,000,000"),
    ("SELECT zeroblob(1000000000)", "function zeroblob is not allowed"),
    ("SELECT replace(name, 'a', name || name) FROM customers", "the replacement of replace() must be a string literal"),
    ("SELECT hex(hex(hex(hex(hex(name))))) FROM customers", "32 times larger"),
])
def test_functions_that_could_blow_memory_are_refused(hostile: Hostile, sql: str, says: str) -> None:
    error = hostile.refused(hostile.query.ExecuteSql, query_service_pb2.ExecuteSqlRequest(parent=SHOP, sql=sql))
    assert_invalid(error, "sql", "UNSAFE_SQL", says)
    verdict = hostile.query.ValidateSql(query_service_pb2.ValidateSqlRequest(parent=SHOP, sql=sql),
                                        metadata=hostile.metadata, timeout=CALL_TIMEOUT_S)
    assert not verdict.valid and any(says in v.message for v in verdict.violations)


# ---- replies bounded in bytes -----------------------------------------------------------------------------

def test_long_values_are_cut_and_rows_past_the_reply_cap_left_out(hostile: Hostile) -> None:
    sql = ("SELECT id, printf('%.500c', 'x') AS filler, CAST(printf('%.300c', 'y') AS BLOB) AS raw "
           "FROM customers ORDER BY id")
    reply = hostile.query.ExecuteSql(query_service_pb2.ExecuteSqlRequest(parent=SHOP, sql=sql),
                                     metadata=hostile.metadata, timeout=CALL_TIMEOUT_S)
    assert 0 < len(reply.rows) < 100 and reply.truncated and reply.row_count == len(reply.rows)
    first = reply.rows[0].values
    assert first[1].string_value == "x" * MAX_CELL_BYTES and first[2].bytes_value == b"y" * MAX_CELL_BYTES
    assert ([w for w in reply.warnings if "max_cell_bytes" in w]
            == [f"values longer than {MAX_CELL_BYTES} bytes (max_cell_bytes) were cut in column(s) filler, raw"])
    assert any(f"more would exceed {MAX_REPLY_BYTES:,} bytes (max_reply_bytes)" in w for w in reply.warnings)
    assert reply.ByteSize() < MAX_REPLY_BYTES + 10_000  # the rows within the cap, the SQL and warnings beside


# ---- malformed requests -----------------------------------------------------------------------------------

ENUMS = [
    pytest.param("/chatdb.training.v1.TrainingService/CreateTrainingJob",
                 training_service_pb2.CreateTrainingJobRequest(parent=SHOP, type=99), "type", id="training-job-type"),
    pytest.param("/chatdb.query.v1.QueryService/SubmitFeedback",
                 query_service_pb2.SubmitFeedbackRequest(name=f"{SHOP}/queries/q1", rating=99), "rating",
                 id="feedback-rating"),
    pytest.param("/chatdb.schema.v1.SchemaService/ListTables",
                 schema_service_pb2.ListTablesRequest(parent=SHOP, view=9), "view", id="table-view"),
    pytest.param("/chatdb.schema.v1.SchemaService/GetTable",
                 schema_service_pb2.GetTableRequest(name=f"{SHOP}/tables/customers", view=-1), "view",
                 id="get-table-view"),
    pytest.param("/chatdb.schema.v1.SchemaService/CreateDataSource",
                 schema_service_pb2.CreateDataSourceRequest(data_source_id="other",
                                                            data_source={"dsn": "sqlite:///x.db", "dialect": 42}),
                 "data_source.dialect", id="data-source-dialect"),
    pytest.param("/chatdb.training.v1.TrainingService/CreateExample",
                 training_service_pb2.CreateExampleRequest(parent=SHOP, example={
                     "question": "how many customers", "sql": "SELECT count(*) FROM customers", "source": 77}),
                 "example.source", id="example-source"),
    pytest.param("/chatdb.access.v1.AccessService/CreateColumnPolicy",
                 access_service_pb2.CreateColumnPolicyRequest(parent=SHOP, column_policy={
                     "table": "customers", "column": "email", "action": 5}), "column_policy.action",
                 id="column-action"),
    pytest.param("/chatdb.prediction.v1.PredictionService/GenerateSql",
                 prediction_service_pb2.GenerateSqlRequest(question="how many customers", dialect=3, schema_context={
                     "tables": [{"name": "customers"}], "joins": [{"kind": 13}]}),
                 "schema_context.joins[0].kind", id="join-kind"),
]


@pytest.mark.parametrize(("path", "request_message", "field"), ENUMS)
def test_an_undefined_enum_value_is_invalid_naming_the_field(hostile: Hostile, path: str, request_message: Message,
                                                             field: str) -> None:
    error = hostile.raw(path, request_message.SerializeToString())
    assert_invalid(error, field, "INVALID_FIELD", "value; use one of")


@pytest.mark.parametrize(("path", "streaming"), [
    ("/chatdb.query.v1.QueryService/ValidateSql", False),
    ("/chatdb.query.v1.QueryService/StreamAsk", True),
    ("/chatdb.training.v1.TrainingService/WatchTrainingJob", True),
    ("/chatdb.schema.v1.SchemaService/CreateDataSource", False),
    ("/grpc.health.v1.Health/Check", False),
])
@pytest.mark.parametrize("payload", [b"\xff\xff\xff\xff\x0f", b"\x0a\x05ab", b"\x0a\x02\xff\xfe"],
                         ids=["bad-varint", "cut-short", "bad-utf8"])
def test_bytes_that_do_not_decode_are_invalid(hostile: Hostile, path: str, streaming: bool, payload: bytes) -> None:
    error = hostile.raw(path, payload, streaming=streaming)
    assert_invalid(error, "request", "INVALID_FIELD", "the request bytes do not decode")


def test_malformed_requests_leave_no_traceback_and_the_server_serving(hostile: Hostile) -> None:
    hostile.raw("/chatdb.query.v1.QueryService/ValidateSql", b"\xff\xff\xff\xff\x0f")
    hostile.raw("/chatdb.query.v1.QueryService/SubmitFeedback",
                query_service_pb2.SubmitFeedbackRequest(name=f"{SHOP}/queries/q1", rating=99).SerializeToString())
    hostile.refused(hostile.query.ValidateSql, query_service_pb2.ValidateSqlRequest(parent=SHOP, sql=nested_in(400)))
    marker = uuid.uuid4().hex
    simple = query_service_pb2.ValidateSqlRequest(parent=SHOP, sql="SELECT id FROM customers")
    verdict = hostile.query.ValidateSql(simple, metadata=(*hostile.metadata, ("x-request-id", marker)),
                                        timeout=CALL_TIMEOUT_S)
    assert verdict.valid
    log = hostile.log_through(marker)
    assert "Traceback" not in log and "RecursionError" not in log and "DecodeError" not in log
    health = health_pb2_grpc.HealthStub(hostile.channel).Check(health_pb2.HealthCheckRequest(), timeout=10)
    assert health.status == health_pb2.HealthCheckResponse.SERVING


# ---- nothing stalls the server ----------------------------------------------------------------------------

FINISHED = (training_pb2.TRAINING_JOB_STATE_SUCCEEDED, training_pb2.TRAINING_JOB_STATE_FAILED,
            training_pb2.TRAINING_JOB_STATE_CANCELLED)


def in_flight(method: str) -> float:
    return REGISTRY.get_sample_value("chatdb_rpc_in_flight", {"service": QUERY_SERVICE, "method": method}) or 0.0


async def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        await asyncio.sleep(0.01)


async def test_health_checks_and_a_simple_ask_answer_while_four_hostile_checks_run(tmp_path: Path) -> None:
    shop = build_shop_database(tmp_path / "shop.db")
    async with in_process_suite(tmp_path / "data", max_sql_tokens=1_000_000, guard_timeout_s=5.0,
                                result_cache_ttl_s=0) as (_, channel):
        schema = schema_service_pb2_grpc.SchemaServiceStub(channel)
        training = training_service_pb2_grpc.TrainingServiceStub(channel)
        query = query_service_pb2_grpc.QueryServiceStub(channel)
        health = health_pb2_grpc.HealthStub(channel)
        await schema.CreateDataSource(schema_service_pb2.CreateDataSourceRequest(
            data_source_id="shop", data_source={"dsn": f"sqlite:///{shop}"}))
        created = await training.CreateTrainingJob(training_service_pb2.CreateTrainingJobRequest(parent=SHOP))
        job = created.training_job
        async for event in training.WatchTrainingJob(training_service_pb2.WatchTrainingJobRequest(name=job.name)):
            if event.training_job.state in FINISHED:
                assert event.training_job.state == training_pb2.TRAINING_JOB_STATE_SUCCEEDED, event
                break

        before = in_flight("ValidateSql")
        hostile = [asyncio.ensure_future(query.ValidateSql(query_service_pb2.ValidateSqlRequest(
            parent=SHOP, sql=HOSTILE_OR_CHAIN))) for _ in range(4)]
        await wait_until(lambda: in_flight("ValidateSql") >= before + 4, "the four hostile checks are being served")

        for _ in range(5):
            answer = await health.Check(health_pb2.HealthCheckRequest(), timeout=CALL_TIMEOUT_S)
            assert answer.status == health_pb2.HealthCheckResponse.SERVING
        asked = await query.Ask(query_service_pb2.AskRequest(parent=SHOP, question="How many customers are there?"),
                                timeout=CALL_TIMEOUT_S)
        simple = await query.ValidateSql(query_service_pb2.ValidateSqlRequest(parent=SHOP,
                                                                              sql="SELECT id FROM customers"))
        assert not any(call.done() for call in hostile), "the hostile checks ended before the others were answered"
        assert asked.sql and asked.executed and simple.valid

        outcomes = await asyncio.gather(*hostile, return_exceptions=True)
        for outcome in outcomes:
            assert isinstance(outcome, grpc.aio.AioRpcError), outcome
            assert_invalid(outcome, "sql", "SQL_TOO_COMPLEX", "guard_timeout_s")
