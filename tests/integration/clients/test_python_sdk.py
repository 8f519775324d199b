"""The Python SDK over real gRPC on loopback ports.

First against the scripted services (tests/integration/clients/scripted_server.py),
which pin down typed values, error details, paging, metadata and retries; then
against the real suite (``chatdb serve``'s runtime, in process), where each test
skips with a clear message while the service it needs answers UNIMPLEMENTED.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path

import grpc
import pytest

from chatdb.common.v1 import dialect_pb2
from chatdb.prediction.v1 import prediction_pb2
from chatdb.query.v1 import query_pb2
from chatdb.training.v1 import training_pb2
from chatdb_client import (
    NO_RETRIES,
    AsyncChatDBClient,
    ChatDBClient,
    ChatDBError,
    DegradationLevel,
    RetryPolicy,
    TrainingJobFailed,
)
from chatdb_server.access.bootstrap import read_admin_key
from tests.integration.clients.scripted_server import TABLES, ScriptedServer
from tests.support.server import in_process_suite

FAST_RETRIES = RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.05)

EXPECTED_ROWS = [
    (9_007_199_254_740_993, 0.25, Decimal("12.50"), True, "Zoë", b"\x00\x01\xff",
     dt.datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=dt.UTC), dt.date(1990, 7, 14), dt.time(9, 30),
     {"tags": ["a", "b"], "n": 1}),
    (-2, None, None, None, None, None, None, None, None, None),
]


@pytest.fixture
def client(scripted_server: ScriptedServer) -> Iterator[ChatDBClient]:
    with ChatDBClient(scripted_server.address, tenant="acme", timeout=10, retry=FAST_RETRIES) as connected:
        yield connected


# --- scripted services: data sources -------------------------------------------------------------

def test_data_sources_are_created_listed_over_pages_fetched_and_deleted(client: ChatDBClient,
                                                                        scripted_server: ScriptedServer) -> None:
    created = [client.create_data_source(f"postgresql://u:pw@db/{n}", display_name=n.title(), data_source_id=n)
               for n in ("shop", "hr", "crm")]
    assert [s.name for s in created] == ["dataSources/shop", "dataSources/hr", "dataSources/crm"]
    assert created[0].dialect == dialect_pb2.DIALECT_POSTGRESQL

    listed = client.list_data_sources()
    assert [s.name for s in listed] == ["dataSources/shop", "dataSources/hr", "dataSources/crm"]
    assert scripted_server.script.calls["ListDataSources"] == 2  # two per page, so two pages

    assert client.get_data_source("hr").display_name == "Hr"
    assert client.get_data_source("dataSources/hr").display_name == "Hr"
    client.delete_data_source("hr")
    with pytest.raises(ChatDBError) as missing:
        client.get_data_source("hr")
    assert missing.value.code is grpc.StatusCode.NOT_FOUND
    assert (missing.value.reason, missing.value.domain) == ("NOT_FOUND", "chatdb")
    assert missing.value.metadata == {"resource": "dataSources/hr"}


def test_every_call_carries_the_tenant_and_its_own_request_id(client: ChatDBClient,
                                                              scripted_server: ScriptedServer) -> None:
    client.create_data_source("sqlite:///shop.db", data_source_id="shop")
    client.list_data_sources()
    with pytest.raises(ChatDBError) as missing:
        client.get_data_source("nope")
    seen = scripted_server.script.seen
    assert [tenant for _, tenant, _ in seen] == ["acme"] * 3
    request_ids = [request_id for _, _, request_id in seen]
    assert len(set(request_ids)) == 3 and all(len(r) == 32 for r in request_ids)
    assert missing.value.request_id == request_ids[-1]


def test_tenants_see_only_their_own_sources(scripted_server: ScriptedServer) -> None:
    with ChatDBClient(scripted_server.address, tenant="alpha") as alpha, \
            ChatDBClient(scripted_server.address, tenant="beta") as beta:
        alpha.create_data_source("sqlite:///a.db", data_source_id="a")
        assert [s.name for s in alpha.list_data_sources()] == ["dataSources/a"]
        assert beta.list_data_sources() == []


def test_bad_input_raises_with_the_field_and_reason(client: ChatDBClient) -> None:
    with pytest.raises(ChatDBError) as malformed:
        client.create_data_source("not a url")
    assert malformed.value.code is grpc.StatusCode.INVALID_ARGUMENT
    assert malformed.value.reason == "INVALID_FIELD"
    assert malformed.value.fields == ["data_source.dsn"]
    assert "URL" in malformed.value.field_violations[0].description

    with pytest.raises(ChatDBError) as unreachable:
        client.create_data_source("mysql://root@unreachable:3306/shop")
    assert unreachable.value.code is grpc.StatusCode.FAILED_PRECONDITION
    assert unreachable.value.reason == "SOURCE_UNREACHABLE"
    assert unreachable.value.fields == []


def test_tables_are_listed_over_every_page(client: ChatDBClient, scripted_server: ScriptedServer) -> None:
    client.create_data_source("sqlite:///shop.db", data_source_id="shop")
    tables = client.list_tables("shop")
    assert [t.table for t in tables] == TABLES
    assert scripted_server.script.calls["ListTables"] == 3
    assert all(not t.columns for t in tables)
    assert all(t.columns[0].primary_key for t in client.list_tables("shop", full=True))


# --- scripted services: SQL, questions, status ---------------------------------------------------

def test_execute_sql_returns_typed_python_values(client: ChatDBClient) -> None:
    client.create_data_source("postgresql://u@db/shop", data_source_id="shop")
    result = client.execute_sql("shop", "SELECT * FROM customers")
    assert result.rows == EXPECTED_ROWS
    assert [type(v) for v in result.rows[0]] == [int, float, Decimal, bool, str, bytes, dt.datetime, dt.date,
                                                 dt.time, dict]
    assert result.rows[0][6].tzinfo is dt.UTC
    assert [(c.name, c.type) for c in result.columns][:3] == [("id", "INTEGER"), ("ratio", "DOUBLE"),
                                                              ("total", "DECIMAL")]
    assert result.records()[1]["id"] == -2
    assert (result.row_count, result.served_by, result.degradation_level) == (2, "CALLER_SQL",
                                                                              DegradationLevel.FULL)


def test_unsafe_sql_is_refused_with_its_reason(client: ChatDBClient) -> None:
    client.create_data_source("postgresql://u@db/shop", data_source_id="shop")
    with pytest.raises(ChatDBError) as refused:
        client.execute_sql("shop", "DROP TABLE customers")
    assert (refused.value.code, refused.value.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "UNSAFE_SQL")
    assert refused.value.metadata["violation"] == "NOT_SELECT"
    verdict = client.validate_sql("shop", "DELETE FROM customers")
    assert not verdict.valid and [v.reason for v in verdict.violations] == ["NOT_SELECT"]
    assert client.validate_sql("shop", "SELECT 1").sql == "SELECT 1 LIMIT 1000"


def test_ask_returns_sql_rows_and_the_level(client: ChatDBClient) -> None:
    client.create_data_source("postgresql://u@db/shop", data_source_id="shop")
    answer = client.ask("shop", "Who are our customers?")
    assert answer.sql.startswith("SELECT id, ratio")
    assert answer.rows == EXPECTED_ROWS
    assert answer.column_names[-1] == "prefs"
    assert answer.degradation_level is DegradationLevel.NO_MODEL and answer.degradation_level == 2
    assert (answer.served_by, answer.model, answer.confidence) == ("TEMPLATE", "template", 0.75)
    assert answer.retrieved_tables == ["customers"] and answer.executed

    planned = client.ask("shop", "Who are our customers?", execute=False)
    assert (planned.executed, planned.rows, planned.sql) == (False, [], answer.sql)

    feedback = client.submit_feedback(answer.query, corrected_sql="SELECT name FROM customers")
    assert feedback.name == answer.query
    assert feedback.feedback.rating == query_pb2.FEEDBACK_RATING_INCORRECT


def test_system_status_and_generation(client: ChatDBClient) -> None:
    status = client.system_status()
    assert status.degradation_level is DegradationLevel.NO_MODEL
    prediction = status.dependencies[0]
    assert (prediction.name, prediction.healthy, prediction.breaker_state) == ("prediction", False, "open")
    assert status.check_time == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC)

    context = prediction_pb2.SchemaContext(tables=[prediction_pb2.TableContext(name="orders")])
    generated = client.generate_sql("How many orders?", "sqlite", context, candidate_count=2)
    assert [c.sql for c in generated.candidates] == ["SELECT COUNT(*) FROM orders"] * 2
    with pytest.raises(ChatDBError) as empty:
        client.generate_sql("How many orders?", "sqlite", prediction_pb2.SchemaContext())
    assert empty.value.fields == ["schema_context.tables"]


# --- scripted services: training -----------------------------------------------------------------

def test_train_follows_the_job_and_reports_every_state(client: ChatDBClient) -> None:
    client.create_data_source("sqlite:///shop.db", data_source_id="shop")
    seen: list[training_pb2.TrainingJob] = []
    job = client.train("shop", tables=["orders", "customers"], on_progress=seen.append)
    assert job.state == training_pb2.TRAINING_JOB_STATE_SUCCEEDED and job.progress_percent == 100
    assert [s.progress_percent for s in seen] == [0, 25, 50, 75, 100]
    assert list(job.tables) == ["orders", "customers"]

    queued = client.train("shop", wait=False)
    assert queued.state == training_pb2.TRAINING_JOB_STATE_QUEUED
    assert client.wait_for_training_job(queued.name).state == training_pb2.TRAINING_JOB_STATE_SUCCEEDED


def test_a_failed_training_job_raises_with_its_reason(client: ChatDBClient) -> None:
    client.create_data_source("sqlite:///broken.db", data_source_id="broken")
    with pytest.raises(TrainingJobFailed) as failed:
        client.train("broken")
    assert failed.value.state == "FAILED" and failed.value.reason == "SOURCE_UNREACHABLE"
    assert failed.value.job.progress_percent == 75


# --- scripted services: retries ------------------------------------------------------------------

def test_idempotent_calls_are_retried_on_unavailable(client: ChatDBClient, scripted_server: ScriptedServer) -> None:
    client.create_data_source("sqlite:///shop.db", data_source_id="shop")
    scripted_server.script.fail_next["ListDataSources"] = 2
    assert [s.name for s in client.list_data_sources()] == ["dataSources/shop"]
    assert scripted_server.script.calls["ListDataSources"] == 3

    scripted_server.script.fail_next["WatchTrainingJob"] = 1
    assert client.train("shop").state == training_pb2.TRAINING_JOB_STATE_SUCCEEDED
    assert scripted_server.script.calls["WatchTrainingJob"] == 2


def test_retries_stop_after_max_attempts(client: ChatDBClient, scripted_server: ScriptedServer) -> None:
    scripted_server.script.fail_next["GetSystemStatus"] = 10
    with pytest.raises(ChatDBError) as unavailable:
        client.system_status()
    assert unavailable.value.code is grpc.StatusCode.UNAVAILABLE and unavailable.value.reason == "DEGRADED"
    assert scripted_server.script.calls["GetSystemStatus"] == FAST_RETRIES.max_attempts


def test_calls_that_change_state_are_not_retried(client: ChatDBClient, scripted_server: ScriptedServer) -> None:
    scripted_server.script.fail_next["CreateDataSource"] = 1
    with pytest.raises(ChatDBError) as unavailable:
        client.create_data_source("sqlite:///shop.db", data_source_id="shop")
    assert unavailable.value.code is grpc.StatusCode.UNAVAILABLE
    assert scripted_server.script.calls["CreateDataSource"] == 1
    assert client.list_data_sources() == []


def test_retries_can_be_turned_off(scripted_server: ScriptedServer) -> None:
    scripted_server.script.fail_next["ListDataSources"] = 1
    with ChatDBClient(scripted_server.address, retry=NO_RETRIES) as plain, pytest.raises(ChatDBError):
        plain.list_data_sources()
    assert scripted_server.script.calls["ListDataSources"] == 1


def test_a_server_that_is_not_there_is_unavailable(scripted_server: ScriptedServer) -> None:
    address = scripted_server.address
    scripted_server.stop()
    with ChatDBClient(address, timeout=5, retry=FAST_RETRIES) as orphan, pytest.raises(ChatDBError) as down:
        orphan.list_data_sources()
    assert down.value.code is grpc.StatusCode.UNAVAILABLE


# --- scripted services: the asyncio client -------------------------------------------------------

@pytest.fixture
async def async_client(scripted_server: ScriptedServer) -> AsyncIterator[AsyncChatDBClient]:
    async with AsyncChatDBClient(scripted_server.address, tenant="acme", timeout=10, retry=FAST_RETRIES) as connected:
        yield connected


async def test_async_client_covers_sources_queries_and_errors(async_client: AsyncChatDBClient,
                                                              scripted_server: ScriptedServer) -> None:
    for name in ("shop", "hr", "crm"):
        await async_client.create_data_source(f"mysql://u@db/{name}", data_source_id=name)
    scripted_server.script.fail_next["ListDataSources"] = 1
    assert [s.name for s in await async_client.list_data_sources()] == [
        "dataSources/shop", "dataSources/hr", "dataSources/crm"]
    assert [t.table for t in await async_client.list_tables("shop")] == TABLES
    assert (await async_client.execute_sql("shop", "SELECT 1")).rows == EXPECTED_ROWS
    assert (await async_client.ask("shop", "customers?")).degradation_level is DegradationLevel.NO_MODEL
    assert (await async_client.system_status()).dependencies[1].name == "metadata"
    with pytest.raises(ChatDBError) as missing:
        await async_client.delete_data_source("nope")
    assert (missing.value.code, missing.value.reason) == (grpc.StatusCode.NOT_FOUND, "NOT_FOUND")
    assert {tenant for _, tenant, _ in scripted_server.script.seen} == {"acme"}


async def test_async_train_accepts_plain_and_coroutine_callbacks(async_client: AsyncChatDBClient) -> None:
    await async_client.create_data_source("sqlite:///shop.db", data_source_id="shop")
    percents: list[int] = []

    async def record(job: training_pb2.TrainingJob) -> None:
        percents.append(job.progress_percent)

    assert (await async_client.train("shop", on_progress=record)).progress_percent == 100
    assert percents == [0, 25, 50, 75, 100]
    stages: list[int] = []
    await async_client.train("shop", on_progress=lambda job: stages.append(job.stage))
    assert stages[-1] == training_pb2.TRAINING_STAGE_DONE
    await async_client.create_data_source("sqlite:///broken.db", data_source_id="broken")
    with pytest.raises(TrainingJobFailed):
        await async_client.train("broken")


# --- the real suite ------------------------------------------------------------------------------

def _shop_database(path: Path) -> Path:
    with sqlite3.connect(path) as db:
        db.executescript("""
            CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, joined DATE);
            CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id),
                                 total NUMERIC(10, 2), paid BOOLEAN);
            INSERT INTO customers VALUES (1, 'Ada', '2024-01-05'), (2, 'Grace', NULL);
            INSERT INTO orders VALUES (10, 1, 12.50, 1), (11, 2, 3.00, 0);
        """)
    return path


def _skip_unimplemented(error: ChatDBError, what: str) -> None:
    if error.code is grpc.StatusCode.UNIMPLEMENTED:
        pytest.skip(f"{what} is not implemented by the server in this build yet")


@pytest.fixture
async def real_suite(tmp_path: Path) -> AsyncIterator[tuple[AsyncChatDBClient, Path]]:
    async with in_process_suite(tmp_path / "data") as (running, _channel), \
            AsyncChatDBClient(f"127.0.0.1:{running.port}", tenant="sdk-test", timeout=60,
                              api_key=read_admin_key(tmp_path / "data")) as sdk:
        yield sdk, _shop_database(tmp_path / "shop.db")


async def test_real_suite_data_source_lifecycle(real_suite: tuple[AsyncChatDBClient, Path]) -> None:
    sdk, database = real_suite
    try:
        created = await sdk.create_data_source(f"sqlite:///{database}", display_name="Shop", data_source_id="shop")
    except ChatDBError as error:
        _skip_unimplemented(error, "SchemaService.CreateDataSource")
        raise
    assert created.name == "dataSources/shop" and created.dialect == dialect_pb2.DIALECT_SQLITE
    assert [s.name for s in await sdk.list_data_sources()] == ["dataSources/shop"]
    assert (await sdk.get_data_source("shop")).display_name == "Shop"
    assert sorted(t.table for t in await sdk.list_tables("shop")) == ["customers", "orders"]
    await sdk.delete_data_source("shop")
    with pytest.raises(ChatDBError) as missing:
        await sdk.get_data_source("shop")
    assert (missing.value.code, missing.value.reason) == (grpc.StatusCode.NOT_FOUND, "NOT_FOUND")


async def test_real_suite_rejects_a_malformed_dsn_with_the_field(real_suite: tuple[AsyncChatDBClient, Path]) -> None:
    sdk, _ = real_suite
    with pytest.raises(ChatDBError) as malformed:
        await sdk.create_data_source("definitely not a dsn")
    _skip_unimplemented(malformed.value, "SchemaService.CreateDataSource")
    assert malformed.value.code is grpc.StatusCode.INVALID_ARGUMENT
    assert any("dsn" in field for field in malformed.value.fields)


async def test_real_suite_executes_sql_with_typed_values(real_suite: tuple[AsyncChatDBClient, Path]) -> None:
    sdk, database = real_suite
    try:
        await sdk.create_data_source(f"sqlite:///{database}", data_source_id="shop")
        result = await sdk.execute_sql("shop", "SELECT id, name FROM customers ORDER BY id")
    except ChatDBError as error:
        _skip_unimplemented(error, "SchemaService.CreateDataSource or QueryService.ExecuteSql")
        raise
    assert result.rows == [(1, "Ada"), (2, "Grace")]
    assert result.column_names == ["id", "name"]
    assert result.degradation_level is not None



async def test_real_suite_reports_status_and_refuses_unknown_sources(
        real_suite: tuple[AsyncChatDBClient, Path]) -> None:
    sdk, _ = real_suite
    try:
        status = await sdk.system_status()
    except ChatDBError as error:
        _skip_unimplemented(error, "QueryService.GetSystemStatus")
        raise
    assert status.degradation_level is not None
    assert "metadata" in [d.name for d in status.dependencies]
    assert status.check_time is not None and status.check_time.tzinfo is dt.UTC
    with pytest.raises(ChatDBError) as missing:
        await sdk.execute_sql("no-such-source", "SELECT 1")
    assert (missing.value.code, missing.value.reason) == (grpc.StatusCode.NOT_FOUND, "NOT_FOUND")
    assert missing.value.metadata == {"resource": "dataSources/no-such-source"}
    assert missing.value.request_id is not None
