"""Follow-ups on the template path: the previous turn's SQL edited with sqlglot (filters added or replaced,
joins for a value of a neighbouring table, order, limit, counts and totals over the previous rows, periods
moved), checked by running both on a real SQLite shop; a question that stands alone is read afresh."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from chatdb_server.generation.interface import ConversationTurn, RepairHint
from chatdb_server.prediction.template import TemplateGenerator
from chatdb_server.sql.dsn import Dialect
from tests.unit.prediction.template_fixtures import ask, shop_database

GENERATOR = TemplateGenerator()


def follow(previous_sql: str, question: str, dialect: str = "sqlite") -> tuple[str, str]:
    request = replace(ask(question, dialect=dialect), previous_turns=(ConversationTurn("earlier", previous_sql),))
    best = GENERATOR.generate_sync(request).candidates[0]
    return best.sql, best.explanation


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shop_database(tmp_path_factory.mktemp("followups") / "shop.db")


@pytest.mark.parametrize(("previous", "question", "meant"), [
    pytest.param("SELECT first_name FROM customers LIMIT 1000", "only those in Berlin",
                 "SELECT first_name FROM customers WHERE city = 'Berlin'", id="filter"),
    pytest.param("SELECT first_name FROM customers WHERE city = 'Berlin' LIMIT 1000", "and in Paris?",
                 "SELECT first_name FROM customers WHERE city = 'Paris'", id="filter-replaced"),
    pytest.param("SELECT first_name FROM customers WHERE city = 'London' LIMIT 1000", "what about Dublin?",
                 "SELECT first_name FROM customers WHERE city = 'Dublin'", id="unsampled-value-replaced"),
    pytest.param("SELECT order_id FROM orders LIMIT 1000", "only those from customers in Paris",
                 "SELECT o.order_id FROM orders o JOIN customers c ON o.customer_id = c.customer_id "
                 "WHERE c.city = 'Paris'", id="filter-through-a-join"),
    pytest.param("SELECT order_id FROM orders LIMIT 1000", "only those over 50",
                 "SELECT order_id FROM orders WHERE total_amount > 50", id="bound-on-the-one-amount"),
    pytest.param("SELECT name FROM products LIMIT 1000", "only those with stock 4",
                 "SELECT name FROM products WHERE stock = 4", id="number-after-its-column"),
    pytest.param("SELECT first_name FROM customers WHERE city = 'Paris' LIMIT 1000", "how many are there?",
                 "SELECT COUNT(*) FROM customers WHERE city = 'Paris'", id="count"),
    pytest.param("SELECT order_id FROM orders WHERE status = 'shipped' LIMIT 1000", "what is the total amount?",
                 "SELECT SUM(total_amount) FROM orders WHERE status = 'shipped'", id="total"),
    pytest.param("SELECT name, price FROM products ORDER BY price DESC LIMIT 2", "what is their average price?",
                 "SELECT AVG(price) FROM (SELECT price FROM products ORDER BY price DESC LIMIT 2)",
                 id="average-over-a-limited-answer"),
    pytest.param("SELECT COUNT(*) FROM orders WHERE order_date >= '2023-01-01' AND order_date < '2024-01-01' "
                 "LIMIT 1000", "and last year?",
                 "SELECT COUNT(*) FROM orders WHERE order_date >= '2022-01-01' AND order_date < '2023-01-01'",
                 id="year-back"),
    pytest.param("SELECT COUNT(*) FROM orders WHERE strftime('%Y', order_date) = '2023' LIMIT 1000",
                 "what about 2024?", "SELECT COUNT(*) FROM orders WHERE strftime('%Y', order_date) = '2024'",
                 id="named-year"),
])
def test_follow_ups_edit_the_previous_sql(shop: Path, previous: str, question: str, meant: str) -> None:
    sql, explanation = follow(previous, question)
    assert explanation.startswith("Refines the previous query"), (sql, explanation)
    with sqlite3.connect(shop) as conn:
        assert sorted(conn.execute(sql).fetchall()) == sorted(conn.execute(meant).fetchall()), sql


@pytest.mark.parametrize(("previous", "question", "meant"), [
    pytest.param("SELECT name FROM products LIMIT 1000", "cheapest first",
                 "SELECT name, price FROM products ORDER BY price", id="cheapest"),
    pytest.param("SELECT name FROM products LIMIT 1000", "just the top 2 by price",
                 "SELECT name, price FROM products ORDER BY price DESC LIMIT 2", id="top-by"),
    pytest.param("SELECT status, SUM(total_amount) FROM orders GROUP BY status LIMIT 1000", "highest first",
                 "SELECT status, SUM(total_amount) FROM orders GROUP BY status ORDER BY 2 DESC", id="measure"),
])
def test_order_follow_ups_keep_the_order(shop: Path, previous: str, question: str, meant: str) -> None:
    sql, _ = follow(previous, question)
    with sqlite3.connect(shop) as conn:
        assert conn.execute(sql).fetchall() == conn.execute(meant).fetchall(), sql
    assert "NULLS" not in sql


def test_a_question_that_stands_alone_is_read_afresh() -> None:
    sql, explanation = follow("SELECT first_name FROM customers WHERE city = 'Berlin'", "How many products are there?")
    assert sql == "SELECT COUNT(*) FROM products"
    assert not explanation.startswith("Refines")


def test_a_change_the_previous_sql_cannot_take_reads_the_question_afresh() -> None:
    # No period in the previous SQL to move back.
    sql, explanation = follow("SELECT first_name FROM customers", "and last year?")
    assert not explanation.startswith("Refines"), sql


@pytest.mark.parametrize("dialect", [Dialect.POSTGRESQL, Dialect.MYSQL])
def test_edits_are_written_in_the_dialect(dialect: Dialect) -> None:
    sql, _ = follow("SELECT COUNT(*) FROM orders WHERE EXTRACT(YEAR FROM order_date) = 2023", "and last year?",
                    dialect.value)
    assert "2022" in sql and "2023" not in sql
    ordered, _ = follow("SELECT name FROM products", "most expensive first", dialect.value)
    assert ordered.endswith("ORDER BY price DESC") and "NULLS" not in ordered


def test_a_repair_round_of_a_follow_up_fixes_the_refined_sql() -> None:
    failed = "SELECT name, price FROM products ORDER BY price ASC"
    request = replace(ask("cheapest first"), previous_turns=(ConversationTurn("List the products",
                                                                              "SELECT name FROM products"),),
                      repair=RepairHint(failed, "no such column: price"))
    candidates = GENERATOR.generate_sync(request).candidates
    assert all(c.sql != failed for c in candidates)
