"""Choosing the golden example that answers a question: exact repeats, similarity after restating the
question with the example's values, retrieved tables, the question's shape."""

from __future__ import annotations

import pytest

from chatdb_server.generation.example_reuse import EXACT_CONFIDENCE, Reuse, reuse_example, sql_tables
from chatdb_server.generation.interface import ExampleInfo, GenerationRequest
from chatdb_server.generation.question_cues import same_shape
from chatdb_server.retrieval.context import ColumnInfo, SchemaContext, TableInfo
from chatdb_server.sql.dsn import Dialect

SCHEMA = SchemaContext((
    TableInfo("customers", (ColumnInfo("id", "INTEGER", primary_key=True), ColumnInfo("name", "TEXT"),
                            ColumnInfo("city", "TEXT", sample_values=("Berlin", "Paris", "Madrid")))),
    TableInfo("orders", (ColumnInfo("id", "INTEGER", primary_key=True), ColumnInfo("customer_id", "INTEGER"),
                         ColumnInfo("total", "NUMERIC"))),
))
BERLIN = ExampleInfo("How many orders came from customers in Berlin?",
                     "SELECT COUNT(*) FROM orders JOIN customers ON customers.id = orders.customer_id "
                     "WHERE customers.city = 'Berlin'", "berlin-orders", 0.70)
COUNT = ExampleInfo("How many customers are there?", "SELECT COUNT(*) FROM customers", "customer-count", 0.90)


class Similarities:
    """Scripted similarities of (example question, restated question), remembering what was compared."""

    def __init__(self, value: float) -> None:
        self.value = value
        self.compared: list[tuple[str, str]] = []

    async def __call__(self, question: str, other: str) -> float:
        self.compared.append((question, other))
        return self.value


def request(question: str, *examples: ExampleInfo, schema: SchemaContext = SCHEMA) -> GenerationRequest:
    return GenerationRequest(question, Dialect.SQLITE, schema, examples=examples)


async def reuse(question: str, *examples: ExampleInfo, similarity: float = 0.9, threshold: float = 0.75,
                schema: SchemaContext = SCHEMA) -> Reuse | None:
    return await reuse_example(request(question, *examples, schema=schema), threshold, Similarities(similarity))


async def test_an_exact_repeat_takes_the_sql_as_it_is_whatever_its_similarity() -> None:
    found = await reuse("how many orders came from customers in BERLIN", BERLIN, similarity=0.0)
    assert found is not None and found.exact
    assert found.sql == BERLIN.sql
    assert found.confidence == EXACT_CONFIDENCE
    assert "golden example dataSources/s/examples/berlin-orders" in found.explanation("dataSources/s/examples/"
                                                                                       "berlin-orders")


async def test_a_changed_value_is_judged_by_the_restated_question() -> None:
    similarities = Similarities(0.97)
    found = await reuse_example(request("How many orders came from customers in Madrid?", BERLIN), 0.75,
                                similarities)
    assert found is not None and not found.exact
    assert found.sql.endswith("WHERE customers.city = 'Madrid'")
    assert similarities.compared == [(BERLIN.question, "How many orders came from customers in Berlin?")]
    assert found.similarity == 0.97 and found.confidence == 0.95
    assert "'Berlin' → 'Madrid'" in found.explanation("x")


async def test_below_the_threshold_nothing_is_reused() -> None:
    assert await reuse("How many orders came from customers in Madrid?", BERLIN, similarity=0.74) is None


async def test_a_paraphrase_with_the_same_values_uses_the_retrieved_similarity() -> None:
    close = ExampleInfo(BERLIN.question, BERLIN.sql, "berlin-orders", 0.8)
    found = await reuse("Count the orders of customers who live in Berlin", close, similarity=0.0)
    assert found is not None and found.sql == BERLIN.sql and found.similarity == 0.8
    far = ExampleInfo(BERLIN.question, BERLIN.sql, "berlin-orders", 0.7)
    assert await reuse("Count the orders of customers who live in Berlin", far, similarity=1.0) is None


async def test_an_example_on_a_table_that_was_not_retrieved_is_not_reused() -> None:
    only_customers = SchemaContext(SCHEMA.tables[:1])
    assert await reuse("How many orders came from customers in Madrid?", BERLIN, schema=only_customers) is None


async def test_a_question_of_another_shape_is_not_answered_by_the_example() -> None:
    assert await reuse("How many customers are there in each city?", COUNT) is None
    assert await reuse("How many customers are there?", COUNT) is not None


async def test_the_first_example_that_answers_wins() -> None:
    unrelated = ExampleInfo("Which customers ordered nothing?", "SELECT name FROM customers WHERE id NOT IN "
                            "(SELECT customer_id FROM orders)", "nothing", 0.95)
    found = await reuse("How many orders came from customers in Paris?", unrelated, BERLIN)
    assert found is not None and found.example.example_id == "berlin-orders"


@pytest.mark.parametrize(("question", "other", "same"), [
    pytest.param("How many singers do we have?", "Count the number of singers.", True, id="count_words"),
    pytest.param("How many singers do we have?", "How many singers are from each country?", False, id="grouping"),
    pytest.param("Which language is used by the most channels?", "Which language is used by the least channels?",
                 False, id="direction"),
    pytest.param("Who is the oldest singer?", "Which singer has the highest age?", True, id="undirected_extreme"),
    pytest.param("List the students who have a dog.", "List the students who don't have a dog.", False,
                 id="negation"),
    pytest.param("Give the flight numbers of flights from APG.", "How many flights are from APG?", False,
                 id="numbers_of_is_not_counting"),
])
def test_question_shapes(question: str, other: str, same: bool) -> None:
    assert same_shape(question, other) is same


def test_tables_of_sql_leave_out_ctes_and_keep_schemas() -> None:
    sql = "WITH recent AS (SELECT * FROM sales.orders) SELECT * FROM recent JOIN customers ON TRUE"
    assert sql_tables(sql, "postgres") == {"sales.orders", "customers"}
    assert sql_tables("SELECT FROM WHERE", "postgres") == set()
