"""Traces across a split deployment: QueryService (with schema and training) in one process,
PredictionService in another, both exporting over OTLP to a receiver this test runs. One ask is one
trace: the Ask server span, its stage spans, the database span, the client span of the call to
PredictionService, and PredictionService's server span as that client span's child in the other process.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from chatdb.query.v1 import query_service_pb2, query_service_pb2_grpc
from chatdb.schema.v1 import schema_pb2, schema_service_pb2, schema_service_pb2_grpc
from chatdb.training.v1 import training_service_pb2_grpc
from chatdb_server.access.keys import new_secret
from chatdb_server.samples.shop import build_shop_database
from tests.support.otlp import OtlpReceiver, ReceivedSpan, otlp_receiver
from tests.support.server import ServerProcess
from tests.support.training import train

pytestmark = pytest.mark.slow

QUERY_SIDE = "chatdb-query-side"
PREDICTION_SIDE = "chatdb-prediction-side"
ASK = "/chatdb.query.v1.QueryService/Ask"
GENERATE = "/chatdb.prediction.v1.PredictionService/GenerateSql"
STAGES = ("ask.retrieve", "ask.generate", "ask.guard", "ask.execute", "ask.record")


def _env(receiver: OtlpReceiver, service: str, keys: dict[str, str]) -> dict[str, str]:
    return {**keys, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_SERVICE_NAME": service,
            "OTEL_BSP_SCHEDULE_DELAY": "100", "CHATDB_RESULT_CACHE_TTL_S": "0"}


@pytest.fixture
def keys() -> Iterator[dict[str, str]]:
    """The admin key (sent by the services to each other as their service key) and the secret key."""
    admin_key = new_secret()
    yield {"CHATDB_BOOTSTRAP_ADMIN_KEY": admin_key, "CHATDB_SERVICE_KEY": admin_key,
           "CHATDB_SECRET_KEY": Fernet.generate_key().decode()}


def _one(spans: list[ReceivedSpan], service: str, name: str) -> ReceivedSpan:
    found = [s for s in spans if s.service == service and s.name == name]
    assert len(found) == 1, (service, name, [(s.service, s.name) for s in spans])
    return found[0]


async def test_one_ask_is_one_trace_across_query_and_prediction_processes(
        tmp_path: Path, keys: dict[str, str]) -> None:
    async with otlp_receiver() as receiver:
        prediction = ServerProcess(tmp_path / "prediction", ["prediction"],
                                   env=_env(receiver, PREDICTION_SIDE, keys))
        suite = ServerProcess(tmp_path / "suite", ["schema", "training", "query"], env={
            **_env(receiver, QUERY_SIDE, keys), "CHATDB_PREDICTION_ADDRESS": ""})
        with prediction:
            suite.extra_env["CHATDB_PREDICTION_ADDRESS"] = prediction.address
            with suite:
                channel = suite.channel()
                try:
                    schema = schema_service_pb2_grpc.SchemaServiceStub(channel)
                    source = (await schema.CreateDataSource(schema_service_pb2.CreateDataSourceRequest(
                        data_source_id="shop", data_source=schema_pb2.DataSource(
                            dsn=f"sqlite:///{build_shop_database(tmp_path / 'shop.db')}")))).data_source
                    await train(training_service_pb2_grpc.TrainingServiceStub(channel), source.name)
                    reply = await query_service_pb2_grpc.QueryServiceStub(channel).Ask(
                        query_service_pb2.AskRequest(parent=source.name, question="How many customers are there?"),
                        timeout=30)
                finally:
                    await channel.close()

                trace_id = reply.trace_id
                assert len(trace_id) == 32 and int(trace_id, 16) != 0
                spans = await receiver.wait_for(
                    "the ask's spans from both processes",
                    lambda got: {(QUERY_SIDE, ASK), (QUERY_SIDE, "ask.record"), (PREDICTION_SIDE, GENERATE)}
                    <= {(s.service, s.name) for s in got if s.trace_id == trace_id})
                _assert_ask_trace(receiver.trace(trace_id), reply)
                _assert_training_traced(spans)
                _assert_log_lines_carry(suite.log_lines, trace_id)


def _assert_ask_trace(spans: list[ReceivedSpan], reply: query_service_pb2.AskResponse) -> None:
    by_id = {s.span_id: s for s in spans}
    ask = _one(spans, QUERY_SIDE, ASK)
    assert ask.is_server and ask.parent_span_id == ""  # the test's client sends no trace context: a new trace
    stages = {name: _one(spans, QUERY_SIDE, name) for name in STAGES}
    assert all(stage.parent_span_id == ask.span_id for stage in stages.values())

    # The call to PredictionService: a client span under ask.generate, and the server span in the other
    # process is that client span's child (the W3C trace context crossed the process boundary).
    client = _one([s for s in spans if s.is_client], QUERY_SIDE, GENERATE)
    assert by_id[client.parent_span_id].name == "ask.generate"
    server = _one([s for s in spans if s.is_server], PREDICTION_SIDE, GENERATE)
    assert server.parent_span_id == client.span_id

    database = _one(spans, QUERY_SIDE, "db.query sqlite")
    assert by_id[database.parent_span_id].name == "ask.execute"
    assert database.attributes["db.system"] == "sqlite"
    # What ran: the reply's SQL, its row cap raised by one to tell whether the cap cut the result.
    assert database.attributes["db.statement"].split(" LIMIT ")[0] == reply.sql.split(" LIMIT ")[0]
    assert not any("sqlite:///" in str(value) for s in spans for value in s.attributes.values())


def _assert_training_traced(spans: list[ReceivedSpan]) -> None:
    job = _one(spans, QUERY_SIDE, "training.job")
    stages = {s.name for s in spans if s.trace_id == job.trace_id and s.parent_span_id == job.span_id}
    assert {"training.fetch", "training.analyze", "training.vectorize"} <= stages
    assert job.attributes["chatdb.job.state"] == "SUCCEEDED"


def _assert_log_lines_carry(log_lines: list[str], trace_id: str) -> None:
    lines = [json.loads(line) for line in log_lines if line.startswith("{")]
    of_the_call = [line for line in lines if line.get("trace_id") == trace_id]
    assert of_the_call, "no log line of the ask carries its trace id"
    assert all(line.get("trace_id") == trace_id for line in lines if line.get("request_id") in
               {c.get("request_id") for c in of_the_call if c.get("request_id")})
