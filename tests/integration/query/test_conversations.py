"""Conversations over gRPC against the real suite on the sample shop: each turn names the answer before it
(AskRequest.previous_query), follow-ups refine that answer's SQL, and every turn's rows equal those of the
intended SQL run directly on the SQLite file. The chain is recorded (Query.previous_query), bounded, and a
previous query of another source, or a malformed one, is refused with a clear status."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
import pytest_asyncio

from chatdb.access.v1 import access_pb2, access_service_pb2, access_service_pb2_grpc
from chatdb.query.v1 import query_service_pb2, query_service_pb2_grpc
from chatdb.schema.v1 import schema_service_pb2, schema_service_pb2_grpc
from chatdb.training.v1 import training_service_pb2_grpc
from chatdb.wire import value_to_python
from chatdb_server.samples.shop import build_shop_database
from chatdb_server.server.access import shared_keys
from tests.support.rows import normalised
from tests.support.server import in_process_suite, keyed_channel, keyed_metadata
from tests.support.training import train

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]
SHOP = "dataSources/shop"
OTHER = "dataSources/other"


@dataclass(frozen=True)
class Turn:
    question: str
    sql: str
    """What the turn means, run directly on the SQLite file."""
    ordered: bool = False
    """Whether the rows' order is part of the answer."""
    refines: bool = True
    """Whether the answer refines the previous turn (False for a first or standalone question)."""


CONVERSATIONS: dict[str, list[Turn]] = {
    "filter-then-count": [
        Turn("List the customers", "SELECT name FROM customers", refines=False),
        Turn("only those in Berlin", "SELECT name FROM customers WHERE city = 'Berlin'"),
        Turn("how many are there?", "SELECT COUNT(*) FROM customers WHERE city = 'Berlin'"),
    ],
    "cheapest-then-top": [
        Turn("List the products", "SELECT name FROM products", refines=False),
        Turn("cheapest first", "SELECT name, price FROM products ORDER BY price, name", ordered=False),
        Turn("just the top 3", "SELECT name, price FROM products ORDER BY price LIMIT 3", ordered=True),
    ],
    "sort-by-price-descending": [
        Turn("List the products", "SELECT name FROM products", refines=False),
        Turn("most expensive first", "SELECT name, price FROM products ORDER BY price DESC"),
        Turn("just the top 5", "SELECT name, price FROM products ORDER BY price DESC LIMIT 5", ordered=True),
        Turn("what is the total price?",
             "SELECT SUM(price) FROM (SELECT price FROM products ORDER BY price DESC LIMIT 5)"),
    ],
    "amount-bound-then-count": [
        Turn("Show the orders", "SELECT id FROM orders", refines=False),
        Turn("only those over 100", "SELECT id FROM orders WHERE total_amount > 100"),
        Turn("how many are there?", "SELECT COUNT(*) FROM orders WHERE total_amount > 100"),
    ],
    "category-join-then-other-category": [
        Turn("List the products", "SELECT name FROM products", refines=False),
        Turn("only those in the Books category", "SELECT p.name FROM products p JOIN categories c "
             "ON p.category_id = c.id WHERE c.name = 'Books'"),
        Turn("and in Toys?", "SELECT p.name FROM products p JOIN categories c "
             "ON p.category_id = c.id WHERE c.name = 'Toys'"),
        Turn("how many are there?", "SELECT COUNT(*) FROM products p JOIN categories c "
             "ON p.category_id = c.id WHERE c.name = 'Toys'"),
    ],
    "status-then-total": [
        Turn("Show the orders", "SELECT id FROM orders", refines=False),
        Turn("only those with status shipped", "SELECT id FROM orders WHERE status = 'shipped'"),
        Turn("what is the total amount?", "SELECT SUM(total_amount) FROM orders WHERE status = 'shipped'"),
    ],
    "year-back-and-named-year": [
        Turn("How many orders were placed in 2024?",
             "SELECT COUNT(*) FROM orders WHERE order_date >= '2024-01-01' AND order_date < '2025-01-01'",
             refines=False),
        Turn("and last year?",
             "SELECT COUNT(*) FROM orders WHERE order_date >= '2023-01-01' AND order_date < '2024-01-01'"),
        Turn("what about 2025?",
             "SELECT COUNT(*) FROM orders WHERE order_date >= '2025-01-01' AND order_date < '2026-01-01'"),
    ],
    "groups-sorted-then-top": [
        Turn("How many orders were placed in each city?", "SELECT c.city, COUNT(*) FROM orders o "
             "JOIN customers c ON o.customer_id = c.id GROUP BY c.city", refines=False),
        Turn("just the top 3", "SELECT c.city, COUNT(*) FROM orders o JOIN customers c ON o.customer_id = c.id "
             "GROUP BY c.city ORDER BY COUNT(*) DESC LIMIT 3"),
    ],
    "totals-per-status-highest-first": [
        Turn("What is the total amount of orders per status?",
             "SELECT status, SUM(total_amount) FROM orders GROUP BY status", refines=False),
        Turn("highest first", "SELECT status, SUM(total_amount) FROM orders GROUP BY status "
             "ORDER BY SUM(total_amount) DESC", ordered=True),
    ],
    "country-then-sorted-by-name": [
        Turn("List the customers", "SELECT name FROM customers", refines=False),
        Turn("only those from Germany", "SELECT name FROM customers WHERE country = 'Germany'"),
        Turn("sort them by name", "SELECT name FROM customers WHERE country = 'Germany' ORDER BY name",
             ordered=True),
        Turn("how many are there?", "SELECT COUNT(*) FROM customers WHERE country = 'Germany'"),
    ],
    "number-value-filter": [
        Turn("How many reviews are there?", "SELECT COUNT(*) FROM reviews", refines=False),
        Turn("only those with rating 5", "SELECT COUNT(*) FROM reviews WHERE rating = 5"),
    ],
    "a-standalone-question-starts-afresh": [
        Turn("Which customers live in Berlin?", "SELECT name FROM customers WHERE city = 'Berlin'", refines=False),
        Turn("How many products are there?", "SELECT COUNT(*) FROM products", refines=False),
    ],
}


