"""QueryService's own series on a real server's Prometheus endpoint: a training job, asks, a result-cache
hit and a streamed ask move them; an ask held up by an unresponsive PredictionService is counted in
flight while it waits. Every value is read over HTTP with prometheus_client's text parser."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest

from chatdb.common.v1 import degradation_pb2
from chatdb.query.v1 import query_pb2, query_service_pb2, query_service_pb2_grpc
from chatdb.schema.v1 import schema_pb2, schema_service_pb2, schema_service_pb2_grpc
from chatdb.training.v1 import training_service_pb2_grpc
from chatdb_server.resilience.levels import Level
from chatdb_server.samples.shop import build_shop_database
from tests.support.scrape import Samples, free_port, moved, scrape, scrape_until, value
from tests.support.server import in_process_suite
from tests.support.training import train

pytestmark = pytest.mark.slow
COUNT_QUESTION = "How many customers are there?"
PRICE_QUESTION = "What is the average price of products?"
PIPELINE_STAGES = ("retrieve", "generate", "guard", "execute", "total", "record")
DEADLINE_S = 60.0


async def _register(channel: grpc.aio.Channel, tmp_path: Path) -> str:
    schema = schema_service_pb2_grpc.SchemaServiceStub(channel)
    reply = await schema.CreateDataSource(schema_service_pb2.CreateDataSourceRequest(
        data_source_id="shop",
        data_source=schema_pb2.DataSource(dsn=f"sqlite:///{build_shop_database(tmp_path / 'shop.db')}")))
    return str(reply.data_source.name)


async def _until(port: int, condition: str, check: Callable[[Samples], bool]) -> Samples:
    return await scrape_until(port, condition, check, DEADLINE_S)


async def test_training_asks_a_cache_hit_and_a_stream_move_their_series(tmp_path: Path) -> None:
    port = free_port()
    async with in_process_suite(tmp_path / "data", metrics_port=port) as (_, channel):
        query = query_service_pb2_grpc.QueryServiceStub(channel)
        before = scrape(port)
        name = await _register(channel, tmp_path)
        await train(training_service_pb2_grpc.TrainingServiceStub(channel), name)
        trained = await _until(port, "the queue gauges read back the empty queue",
                               lambda s: ("chatdb_training_jobs_queued", (("type", "SCHEMA"),)) in s
                               and value(s, "chatdb_training_jobs_queued", type="SCHEMA") == 0
                               and value(s, "chatdb_training_jobs_running", type="SCHEMA") == 0)
        first = await query.Ask(query_service_pb2.AskRequest(parent=name, question=COUNT_QUESTION))
        missed = scrape(port)
        again = await query.Ask(query_service_pb2.AskRequest(parent=name, question=COUNT_QUESTION))
        streamed = [m async for m in query.StreamAsk(query_service_pb2.StreamAskRequest(parent=name,
                                                                                        question=PRICE_QUESTION))]
        after = scrape(port)

    assert moved(before, trained, "chatdb_training_jobs_finished_total", type="SCHEMA", state="SUCCEEDED") == 1
    assert moved(before, trained, "chatdb_training_job_duration_seconds_count", type="SCHEMA", state="SUCCEEDED") == 1
    assert value(trained, "chatdb_training_oldest_queued_seconds", type="SCHEMA") == 0
    assert moved(before, trained, "chatdb_embedding_batch_size_count", kind="documents") >= 1
    assert moved(before, trained, "chatdb_embedding_batch_size_sum", kind="documents") >= 4  # the shop's tables

    assert first.executed and again.served_by == query_pb2.SERVED_BY_CACHE
    assert moved(trained, missed, "chatdb_result_cache_misses_total", lookup="fresh") >= 1
    assert moved(trained, missed, "chatdb_result_cache_hits_total", lookup="fresh") == 0
    assert moved(missed, after, "chatdb_result_cache_hits_total", lookup="fresh") >= 1
    assert streamed[-1].HasField("summary") and streamed[-1].summary.executed

    for stage in PIPELINE_STAGES:  # two asks and one streamed ask, each observed once
        assert moved(trained, after, "chatdb_ask_stage_seconds_count", stage=stage) == 3, stage
    assert moved(trained, after, "chatdb_ask_stage_seconds_sum", stage="total") > 0
    # The repeated question's vector came from the question cache: two questions, at most two model calls
    # (none when an earlier test in this process asked them; tests/unit/retrieval covers the counting).
    assert moved(trained, after, "chatdb_embedding_batch_size_count", kind="questions") <= 2
    assert value(after, "chatdb_asks_in_flight") == 0


@contextmanager
def unresponsive_address() -> Iterator[str]:
    """A loopback port that accepts TCP connections and never answers: calls to it wait for their deadline."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"127.0.0.1:{listener.getsockname()[1]}"


async def test_an_ask_waiting_on_prediction_is_counted_in_flight(tmp_path: Path) -> None:
    port = free_port()
    with unresponsive_address() as prediction:
        async with in_process_suite(tmp_path / "data", ["schema", "training", "query"], metrics_port=port,
                                    prediction_address=prediction, rpc_deadline_s=5.0) as (_, channel):
            name = await _register(channel, tmp_path)
            await train(training_service_pb2_grpc.TrainingServiceStub(channel), name)
            query = query_service_pb2_grpc.QueryServiceStub(channel)
            idle = scrape(port)
            ask = asyncio.ensure_future(query.Ask(query_service_pb2.AskRequest(parent=name, question=COUNT_QUESTION)))
            waiting = await _until(port, "the ask counted in flight",
                                   lambda s: value(s, "chatdb_asks_in_flight") == 1 or ask.done())
            reply = await ask
            after = scrape(port)

    assert value(idle, "chatdb_asks_in_flight") == 0
    assert value(waiting, "chatdb_asks_in_flight") == 1, "the ask ended before it was seen in flight"
    assert reply.served_by == query_pb2.SERVED_BY_TEMPLATE
    assert reply.degradation_level == degradation_pb2.DEGRADATION_LEVEL_NO_MODEL
    assert value(after, "chatdb_asks_in_flight") == 0
    assert value(after, "chatdb_degradation_level") == Level.NO_MODEL  # the domain's 0-4, as the alerts read it
