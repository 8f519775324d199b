"""TemplateGenerator on typical business questions about a shop: how many rows to show, totals per
group, periods of a date column, aggregates of a table, and "never ordered"."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlglot

from chatdb_server.prediction.template import TemplateGenerator
from tests.unit.prediction.template_fixtures import SHOP, ask, shop_database


@pytest.fixture(scope="module")
def generator() -> TemplateGenerator:
    return TemplateGenerator()


@pytest.fixture(scope="module")
def shop_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shop_database(tmp_path_factory.mktemp("shop") / "shop.sqlite")


def sql_for(generator: TemplateGenerator, question: str, dialect: str = "sqlite") -> str:
    return generator.generate_sync(ask(question, SHOP, dialect)).candidates[0].sql


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return [tuple(row) for row in conn.execute(sql).fetchall()]


def normalised(sql: str) -> str:
    return sqlglot.parse_one(sql, read="sqlite").sql(dialect="sqlite")


@pytest.mark.parametrize(("question", "expected"), [
    pytest.param("Show the total amount of orders per status",
                 "SELECT status, SUM(total_amount) FROM orders GROUP BY status", id="total-per-group"),
    pytest.param("What is the total amount of all orders?", "SELECT SUM(total_amount) FROM orders",
                 id="one-total"),
    pytest.param("Show the order ids and total amounts.", "SELECT order_id, total_amount FROM orders",
                 id="total-column-listed"),
    pytest.param("List 2 products.", "SELECT name FROM products LIMIT 2", id="number-before-noun"),
    pytest.param("List the top two products by price.", "SELECT name FROM products ORDER BY price DESC LIMIT 2",
                 id="top-n-by"),
    pytest.param("What is the average order value?", "SELECT AVG(total_amount) FROM orders",
                 id="aggregate-of-a-table"),
    pytest.param("How many customers are there in each city?", "SELECT city, COUNT(*) FROM customers GROUP BY city",
                 id="count-per-group"),
])
def test_reads_business_questions(generator: TemplateGenerator, question: str, expected: str) -> None:
    assert normalised(sql_for(generator, question)) == normalised(expected)


def test_a_number_before_the_noun_sets_the_limit(generator: TemplateGenerator, shop_db: Path) -> None:
    sql = sql_for(generator, "Which 3 customers placed the most orders?")
    assert "ORDER BY COUNT(*) DESC" in sql and sql.endswith("LIMIT 3")
    assert rows(shop_db, sql)[0] == ("Ada", "Lovelace") and len(rows(shop_db, sql)) == 3


def test_a_number_of_related_rows_is_still_a_having(generator: TemplateGenerator, shop_db: Path) -> None:
    sql = sql_for(generator, "Which customers have 3 orders?")
    assert "HAVING COUNT(*) = 3" in sql and "LIMIT" not in sql
    assert rows(shop_db, sql) == [("Ada", "Lovelace")]


def test_total_per_group_sums_by_the_group(generator: TemplateGenerator, shop_db: Path) -> None:
    sql = sql_for(generator, "What is the total amount of orders for each customer?")
    assert "SUM(T1.total_amount)" in sql and "GROUP BY" in sql
    assert sorted(rows(shop_db, sql)) == [("Ada", "Lovelace", 235), ("Greta", "Berg", 15), ("Jean", "Dupont", 60)]


def test_top_n_by_the_total_of_related_rows(generator: TemplateGenerator, shop_db: Path) -> None:
    sql = sql_for(generator, "Show the top 2 customers by total amount of orders.")
    assert "ORDER BY SUM(T2.total_amount) DESC" in sql and sql.endswith("LIMIT 2")
    assert rows(shop_db, sql) == [("Ada", "Lovelace"), ("Jean", "Dupont")]


@pytest.mark.parametrize(("dialect", "bucket"), [
    ("sqlite", "STRFTIME('%Y-%m', order_date)"),
    ("postgres", "TO_CHAR(order_date, 'YYYY-MM')"),
    ("mysql", "DATE_FORMAT(order_date, '%Y-%m')"),
])
def test_per_month_groups_by_the_month_of_the_date_column(generator: TemplateGenerator, dialect: str,
                                                         bucket: str) -> None:
    sql = sql_for(generator, "Show the number of orders per month.", dialect)
    assert sql == f"SELECT {bucket}, COUNT(*) FROM orders GROUP BY {bucket} ORDER BY {bucket} ASC"


def test_revenue_per_year_sums_in_time_order(generator: TemplateGenerator, shop_db: Path) -> None:
    sql = sql_for(generator, "What is the total revenue per year?")
    assert rows(shop_db, sql) == [("2022", 60), ("2023", 170), ("2024", 80)]


def test_never_placed_an_order_reads_order_as_the_table(generator: TemplateGenerator, shop_db: Path) -> None:
    sql = sql_for(generator, "Which customers have never placed an order?")
    assert "NOT customer_id IN (SELECT customer_id FROM orders)" in sql
    assert rows(shop_db, sql) == [("Marie", "Curie")]


def test_never_ordered_excludes_ordered_products(generator: TemplateGenerator, shop_db: Path) -> None:
    sql = sql_for(generator, "Which products were never ordered?")
    assert "NOT product_id IN (SELECT" in sql and "order_items" in sql
    assert rows(shop_db, sql) == []
    assert "ORDER BY" in sql_for(generator, "List the products ordered by price.")
