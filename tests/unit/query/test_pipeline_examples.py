"""Golden examples in the ask pipeline, on real parts (a trained sample shop, Milvus Lite, the embedding
model) with a scripted model backend: an example answers before any generator, whichever backend serves;
a caller that names a model gets that model; a question no example answers reaches the model with the
examples in its request."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from chatdb_server.generation.interface import SqlCandidate
from chatdb_server.prediction.client import LocalPrediction
from chatdb_server.query.domain import ServedBy
from chatdb_server.query.pipeline import AskOptions
from tests.unit.query.test_pipeline import ScriptedModel, pipeline_with
from tests.unit.query.test_pipeline_support import QueryStack, open_query_stack

pytestmark = pytest.mark.asyncio(loop_scope="module")
SHOP = "dataSources/shop"
QUESTION = "How many customers live in Lisbon?"
EXAMPLE_SQL = "SELECT COUNT(*) AS lisbon_customers FROM customers WHERE city = 'Lisbon'"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[QueryStack]:
    opened = await open_query_stack(tmp_path_factory.mktemp("examples"), result_cache_ttl_s=0)
    await opened.training.service.examples.create(opened.source, QUESTION, EXAMPLE_SQL)
    yield opened
    await opened.close()


def count(stack: QueryStack, city: str) -> int:
    with sqlite3.connect(stack.shop_path) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM customers WHERE city = ?", (city,)).fetchone()[0])


async def test_an_example_answers_before_the_model_is_asked(stack: QueryStack) -> None:
    model = ScriptedModel([SqlCandidate("SELECT 1 FROM customers", 0.9)])
    pipeline = pipeline_with(stack, LocalPrediction(model))
    repeat = await pipeline.ask("default", SHOP, QUESTION, AskOptions())
    assert repeat.served_by is ServedBy.EXAMPLE and repeat.model == ""
    assert repeat.rows is not None and repeat.rows.rows[0][0] == count(stack, "Lisbon")
    other_city = await pipeline.ask("default", SHOP, "How many customers live in Vienna?", AskOptions())
    assert other_city.served_by is ServedBy.EXAMPLE
    assert other_city.rows is not None and other_city.rows.rows[0][0] == count(stack, "Vienna")
    assert "'Lisbon' → 'Vienna'" in other_city.explanation
    assert model.requests == []


async def test_a_named_model_writes_the_sql_with_the_examples_in_its_request(stack: QueryStack) -> None:
    model = ScriptedModel([SqlCandidate("SELECT COUNT(*) FROM customers", 0.9)])
    pipeline = pipeline_with(stack, LocalPrediction(model))
    answer = await pipeline.ask("default", SHOP, QUESTION, AskOptions(model="models/big"))
    assert answer.served_by is ServedBy.MODEL
    [request] = model.requests
    assert [(e.question, e.sql) for e in request.examples][:1] == [(QUESTION, EXAMPLE_SQL)]
    assert request.examples[0].example_id and request.examples[0].similarity > 0.99


async def test_a_question_no_example_answers_reaches_the_model_with_the_examples(stack: QueryStack) -> None:
    model = ScriptedModel([SqlCandidate("SELECT name FROM products ORDER BY price DESC LIMIT 3", 0.9)])
    pipeline = pipeline_with(stack, LocalPrediction(model))
    answer = await pipeline.ask("default", SHOP, "Which three products cost the most?", AskOptions())
    assert answer.served_by is ServedBy.MODEL
    [request] = model.requests
    assert any(e.sql == EXAMPLE_SQL for e in request.examples)


async def test_an_example_the_database_rejects_is_repaired_by_the_generator(stack: QueryStack) -> None:
    question = "What is the overflowing checksum of the customers?"
    # Passes the guard; SQLite rejects it when it runs ("integer overflow").
    await stack.training.service.examples.create(stack.source, question,
                                                 "SELECT ABS(-9223372036854775807 - 1) FROM customers")
    model = ScriptedModel([], repaired="SELECT COUNT(*) FROM customers")
    answer = await pipeline_with(stack, LocalPrediction(model)).ask("default", SHOP, question, AskOptions())
    [repair] = model.requests
    assert repair.repair is not None and "overflow" in repair.repair.error
    assert answer.served_by is ServedBy.MODEL
    assert answer.sql.startswith("SELECT COUNT(*) FROM customers")