@dataclass
class Shop:
    path: Path
    query: query_service_pb2_grpc.QueryServiceStub
    admin: tuple[tuple[str, str], ...]
    beta: tuple[tuple[str, str], ...]
    asker: tuple[tuple[str, str], ...]
    access: access_service_pb2_grpc.AccessServiceStub

    async def ask(self, question: str, previous_query: str = "",
                  parent: str = SHOP) -> query_service_pb2.AskResponse:
        reply: query_service_pb2.AskResponse = await self.query.Ask(
            query_service_pb2.AskRequest(parent=parent, question=question, previous_query=previous_query),
            metadata=self.admin)
        return reply

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.path) as conn:
            return conn.execute(sql).fetchall()


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def shop(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Shop]:
    root = tmp_path_factory.mktemp("conversations")
    path = build_shop_database(root / "shop.db")
    async with in_process_suite(root / "data", result_cache_ttl_s=0) as (running, _):
        keys = shared_keys(running.components)
        admin_key = (await keys.create("alpha", ["admin"])).secret
        beta_key = (await keys.create("beta", ["admin"])).secret
        asker_key = (await keys.create("alpha", ["asker"])).secret
        for key, sources in ((admin_key, ("shop", "other")), (beta_key, ("shop",))):
            async with keyed_channel(f"127.0.0.1:{running.port}", key) as setup:
                schema = schema_service_pb2_grpc.SchemaServiceStub(setup)
                training = training_service_pb2_grpc.TrainingServiceStub(setup)
                for source in sources:
                    await schema.CreateDataSource(schema_service_pb2.CreateDataSourceRequest(
                        data_source_id=source, data_source={"dsn": f"sqlite:///{path}"}))
                    await train(training, f"dataSources/{source}")
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            yield Shop(path, query_service_pb2_grpc.QueryServiceStub(channel), keyed_metadata(admin_key),
                       keyed_metadata(beta_key), keyed_metadata(asker_key),
                       access_service_pb2_grpc.AccessServiceStub(channel))


def reply_rows(reply: query_service_pb2.AskResponse) -> list[tuple[object, ...]]:
    return [tuple(value_to_python(v) for v in row.values) for row in reply.rows]


@pytest.mark.parametrize("name", sorted(CONVERSATIONS))
async def test_each_turn_of_a_conversation_has_the_rows_it_means(shop: Shop, name: str) -> None:
    previous = ""
    for turn in CONVERSATIONS[name]:
        reply = await shop.ask(turn.question, previous)
        expected = shop.rows(turn.sql)
        got = reply_rows(reply)
        context = (name, turn.question, reply.sql)
        if turn.ordered:
            assert [r[-1] for r in got] == [r[-1] for r in expected], context
        assert normalised(got) == normalised(expected), context
        assert reply.explanation.startswith("Refines the previous query") == turn.refines, context
        previous = reply.query


