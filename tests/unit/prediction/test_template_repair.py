"""The repair round rewrites SQL a database rejected, from PostgreSQL's and MariaDB/MySQL's messages."""

from __future__ import annotations

import pytest

from chatdb_server.generation.interface import RepairHint
from chatdb_server.prediction.template import TemplateGenerator
from chatdb_server.prediction.template.repair import repair_sql
from tests.unit.prediction.template_fixtures import ask

GROUPED = ("SELECT T2.name, T2.city, COUNT(*) FROM orders AS T1 JOIN customers AS T2 "
           "ON T1.customer_id = T2.customer_id GROUP BY T1.customer_id")


@pytest.mark.parametrize(("dialect", "error"), [
    ("postgres", 'column "t2.name" must appear in the GROUP BY clause or be used in an aggregate function'),
    ("mysql", "(1055, \"'shop.T2.name' isn't in GROUP BY\")"),
    ("mysql", "Expression #1 of SELECT list is not in GROUP BY clause and contains nonaggregated column "
              "'shop.T2.name' which is not functionally dependent on columns in GROUP BY clause"),
])
def test_a_column_missing_from_the_group_by_is_added_with_every_other(dialect: str, error: str) -> None:
    repaired = repair_sql(GROUPED, error, dialect)
    assert repaired is not None and repaired.rule == "repair-group-by"
    assert repaired.sql.endswith("GROUP BY T1.customer_id, T2.name, T2.city")


def test_bare_columns_beside_an_aggregate_without_group_by_are_grouped_mariadb() -> None:
    error = ("(1140, 'Mixing of GROUP columns (MIN(),MAX(),COUNT(),...) with no GROUP columns is illegal "
             "if there is no GROUP BY clause')")
    repaired = repair_sql("SELECT city, COUNT(*) FROM customers ORDER BY city", error, "mysql")
    assert repaired is not None
    assert repaired.sql == "SELECT city, COUNT(*) FROM customers GROUP BY city ORDER BY city"


@pytest.mark.parametrize("function", ["sum", "avg"])
def test_a_total_of_text_counts_instead_postgresql(function: str) -> None:
    sql = f"SELECT {function.upper()}(T1.city), MAX(T1.customer_id) FROM customers AS T1"
    repaired = repair_sql(sql, f"function {function}(text) does not exist\nHINT:  No function matches", "postgres")
    assert repaired is not None and repaired.rule == "repair-text-total"
    assert repaired.sql == "SELECT COUNT(T1.city), MAX(T1.customer_id) FROM customers AS T1"


def test_a_number_compared_with_text_becomes_text_postgresql() -> None:
    repaired = repair_sql("SELECT name FROM cars WHERE horsepower > 150 AND cylinders = 4",
                          "operator does not exist: text > integer", "postgres")
    assert repaired is not None and repaired.rule == "repair-operator-types"
    assert repaired.sql == "SELECT name FROM cars WHERE horsepower > '150' AND cylinders = 4"


def test_a_join_of_mismatched_types_compares_as_text_postgresql() -> None:
    sql = "SELECT T1.name FROM airlines AS T1 JOIN flights AS T2 ON T1.uid = T2.airline"
    repaired = repair_sql(sql, "operator does not exist: bigint = text\nHINT:  No operator matches", "postgres")
    assert repaired is not None
    assert repaired.sql.endswith("ON CAST(T1.uid AS TEXT) = T2.airline")


def test_like_on_a_number_casts_it_postgresql() -> None:
    repaired = repair_sql("SELECT name FROM products WHERE price LIKE '%9%'",
                          "operator does not exist: numeric ~~ unknown", "postgres")
    assert repaired is not None and repaired.sql == "SELECT name FROM products WHERE CAST(price AS TEXT) LIKE '%9%'"


@pytest.mark.parametrize(("sql", "error"), [
    ("SELECT nme FROM customers", 'column "nme" does not exist'),
    ("SELECT city FROM customers GROUP BY city", 'column "x" must appear in the GROUP BY clause'),
    ("SELECT (", "syntax error at or near"),
])
def test_nothing_is_rewritten_when_no_rule_fixes_the_error(sql: str, error: str) -> None:
    assert repair_sql(sql, error, "postgres") is None


def test_a_repair_round_puts_the_fixed_sql_first() -> None:
    failed = "SELECT city, COUNT(*) FROM customers LIMIT 100"
    request = ask("How many customers are there in each city?", dialect="postgres", candidates=2)
    hinted = type(request)(**{**request.__dict__, "repair": RepairHint(
        failed, 'column "customers.city" must appear in the GROUP BY clause or be used in an aggregate function')})
    candidates = TemplateGenerator().generate_sync(hinted).candidates
    assert candidates[0].sql == "SELECT city, COUNT(*) FROM customers GROUP BY city LIMIT 100"
    assert candidates[0].rules == ("repair-group-by",)
    assert len(candidates) > 1 and all(c.sql != candidates[0].sql for c in candidates[1:])


def test_a_distinct_sorted_by_an_unselected_column_selects_it_postgresql() -> None:
    repaired = repair_sql("SELECT DISTINCT name FROM products ORDER BY price DESC LIMIT 3",
                          "for SELECT DISTINCT, ORDER BY expressions must appear in select list", "postgres")
    assert repaired is not None and repaired.rule == "repair-distinct-order"
    assert repaired.sql == "SELECT DISTINCT name, price FROM products ORDER BY price DESC LIMIT 3"
