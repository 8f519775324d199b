"""The one-sentence answer across result shapes: counts, averages, extremes, top groups, lists, empty."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from chatdb_server.query.answer_text import answer_text
from chatdb_server.query.domain import Rows
from chatdb_server.query.sql_shape import sql_shape
from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.values import ResultColumn


def sentence(sql: str, columns: list[tuple[str, str]], rows: list[tuple[Any, ...]], *,
             truncated: bool = False, dialect: Dialect = Dialect.SQLITE) -> str:
    result = Rows([ResultColumn(name, kind) for name, kind in columns], rows, truncated)
    return answer_text(result, sql_shape(sql, dialect))


@pytest.mark.parametrize(("sql", "columns", "rows", "expected"), [
    pytest.param("SELECT COUNT(*) FROM customers", [("count", "INTEGER")], [(120,)],
                 "There are 120 customers.", id="count"),
    pytest.param("SELECT COUNT(*) FROM customers", [("count", "INTEGER")], [(1,)],
                 "There is 1 customer.", id="count_one"),
    pytest.param("SELECT COUNT(*) FROM order_items", [("n", "INTEGER")], [(12345,)],
                 "There are 12,345 order items.", id="count_thousands_and_words"),
    pytest.param("SELECT COUNT(DISTINCT city) FROM customers", [("n", "INTEGER")], [(7,)],
                 "There are 7 distinct cities.", id="count_distinct"),
    pytest.param("SELECT AVG(price) FROM products", [("avg", "DECIMAL")], [(Decimal("45.2"),)],
                 "The average price of products is 45.20.", id="average"),
    pytest.param("SELECT SUM(total) AS s FROM orders", [("s", "DECIMAL")], [(Decimal("1000.5"),)],
                 "The total of orders is 1,000.50.", id="sum_named_like_its_word"),
    pytest.param("SELECT SUM(amount) FROM payments", [("s", "DOUBLE")], [(12.0,)],
                 "The total amount of payments is 12.00.", id="sum"),
    pytest.param("SELECT MAX(price) FROM products", [("m", "DECIMAL")], [(Decimal("99.5"),)],
                 "The highest price of products is 99.50.", id="max"),
    pytest.param("SELECT MIN(created) FROM orders", [("m", "DATE")], [(dt.date(2024, 1, 2),)],
                 "The lowest created of orders is 2024-01-02.", id="min_date"),
    pytest.param("SELECT name FROM products ORDER BY price DESC LIMIT 1", [("name", "STRING")], [("Widget",)],
                 "The product with the highest price is Widget.", id="argmax"),
    pytest.param("SELECT name FROM products ORDER BY price LIMIT 1", [("name", "STRING")], [("Pin",)],
                 "The product with the lowest price is Pin.", id="argmin"),
    pytest.param("SELECT city FROM customers GROUP BY city ORDER BY COUNT(*) DESC LIMIT 1", [("city", "STRING")],
                 [("Madrid",)], "Madrid has the most customers.", id="group_ordered_by_count"),
    pytest.param("SELECT city FROM orders GROUP BY city ORDER BY SUM(total) LIMIT 1", [("city", "STRING")],
                 [("Rome",)], "Rome has the lowest total.", id="group_ordered_by_sum"),
    pytest.param("SELECT city FROM orders GROUP BY city ORDER BY AVG(amount) DESC LIMIT 1", [("city", "STRING")],
                 [("Rome",)], "Rome has the highest average amount.", id="group_ordered_by_average"),
    pytest.param("SELECT city, COUNT(*) FROM customers GROUP BY city ORDER BY COUNT(*) DESC LIMIT 1",
                 [("city", "STRING"), ("count", "INTEGER")], [("Manchester", 12)],
                 "Manchester has the most customers: 12.", id="top_group_ordered"),
    pytest.param("SELECT city, COUNT(*) FROM customers GROUP BY city ORDER BY COUNT(*) LIMIT 1",
                 [("city", "STRING"), ("count", "INTEGER")], [("Leeds", 1)],
                 "Leeds has the fewest customers: 1.", id="bottom_group_ordered"),
    pytest.param("SELECT city, COUNT(*) AS n FROM customers GROUP BY city",
                 [("city", "STRING"), ("n", "INTEGER")], [("Berlin", 3), ("Manchester", 12), ("Paris", 5)],
                 "Manchester has the most customers: 12.", id="top_group_from_all_groups"),
    pytest.param("SELECT status, AVG(total) FROM orders GROUP BY status",
                 [("status", "STRING"), ("avg", "DECIMAL")], [("paid", Decimal("4.5")), ("open", Decimal("3"))],
                 "paid has the highest average total: 4.50.", id="top_group_average"),
    pytest.param("SELECT name, price FROM products WHERE price > 3",
                 [("name", "STRING"), ("price", "DECIMAL")], [(f"P{i}", Decimal(i)) for i in range(18)],
                 "18 products match; the first are P0, P1 and P2.", id="list"),
    pytest.param("SELECT name FROM products WHERE price > 3", [("name", "STRING")], [("A",), ("B",)],
                 "2 products match; the first are A and B.", id="short_list"),
    pytest.param("SELECT name, email FROM customers WHERE id = 3", [("name", "STRING"), ("email", "STRING")],
                 [("Ann", "ann@example.com")], "The customer found has name Ann and email ann@example.com.",
                 id="one_row"),
    pytest.param("SELECT name FROM products WHERE price > 300", [("name", "STRING")], [],
                 "No products match the question.", id="empty"),
    pytest.param("SELECT \"total\" FROM \"orders\" WHERE id = 1", [("total", "DECIMAL")], [(None,)],
                 "The total is nothing (NULL).", id="null_value"),
    pytest.param("not sql at all", [("x", "INTEGER")], [(3,)], "The x is 3.", id="unparsable_sql"),
])
def test_sentence_per_shape(sql: str, columns: list[tuple[str, str]], rows: list[tuple[Any, ...]],
                            expected: str) -> None:
    assert sentence(sql, columns, rows) == expected


def test_ties_at_the_top_are_all_named() -> None:
    columns = [("city", "STRING"), ("n", "INTEGER")]
    sql = "SELECT city, COUNT(*) AS n FROM customers GROUP BY city"
    assert sentence(sql, columns, [("Madrid", 11), ("Manchester", 11), ("Paris", 10)]) == \
        "Madrid and Manchester have the most customers: 11 each."
    assert sentence(sql, columns, [(c, 2) for c in "ABCD"]) == "4 cities share the most customers: 2 each."


def test_a_cut_result_says_at_least_and_names_no_group_as_top() -> None:
    listed = sentence("SELECT name FROM products", [("name", "STRING")], [("A",), ("B",), ("C",), ("D",)],
                      truncated=True)
    grouped = sentence("SELECT city, COUNT(*) FROM customers GROUP BY city", [("city", "STRING"), ("n", "INTEGER")],
                       [("Berlin", 3), ("Paris", 5)], truncated=True)
    assert listed == "At least 4 products match; the first are A, B and C."
    assert "most" not in grouped  # the cut rows may hide a larger group


def test_no_columns_say_nothing_and_values_come_only_from_rows() -> None:
    assert sentence("SELECT COUNT(*) FROM t", [], []) == ""
    text = sentence("SELECT name FROM products", [("name", "STRING")], [("x" * 500,), ("y",)])
    assert len(text) < 120 and text.endswith("…, y.") is False and "x" * 59 in text


def test_postgres_quoting_reads_the_same() -> None:
    assert sentence('SELECT COUNT(*) FROM "public"."customers"', [("count", "INTEGER")], [(4,)],
                    dialect=Dialect.POSTGRESQL) == "There are 4 customers."