async def test_the_chain_is_recorded_and_shown_by_get_and_list(shop: Shop) -> None:
    first = await shop.ask("List the customers")
    second = await shop.ask("only those in Berlin", first.query)
    got = (await shop.query.GetQuery(query_service_pb2.GetQueryRequest(name=second.query),
                                     metadata=shop.admin)).query
    assert got.previous_query == first.query and got.question == "only those in Berlin"
    assert (await shop.query.GetQuery(query_service_pb2.GetQueryRequest(name=first.query),
                                      metadata=shop.admin)).query.previous_query == ""
    listed = await shop.query.ListQueries(query_service_pb2.ListQueriesRequest(parent=SHOP, page_size=5),
                                          metadata=shop.admin)
    assert {q.name: q.previous_query for q in listed.queries}[second.query] == first.query


async def test_the_server_follows_a_bounded_chain(shop: Shop) -> None:
    reply = await shop.ask("List the customers")
    for question in ("only those in Berlin", "and in Paris?", "and in Madrid?", "and in Rome?", "and in Lisbon?",
                     "and in Vienna?", "and in Dublin?"):
        reply = await shop.ask(question, reply.query)
    count = await shop.ask("how many are there?", reply.query)
    assert count.sql.startswith("SELECT COUNT(*) FROM customers WHERE city = 'Dublin'"), count.sql
    assert reply_rows(count) == shop.rows("SELECT COUNT(*) FROM customers WHERE city = 'Dublin'")


async def test_another_sources_query_is_not_found(shop: Shop) -> None:
    theirs = await shop.ask("List the customers", parent=OTHER)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await shop.ask("only those in Berlin", theirs.query)
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize("previous", ["dataSources/shop/queries/qnosuchquery0000000000",
                                      "dataSources/shop/queries/"], ids=["unknown", "empty-id"])
async def test_an_unknown_or_malformed_previous_query_is_refused(shop: Shop, previous: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await shop.ask("only those in Berlin", previous)
    expected = grpc.StatusCode.NOT_FOUND if previous.endswith("0") else grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.code() == expected, refused.value.details()


async def test_a_malformed_previous_query_names_the_field(shop: Shop) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await shop.ask("only those in Berlin", "queries/q1")
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "previous_query" in (refused.value.details() or "")


async def test_another_tenants_query_is_not_found(shop: Shop) -> None:
    mine = await shop.ask("List the customers")
    # Tenant beta has a source of the same name, but not this query.
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await shop.query.Ask(query_service_pb2.AskRequest(parent=SHOP, question="only those in Berlin",
                                                          previous_query=mine.query), metadata=shop.beta)
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    theirs = await shop.query.Ask(query_service_pb2.AskRequest(parent=SHOP, question="List the customers"),
                                  metadata=shop.beta)
    with pytest.raises(grpc.aio.AioRpcError) as crossed:
        await shop.ask("only those in Berlin", theirs.query)
    assert crossed.value.code() == grpc.StatusCode.NOT_FOUND


async def test_stream_ask_follows_up_too(shop: Shop) -> None:
    first = await shop.ask("List the customers")
    summaries = [m.summary async for m in shop.query.StreamAsk(
        query_service_pb2.StreamAskRequest(parent=SHOP, question="only those in Berlin", previous_query=first.query),
        metadata=shop.admin) if m.HasField("summary")]
    assert [s.sql for s in summaries] == ["SELECT name FROM customers WHERE city = 'Berlin' LIMIT 1000"]
    recorded = (await shop.query.GetQuery(query_service_pb2.GetQueryRequest(name=summaries[0].query),
                                          metadata=shop.admin)).query
    assert recorded.previous_query == first.query


async def test_the_callers_row_policies_bind_a_follow_up(shop: Shop) -> None:
    policy = (await shop.access.CreateRowPolicy(access_service_pb2.CreateRowPolicyRequest(
        parent=OTHER, row_policy=access_pb2.RowPolicy(table="customers", predicate="country = 'Germany'",
                                                      exempt_roles=["admin"])), metadata=shop.admin)).row_policy
    try:
        first = await shop.query.Ask(query_service_pb2.AskRequest(parent=OTHER, question="List the customers"),
                                     metadata=shop.asker)
        count = await shop.query.Ask(query_service_pb2.AskRequest(
            parent=OTHER, question="how many are there?", previous_query=first.query), metadata=shop.asker)
    finally:
        await shop.access.DeleteRowPolicy(access_service_pb2.DeleteRowPolicyRequest(name=policy.name),
                                          metadata=shop.admin)
    assert count.explanation.startswith("Refines the previous query")
    assert reply_rows(count) == shop.rows("SELECT COUNT(*) FROM customers WHERE country = 'Germany'")


async def test_sql_of_ones_own_is_no_answer_to_follow_up(shop: Shop) -> None:
    ran = await shop.query.ExecuteSql(
        query_service_pb2.ExecuteSqlRequest(parent=SHOP, sql="SELECT name FROM customers"), metadata=shop.admin)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await shop.ask("only those in Berlin", ran.query)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "previous_query" in (refused.value.details() or "")
