"""QueryService's gRPC ports against real grpc.aio servers on loopback ports: PredictionService
(the real servicer over an engine with a scripted generator) and TrainingService's CreateExample;
tenant and request id forwarded, errors mapped back to domain errors, health probes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import grpc
import pytest
import structlog

from chatdb.prediction.v1 import prediction_service_pb2_grpc
from chatdb.training.v1 import training_pb2, training_service_pb2, training_service_pb2_grpc
from chatdb_server.errors import ChatDBError, InvalidArgument, NotFound
from chatdb_server.generation.interface import (
    ExampleInfo,
    GenerationRequest,
    GenerationResult,
    RepairHint,
    Sampling,
    SqlCandidate,
)
from chatdb_server.prediction.client import PREDICTION_SERVICE, LocalPrediction, RemotePrediction
from chatdb_server.prediction.engine import TEMPLATE_MODEL, PredictionEngine
from chatdb_server.prediction.servicer import PredictionServicer
from chatdb_server.query.ports import BreakerExampleSink, BreakerGenerator
from chatdb_server.resilience.breakers import BreakerOpen, Breakers, is_service_failure
from chatdb_server.rpc import CallInfo, unary
from chatdb_server.sql.dsn import parse_dsn
from chatdb_server.sql.structure import SourceRef
from chatdb_server.training.client import TRAINING_SERVICE, RemoteExamples
from tests.support.grpc_loopback import Loopback, loopback_server
from tests.unit.prediction.prediction_fixtures import request
from tests.unit.query.test_pipeline_support import unreachable_address

SOURCE = SourceRef(pk=1, tenant="acme", source_id="shop", dialect=parse_dsn("sqlite:///shop.db").dialect,
                   dsn=parse_dsn("sqlite:///shop.db"))


class ScriptedGenerator:
    """The engine's template generator, scripted; remembers each request and the call's log context."""

    name = "template"

    def __init__(self) -> None:
        self.seen: list[tuple[GenerationRequest, dict[str, Any]]] = []

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        self.seen.append((request, structlog.contextvars.get_contextvars()))
        return GenerationResult([SqlCandidate("SELECT COUNT(*) FROM singer", 0.75, "counts singers"),
                                 SqlCandidate("SELECT COUNT(singer_id) FROM singer", 0.5)],
                                model="scripted", backend="template", generation_seconds=0.25, prompt_tokens=3,
                                completion_tokens=4)


class Trainer(training_service_pb2_grpc.TrainingServiceServicer):
    """CreateExample only: remembers what it was sent; NOT_FOUND for any source but the shop."""

    def __init__(self) -> None:
        self.seen: list[tuple[training_service_pb2.CreateExampleRequest, CallInfo]] = []

    @unary
    async def CreateExample(self, request: training_service_pb2.CreateExampleRequest, context: Any,
                            call: CallInfo) -> training_service_pb2.CreateExampleResponse:
        self.seen.append((request, call))
        if request.parent != "dataSources/shop":
            raise NotFound(request.parent, "data source")
        return training_service_pb2.CreateExampleResponse(
            example=training_pb2.Example(name="dataSources/shop/examples/e1", question=request.example.question,
                                         sql=request.example.sql, source=request.example.source))


@pytest.fixture
async def prediction() -> AsyncIterator[tuple[Loopback, ScriptedGenerator]]:
    generator = ScriptedGenerator()
    servicer = PredictionServicer(PredictionEngine(generator))
    async with loopback_server(
            lambda server: prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(servicer, server)
    ) as loopback:
        await loopback.serving(PREDICTION_SERVICE)
        yield loopback, generator


@pytest.fixture
async def training() -> AsyncIterator[tuple[Loopback, Trainer]]:
    trainer = Trainer()
    async with loopback_server(
            lambda server: training_service_pb2_grpc.add_TrainingServiceServicer_to_server(trainer, server)
    ) as loopback:
        await loopback.serving(TRAINING_SERVICE)
        yield loopback, trainer


def full_request() -> GenerationRequest:
    return replace(request(), examples=(ExampleInfo("How many concerts?", "SELECT COUNT(*) FROM concert"),),
                   candidate_count=2, sampling=Sampling(temperature=0.5, top_p=0.9, max_tokens=256, seed=7),
                   repair=RepairHint("SELECT nme FROM singer", "no such column: nme"))


async def test_generate_round_trips_and_forwards_tenant_and_request_id(
        prediction: tuple[Loopback, ScriptedGenerator]) -> None:
    loopback, generator = prediction
    sent = full_request()
    result = await RemotePrediction(loopback.channel, deadline_s=5).generate(sent, "acme", "req-42")
    assert [(c.sql, c.confidence, c.explanation) for c in result.candidates] == [
        ("SELECT COUNT(*) FROM singer", 0.75, "counts singers"), ("SELECT COUNT(singer_id) FROM singer", 0.5, "")]
    assert (result.model, result.backend, result.generation_seconds) == (TEMPLATE_MODEL, "template", 0.25)
    assert (result.prompt_tokens, result.completion_tokens) == (3, 4)
    ((received, context),) = generator.seen
    assert (context["tenant"], context["request_id"]) == ("acme", "req-42")
    assert replace(received, model="") == sent


async def test_remote_errors_come_back_as_domain_errors(prediction: tuple[Loopback, ScriptedGenerator]) -> None:
    loopback, _ = prediction
    client = RemotePrediction(loopback.channel, deadline_s=5)
    with pytest.raises(InvalidArgument) as bad:
        await client.generate(request(question="   "), "acme")
    assert bad.value.code is grpc.StatusCode.INVALID_ARGUMENT and bad.value.violations[0].field == "question"
    with pytest.raises(ChatDBError) as unknown:
        await client.generate(request(model="models/big"), "acme")
    assert (unknown.value.code, unknown.value.reason) == (grpc.StatusCode.NOT_FOUND, "UNKNOWN_MODEL")
    assert not is_service_failure(unknown.value)


async def test_health_probes_follow_the_serving_status(prediction: tuple[Loopback, ScriptedGenerator],
                                                       training: tuple[Loopback, Trainer]) -> None:
    predict, train = RemotePrediction(prediction[0].channel), RemoteExamples(training[0].channel)
    await predict.probe()
    await train.probe()
    await prediction[0].serving(PREDICTION_SERVICE, False)
    with pytest.raises(ConnectionError, match="NOT_SERVING"):
        await predict.probe()
    with pytest.raises(ConnectionError, match="NOT_FOUND"):  # this server does not host TrainingService
        await RemoteExamples(prediction[0].channel).probe()


async def test_an_unreachable_service_is_degraded_and_trips_the_breaker() -> None:
    channel = grpc.aio.insecure_channel(unreachable_address())
    try:
        breakers = Breakers(fail_max=1, reset_s=3600)
        generator = BreakerGenerator(RemotePrediction(channel, deadline_s=2), breakers.prediction)
        with pytest.raises(ChatDBError) as down:
            await generator.generate(request(), "acme")
        assert (down.value.code, down.value.reason) == (grpc.StatusCode.UNAVAILABLE, "DEGRADED")
        assert down.value.metadata == {"dependency": "predictionservice"} and is_service_failure(down.value)
        with pytest.raises(BreakerOpen):
            await generator.generate(request(), "acme")
        with pytest.raises(ConnectionError):
            await generator.probe()
    finally:
        await channel.close()


async def test_create_example_sends_a_feedback_example(training: tuple[Loopback, Trainer]) -> None:
    loopback, trainer = training
    sink = BreakerExampleSink(RemoteExamples(loopback.channel, deadline_s=5),
                              Breakers(fail_max=1, reset_s=60).training)
    name = await sink.create_feedback_example(SOURCE, "How many customers?", "SELECT COUNT(*) FROM customers",
                                              "req-7")
    assert name == "dataSources/shop/examples/e1"
    ((sent, call),) = trainer.seen
    assert (sent.parent, sent.example.question, sent.example.sql) == (
        "dataSources/shop", "How many customers?", "SELECT COUNT(*) FROM customers")
    assert sent.example.source == training_pb2.EXAMPLE_SOURCE_FEEDBACK
    assert (call.tenant, call.request_id) == ("acme", "req-7")


async def test_create_example_errors_are_domain_errors_and_do_not_trip_the_breaker(
        training: tuple[Loopback, Trainer]) -> None:
    loopback, _ = training
    breakers = Breakers(fail_max=1, reset_s=60)
    sink = BreakerExampleSink(RemoteExamples(loopback.channel, deadline_s=5), breakers.training)
    gone = replace(SOURCE, source_id="gone")
    with pytest.raises(ChatDBError) as missing:
        await sink.create_feedback_example(gone, "q", "SELECT 1")
    assert (missing.value.code, missing.value.reason) == (grpc.StatusCode.NOT_FOUND, "NOT_FOUND")
    assert breakers.training.state == "closed"


async def test_local_prediction_calls_the_engine_and_is_always_healthy() -> None:
    generator = ScriptedGenerator()
    local = LocalPrediction(PredictionEngine(generator))
    result = await local.generate(request(), "acme", "ignored")
    assert result.model == TEMPLATE_MODEL and len(generator.seen) == 1
    await local.probe()
