"""TemplateGenerator on a hand-made shop schema: each intent, joins, values, candidates, confidence."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from chatdb_server.errors import FailedPrecondition, InvalidArgument
from chatdb_server.generation.interface import SqlGenerator
from chatdb_server.prediction.template import MODEL_NAME, TemplateGenerator
from chatdb_server.retrieval.context import SchemaContext
from tests.unit.prediction.template_fixtures import SHOP, STAFF, ask, shop_database


@pytest.fixture(scope="module")
def generator() -> TemplateGenerator:
    return TemplateGenerator()


@pytest.fixture(scope="module")
def shop_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shop_database(tmp_path_factory.mktemp("shop") / "shop.sqlite")


def sql_for(generator: TemplateGenerator, question: str, schema: SchemaContext = SHOP, dialect: str = "sqlite") -> str:
    return generator.generate_sync(ask(question, schema, dialect)).candidates[0].sql


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return sorted(conn.execute(sql).fetchall(), key=repr)
    finally:
        conn.close()


def normalised(sql: str) -> str:
    return sqlglot.parse_one(sql, read="sqlite").sql(dialect="sqlite")


@pytest.mark.parametrize(("question", "expected"), [
    ("How many customers are there?", "SELECT COUNT(*) FROM customers"),
    ("List the emails of customers from Berlin.", "SELECT email FROM customers WHERE city = 'Berlin'"),
    ("What is the average price of products?", "SELECT AVG(price) FROM products"),
    ("What is the average price of products in each category?",
     "SELECT category, AVG(price) FROM products GROUP BY category"),
    ("Show the number of orders for each status.", "SELECT status, COUNT(*) FROM orders GROUP BY status"),
    ("Which product has the highest price?", "SELECT name FROM products ORDER BY price DESC LIMIT 1"),
    ("What are the names of the 3 most expensive products?", "SELECT name FROM products ORDER BY price DESC LIMIT 3"),
    ("Which products have a price greater than 30?", "SELECT name FROM products WHERE price > 30"),
    ("Which products have a stock of at least 5?", "SELECT name FROM products WHERE stock >= 5"),
    ("List the products with a price between 20 and 50.", "SELECT name FROM products WHERE price BETWEEN 20 AND 50"),
    ("How many orders are pending?", "SELECT COUNT(*) FROM orders WHERE status = 'pending'"),
    ("List all products sorted by price in descending order.", "SELECT name FROM products ORDER BY price DESC"),
    ("What is the maximum quantity of order items?", "SELECT MAX(quantity) FROM order_items"),
    ("Show all information about products in the garden category.",
     "SELECT * FROM products WHERE category = 'garden'"),
])
def test_single_table_intents(generator: TemplateGenerator, question: str, expected: str) -> None:
    assert normalised(sql_for(generator, question)) == normalised(expected)


def test_year_becomes_a_date_range_on_a_date_column(generator: TemplateGenerator, shop_db: Path) -> None:
    sql = sql_for(generator, "How many orders were placed in 2023?")
    assert "order_date >= '2023-01-01'" in sql and "order_date < '2024-01-01'" in sql
    assert rows(shop_db, sql) == [(3,)]
    after = sql_for(generator, "Show the orders placed after 2022.")
    assert "order_date >= '2023-01-01'" in after


def test_join_follows_the_shortest_path_through_bridge_tables(generator: TemplateGenerator, shop_db: Path) -> None:
    sql = sql_for(generator, "List the names of products bought by customers from Paris.")
    tables = {t.name for t in sqlglot.parse_one(sql, read="sqlite").find_all(exp.Table)}
    assert tables == {"products", "order_items", "orders", "customers"}
    assert rows(shop_db, sql) == [("Chess Set",)]


def test_negated_relation_becomes_not_in(generator: TemplateGenerator, shop_db: Path) -> None:
    sql = sql_for(generator, "Which customers have no orders?")
    assert "NOT" in sql and "IN (SELECT customer_id FROM orders)" in sql
    assert rows(shop_db, sql) == [("Marie", "Curie")]


def test_count_of_related_rows_becomes_having(generator: TemplateGenerator, shop_db: Path) -> None:
    sql = sql_for(generator, "Which customers have more than 2 orders?")
    assert "HAVING COUNT(*) > 2" in sql
    assert rows(shop_db, sql) == [("Ada", "Lovelace")]


def test_most_related_rows_orders_by_count(generator: TemplateGenerator, shop_db: Path) -> None:
    sql = sql_for(generator, "Which customer has the most orders?")
    assert "ORDER BY COUNT(*) DESC" in sql and sql.endswith("LIMIT 1")
    assert rows(shop_db, sql) == [("Ada", "Lovelace")]


def test_value_links_to_the_column_that_holds_it(generator: TemplateGenerator) -> None:
    assert "country = 'France'" in sql_for(generator, "How many customers live in France?")
    assert "category = 'toys'" in sql_for(generator, "List the names of toys products.")


def test_column_comment_links_words(generator: TemplateGenerator) -> None:
    assert "stock" in sql_for(generator, "How many units in the warehouse does the Chess Set have?")


def test_inferred_join_and_mixed_case_names_are_quoted_for_postgres(generator: TemplateGenerator) -> None:
    sql = sql_for(generator, "What is the average salary of employees in the Research department?", STAFF, "postgres")
    assert 'AVG(T1."Salary")' in sql or 'AVG(T2."Salary")' in sql
    assert '"DeptNo"' in sql and "'Research'" in sql
    sqlglot.parse_one(sql, read="postgres")


def test_join_inferred_from_names_when_the_schema_gives_none(generator: TemplateGenerator) -> None:
    bare = SchemaContext(tables=STAFF.tables)
    sql = sql_for(generator, "List the full names of employees in the Sales department.", bare)
    assert "JOIN" in sql and "DeptNo" in sql and "'Sales'" in sql


@pytest.mark.parametrize("dialect", ["postgres", "mysql", "sqlite"])
def test_output_parses_in_every_dialect(generator: TemplateGenerator, dialect: str) -> None:
    for question in ("Which customers have more than 2 orders?", "How many orders were placed in 2023?",
                     "List the names of products bought by customers from Paris."):
        sqlglot.parse_one(sql_for(generator, question, SHOP, dialect), read=dialect)


def test_deterministic_across_calls_and_instances(generator: TemplateGenerator) -> None:
    request = ask("Which products have a price greater than 30?", candidates=4)
    first = generator.generate_sync(request)
    again = generator.generate_sync(request)
    fresh = TemplateGenerator().generate_sync(request)
    assert [c.sql for c in first.candidates] == [c.sql for c in again.candidates] == [c.sql for c in fresh.candidates]
    assert [c.confidence for c in first.candidates] == [c.confidence for c in fresh.candidates]


def test_candidate_count_gives_distinct_ranked_readings(generator: TemplateGenerator) -> None:
    single = generator.generate_sync(ask("What is the average price of products in each category?"))
    several = generator.generate_sync(ask("What is the average price of products in each category?", candidates=3))
    assert len(single.candidates) == 1
    assert 1 < len(several.candidates) <= 3
    assert several.candidates[0].sql == single.candidates[0].sql
    assert len({c.sql for c in several.candidates}) == len(several.candidates)
    confidences = [c.confidence for c in several.candidates]
    assert confidences == sorted(confidences, reverse=True)


def test_confidence_is_lower_when_guessing(generator: TemplateGenerator) -> None:
    clear = generator.generate_sync(ask("How many customers are there?")).candidates[0]
    vague = generator.generate_sync(ask("Which customers seem loyal and enthusiastic lately?")).candidates[0]
    assert 0.0 <= vague.confidence < clear.confidence <= 1.0
    assert clear.confidence >= 0.8 and vague.confidence < 0.6


def test_result_names_the_backend_and_explains(generator: TemplateGenerator) -> None:
    result = generator.generate_sync(ask("How many orders are pending?"))
    assert (result.backend, result.model) == ("template", MODEL_NAME)
    explanation = result.candidates[0].explanation
    assert explanation.startswith("Read as") and "pending" in explanation and explanation.count(".") <= 2


async def test_async_generate_matches_sync(generator: TemplateGenerator) -> None:
    implementation: SqlGenerator = generator
    result = await implementation.generate(ask("How many customers are there?"))
    assert result.candidates[0].sql == "SELECT COUNT(*) FROM customers"


def test_only_schema_names_appear(generator: TemplateGenerator) -> None:
    known_tables = {t.name for t in SHOP.tables}
    known_columns = {c.name for t in SHOP.tables for c in t.columns}
    for question in ("What is the total amount of orders of each customer?", "Which customer has the most orders?",
                     "List all products sorted by price in descending order."):
        tree = sqlglot.parse_one(sql_for(generator, question), read="sqlite")
        assert {t.name for t in tree.find_all(exp.Table)} <= known_tables
        assert {c.name for c in tree.find_all(exp.Column)} <= known_columns


def test_empty_question_is_invalid(generator: TemplateGenerator) -> None:
    with pytest.raises(InvalidArgument) as caught:
        generator.generate_sync(ask("   "))
    assert caught.value.violations[0].field == "question"


def test_empty_schema_is_invalid(generator: TemplateGenerator) -> None:
    with pytest.raises(InvalidArgument) as caught:
        generator.generate_sync(ask("How many customers?", SchemaContext(tables=())))
    assert caught.value.violations[0].field == "schema_context.tables"


def test_unsupported_dialect_is_invalid(generator: TemplateGenerator) -> None:
    with pytest.raises(InvalidArgument) as caught:
        generator.generate_sync(ask("How many customers?", SHOP, "oracle"))
    assert caught.value.violations[0].field == "dialect"


def test_question_it_cannot_ground_has_no_answer(generator: TemplateGenerator) -> None:
    with pytest.raises(FailedPrecondition) as caught:
        generator.generate_sync(ask("What is the weather like on Mars tomorrow?"))
    assert caught.value.reason == "NO_ANSWER"
