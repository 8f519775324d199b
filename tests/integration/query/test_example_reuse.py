"""Golden examples change answers at once, over gRPC against the real suite on the sample shop: a
correction through SubmitFeedback answers the next ask of the same question, a paraphrase and the same
question about another value; an example made by CreateExample answers the next ask; a caller whose
column policy excludes a column the example reads is not answered from it."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
import pytest_asyncio

from chatdb.access.v1 import access_pb2, access_service_pb2, access_service_pb2_grpc
from chatdb.query.v1 import query_pb2, query_service_pb2, query_service_pb2_grpc
from chatdb.schema.v1 import schema_service_pb2, schema_service_pb2_grpc
from chatdb.training.v1 import training_pb2, training_service_pb2, training_service_pb2_grpc
from chatdb_server.samples.shop import build_shop_database
from chatdb_server.server.access import shared_keys
from chatdb_server.sql.values import value_to_python
from tests.support.rows import normalised
from tests.support.server import in_process_suite, keyed_channel, keyed_metadata
from tests.support.training import train

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]
SHOP = "dataSources/shop"
ORDERS_FROM = ("SELECT COUNT(*) AS orders_placed FROM orders JOIN customers ON customers.id = orders.customer_id "
               "WHERE customers.city = '{city}'")
AVERAGE_PRICE = ("SELECT ROUND(AVG(products.price), 2) AS average_price FROM products JOIN categories "
                 "ON categories.id = products.category_id WHERE categories.name = '{category}'")


@dataclass
class Shop:
    path: Path
    query: query_service_pb2_grpc.QueryServiceStub
    training: training_service_pb2_grpc.TrainingServiceStub
    admin: tuple[tuple[str, str], ...]
    asker: tuple[tuple[str, str], ...]
    """An asker bound by a policy that excludes ``customers.email``."""

    async def ask(self, question: str, metadata: tuple[tuple[str, str], ...] | None = None
                  ) -> query_service_pb2.AskResponse:
        reply: query_service_pb2.AskResponse = await self.query.Ask(
            query_service_pb2.AskRequest(parent=SHOP, question=question), metadata=metadata or self.admin)
        return reply

    def rows(self, sql: str) -> list[str]:
        with sqlite3.connect(self.path) as conn:
            return normalised([tuple(row) for row in conn.execute(sql).fetchall()])


def reply_rows(reply: query_service_pb2.AskResponse) -> list[str]:
    return normalised([tuple(value_to_python(v) for v in row.values) for row in reply.rows])


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def shop(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Shop]:
    root = tmp_path_factory.mktemp("examples")
    path = build_shop_database(root / "shop.db")
    async with in_process_suite(root / "data", result_cache_ttl_s=0) as (running, _):
        keys = shared_keys(running.components)
        admin_key = (await keys.create("alpha", ["admin"])).secret
        asker = keyed_metadata((await keys.create("alpha", ["asker"])).secret)
        async with keyed_channel(f"127.0.0.1:{running.port}", admin_key) as setup:
            await schema_service_pb2_grpc.SchemaServiceStub(setup).CreateDataSource(
                schema_service_pb2.CreateDataSourceRequest(data_source_id="shop",
                                                           data_source={"dsn": f"sqlite:///{path}"}))
            await train(training_service_pb2_grpc.TrainingServiceStub(setup), SHOP)
            await access_service_pb2_grpc.AccessServiceStub(setup).CreateColumnPolicy(
                access_service_pb2.CreateColumnPolicyRequest(parent=SHOP, column_policy=access_pb2.ColumnPolicy(
                    table="customers", column="email", action=access_pb2.COLUMN_ACTION_EXCLUDE,
                    exempt_roles=["admin"])))
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            yield Shop(path, query_service_pb2_grpc.QueryServiceStub(channel),
                       training_service_pb2_grpc.TrainingServiceStub(channel), keyed_metadata(admin_key), asker)


async def create_example(shop: Shop, question: str, sql: str) -> str:
    reply = await shop.training.CreateExample(training_service_pb2.CreateExampleRequest(
        parent=SHOP, example=training_pb2.Example(question=question, sql=sql)), metadata=shop.admin)
    return str(reply.example.name)


async def test_a_correction_answers_the_question_its_paraphrases_and_its_other_values(shop: Shop) -> None:
    question = "How many orders were placed by customers in Berlin?"
    corrected = ORDERS_FROM.format(city="Berlin")
    first = await shop.ask(question)
    assert first.served_by == query_pb2.SERVED_BY_TEMPLATE
    assert first.sql != corrected

    feedback = await shop.query.SubmitFeedback(query_service_pb2.SubmitFeedbackRequest(
        name=first.query, rating=query_pb2.FEEDBACK_RATING_INCORRECT, corrected_sql=corrected), metadata=shop.admin)
    example = feedback.query.feedback.example
    assert example.startswith(f"{SHOP}/examples/")

    again = await shop.ask(question)
    assert again.served_by == query_pb2.SERVED_BY_EXAMPLE
    assert example in again.explanation
    assert reply_rows(again) == shop.rows(corrected)
    for paraphrase in ("How many orders did customers from Berlin place?",
                       "Count the orders of customers who live in Berlin"):
        reply = await shop.ask(paraphrase)
        assert reply.served_by == query_pb2.SERVED_BY_EXAMPLE, (paraphrase, reply.sql)
        assert reply_rows(reply) == shop.rows(corrected), paraphrase
    madrid = await shop.ask("How many orders were placed by customers in Madrid?")
    assert madrid.served_by == query_pb2.SERVED_BY_EXAMPLE
    assert "'Berlin' → 'Madrid'" in madrid.explanation
    assert reply_rows(madrid) == shop.rows(ORDERS_FROM.format(city="Madrid")) != shop.rows(corrected)


async def test_a_question_the_example_does_not_answer_still_goes_to_the_generator(shop: Shop) -> None:
    await create_example(shop, "How many customers live in Vienna?",
                         "SELECT COUNT(*) FROM customers WHERE city = 'Vienna'")
    reply = await shop.ask("How many customers live in each city?")
    assert reply.served_by == query_pb2.SERVED_BY_TEMPLATE
    assert "GROUP BY" in reply.sql.upper()


async def test_a_created_example_answers_the_next_ask(shop: Shop) -> None:
    name = await create_example(shop, "What is the average price of products in the Books category?",
                                AVERAGE_PRICE.format(category="Books"))
    reply = await shop.ask("What is the average price of products in the Garden category?")
    assert reply.served_by == query_pb2.SERVED_BY_EXAMPLE
    assert name in reply.explanation
    assert reply_rows(reply) == shop.rows(AVERAGE_PRICE.format(category="Garden"))
    assert reply.confidence > 0.75


async def test_an_example_reading_a_column_the_callers_policy_excludes_is_not_reused_for_them(shop: Shop) -> None:
    question = "What are the names and email addresses of customers in Lisbon?"
    sql = "SELECT name, email FROM customers WHERE city = 'Lisbon'"
    await create_example(shop, question, sql)
    admin = await shop.ask(question)
    assert admin.served_by == query_pb2.SERVED_BY_EXAMPLE
    assert reply_rows(admin) == shop.rows(sql)
    try:
        reply = await shop.ask(question, shop.asker)
    except grpc.aio.AioRpcError as refused:  # the generator may find nothing safe to write for this caller
        assert refused.code() in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.INVALID_ARGUMENT)
        return
    assert reply.served_by != query_pb2.SERVED_BY_EXAMPLE
    assert "email" not in [c.name for c in reply.columns]

