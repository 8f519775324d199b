"""Answers people read, over gRPC against the real suite on the sample shop: the one-sentence answer and
the chart suggestion of Ask, StreamAsk and BatchAsk, and a source's min_confidence, which turns an answer
below it into a low-confidence reply (no rows, the closest tables, a rephrasing) until it is set back to 0;
the history records such a reply as LOW_CONFIDENCE, which no follow-up may continue."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from google.protobuf import field_mask_pb2

from chatdb.query.v1 import query_pb2, query_service_pb2, query_service_pb2_grpc
from chatdb.schema.v1 import schema_pb2, schema_service_pb2, schema_service_pb2_grpc
from chatdb.training.v1 import training_service_pb2_grpc
from chatdb_server.query.answer_text import LOW_CONFIDENCE_TEXT
from chatdb_server.samples.shop import build_shop_database
from chatdb_server.server.access import shared_keys
from tests.support.server import in_process_suite, keyed_channel, keyed_metadata
from tests.support.training import train

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]
SHOP = "dataSources/shop"


@dataclass
class Shop:
    path: Path
    query: query_service_pb2_grpc.QueryServiceStub
    schema: schema_service_pb2_grpc.SchemaServiceStub
    admin: tuple[tuple[str, str], ...]

    async def ask(self, question: str) -> query_service_pb2.AskResponse:
        reply: query_service_pb2.AskResponse = await self.query.Ask(
            query_service_pb2.AskRequest(parent=SHOP, question=question), metadata=self.admin)
        return reply

    async def set_min_confidence(self, value: float) -> schema_pb2.DataSource:
        reply = await self.schema.UpdateDataSource(
            schema_service_pb2.UpdateDataSourceRequest(
                data_source=schema_pb2.DataSource(name=SHOP, min_confidence=value),
                update_mask=field_mask_pb2.FieldMask(paths=["min_confidence"])), metadata=self.admin)
        source: schema_pb2.DataSource = reply.data_source
        return source

    def scalar(self, sql: str) -> object:
        with sqlite3.connect(self.path) as conn:
            return conn.execute(sql).fetchone()[0]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def shop(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Shop]:
    root = tmp_path_factory.mktemp("reading")
    path = build_shop_database(root / "shop.db")
    async with in_process_suite(root / "data", result_cache_ttl_s=0) as (running, _):
        admin_key = (await shared_keys(running.components).create("alpha", ["admin"])).secret
        async with keyed_channel(f"127.0.0.1:{running.port}", admin_key) as setup:
            await schema_service_pb2_grpc.SchemaServiceStub(setup).CreateDataSource(
                schema_service_pb2.CreateDataSourceRequest(data_source_id="shop",
                                                           data_source={"dsn": f"sqlite:///{path}"}))
            await train(training_service_pb2_grpc.TrainingServiceStub(setup), SHOP)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            yield Shop(path, query_service_pb2_grpc.QueryServiceStub(channel),
                       schema_service_pb2_grpc.SchemaServiceStub(channel), keyed_metadata(admin_key))


async def test_a_count_reads_as_a_sentence_with_no_chart(shop: Shop) -> None:
    reply = await shop.ask("How many customers are there?")
    customers = shop.scalar("SELECT COUNT(*) FROM customers")
    assert reply.answer_text == f"There are {customers:,} customers."
    assert reply.chart.type == query_pb2.CHART_TYPE_TABLE
    assert not reply.low_confidence and reply.suggested_question == ""


def largest_cities(shop: Shop) -> tuple[list[str], int]:
    with sqlite3.connect(shop.path) as conn:
        counts = conn.execute("SELECT city, COUNT(*) FROM customers GROUP BY city").fetchall()
    top = max(n for _, n in counts)
    return sorted(city for city, n in counts if n == top), top


async def test_counts_per_city_name_the_largest_and_suggest_a_category_chart(shop: Shop) -> None:
    reply = await shop.ask("How many customers are there in each city?")
    cities, top = largest_cities(shop)
    assert reply.chart.type in (query_pb2.CHART_TYPE_BAR, query_pb2.CHART_TYPE_PIE)
    assert reply.chart.x_column == reply.columns[0].name and list(reply.chart.y_columns) == [reply.columns[1].name]
    assert f"the most customers: {top}" in reply.answer_text
    assert all(city in reply.answer_text for city in cities)  # ties are all named


async def test_the_city_with_the_most_customers_is_named_with_its_count(shop: Shop) -> None:
    reply = await shop.ask("Which city has the most customers?")
    cities, top = largest_cities(shop)
    named, _, rest = reply.answer_text.partition(" has ")
    assert named in cities and rest.startswith("the most customers"), reply.answer_text
    assert rest in ("the most customers.", f"the most customers: {top}.")


async def test_an_average_names_its_column_and_table(shop: Shop) -> None:
    reply = await shop.ask("What is the average price of products?")
    average = float(shop.scalar("SELECT AVG(price) FROM products"))  # type: ignore[arg-type]
    assert reply.answer_text.startswith("The average price")
    assert f"{average:,.2f}" in reply.answer_text


async def test_stream_and_batch_carry_the_same_reading(shop: Shop) -> None:
    question = "How many customers are there?"
    asked = await shop.ask(question)
    summaries = [m.summary async for m in shop.query.StreamAsk(
        query_service_pb2.StreamAskRequest(parent=SHOP, question=question), metadata=shop.admin)
        if m.HasField("summary")]
    answers = [m.answer async for m in shop.query.BatchAsk(
        query_service_pb2.BatchAskRequest(parent=SHOP, questions=[query_pb2.BatchQuestion(question=question)]),
        metadata=shop.admin)]
    assert [s.answer_text for s in summaries] == [asked.answer_text]
    assert [a.answer_text for a in answers] == [asked.answer_text]
    assert summaries[0].chart == asked.chart == answers[0].chart


async def test_min_confidence_refuses_unreliable_answers_until_set_back_to_zero(shop: Shop) -> None:
    question = "How many orders are there?"
    trusted = await shop.ask(question)
    assert trusted.confidence < 1.0 and trusted.rows

    updated = await shop.set_min_confidence(1.0)
    assert updated.min_confidence == 1.0
    got = await shop.schema.GetDataSource(schema_service_pb2.GetDataSourceRequest(name=SHOP), metadata=shop.admin)
    assert got.data_source.min_confidence == 1.0
    refused = await shop.ask(question)
    assert refused.low_confidence and not refused.executed
    assert not refused.rows and not refused.columns
    assert refused.answer_text == LOW_CONFIDENCE_TEXT
    assert refused.retrieved_tables and refused.suggested_question.endswith("?")
    assert refused.sql == trusted.sql and refused.confidence == trusted.confidence

    await shop.set_min_confidence(0.0)
    answered = await shop.ask(question)
    assert not answered.low_confidence and answered.rows and answered.answer_text.startswith("There are")


async def test_the_history_records_a_low_confidence_reply_as_such(shop: Shop) -> None:
    await shop.set_min_confidence(1.0)
    try:
        refused = await shop.ask("How many orders are there?")
    finally:
        await shop.set_min_confidence(0.0)
    assert refused.low_confidence
    got = (await shop.query.GetQuery(query_service_pb2.GetQueryRequest(name=refused.query),
                                     metadata=shop.admin)).query
    assert got.state == query_pb2.QUERY_STATE_LOW_CONFIDENCE
    assert (got.row_count, got.sql, got.confidence) == (0, refused.sql, refused.confidence)
    assert not got.error_reason and got.served_by == refused.served_by
    listed = await shop.query.ListQueries(query_service_pb2.ListQueriesRequest(parent=SHOP, page_size=5),
                                          metadata=shop.admin)
    assert {q.name: q.state for q in listed.queries}[refused.query] == query_pb2.QUERY_STATE_LOW_CONFIDENCE

    with pytest.raises(grpc.aio.AioRpcError) as followed:
        await shop.query.Ask(query_service_pb2.AskRequest(parent=SHOP, question="only those paid",
                                                          previous_query=refused.query), metadata=shop.admin)
    assert followed.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "previous_query" in (followed.value.details() or "")
    answered = await shop.ask("How many orders are there?")
    state = (await shop.query.GetQuery(query_service_pb2.GetQueryRequest(name=answered.query),
                                       metadata=shop.admin)).query.state
    assert not answered.low_confidence and state == query_pb2.QUERY_STATE_SUCCEEDED


@pytest.mark.parametrize("value", [1.5, -0.1, float("nan")])
async def test_min_confidence_out_of_range_is_refused_with_its_field(shop: Shop, value: float) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await shop.set_min_confidence(value)
    assert failed.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "min_confidence" in (failed.value.details() or "")
