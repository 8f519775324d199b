"""Comparisons with an average and intersections of two selections, on the shop schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from chatdb_server.prediction.template import TemplateGenerator
from tests.unit.prediction.template_fixtures import ask, shop_database

DIALECTS = ("sqlite", "postgres", "mysql")


@pytest.fixture(scope="module")
def generator() -> TemplateGenerator:
    return TemplateGenerator()


@pytest.fixture(scope="module")
def shop_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shop_database(tmp_path_factory.mktemp("setops") / "shop.sqlite")


def sql_for(generator: TemplateGenerator, question: str, dialect: str = "sqlite") -> str:
    return generator.generate_sync(ask(question, dialect=dialect)).candidates[0].sql


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return sorted(conn.execute(sql).fetchall(), key=repr)
    finally:
        conn.close()


@pytest.mark.parametrize(("question", "expected"), [
    ("Which products have a price above the average price?", [("Chess Set",), ("Desk Lamp",)]),
    ("How many orders have a total amount greater than the average?", [(2,)]),
    ("How many products have a stock below the average?", [(2,)]),
])
def test_comparison_with_the_average_is_a_scalar_subquery(generator: TemplateGenerator, shop_db: Path,
                                                          question: str, expected: list[tuple[object, ...]]) -> None:
    sql = sql_for(generator, question)
    tree = sqlglot.parse_one(sql, read="sqlite")
    subquery = tree.find(exp.Subquery)
    assert subquery is not None and subquery.find(exp.Avg) is not None
    assert not any(isinstance(e, exp.Avg) for e in tree.expressions), "the average is not an output"
    assert rows(shop_db, sql) == expected


@pytest.mark.parametrize(("question", "expected"), [
    ("Which customers have orders with status both shipped and pending?", [("Ada", "Lovelace")]),
    ("List the first names of customers who have both shipped and cancelled orders.", []),
    ("Show the categories shared by products with a price below 20 and above 20.", [("garden",)]),
])
def test_two_exclusive_filters_intersect_two_selections(generator: TemplateGenerator, shop_db: Path,
                                                        question: str, expected: list[tuple[object, ...]]) -> None:
    sql = sql_for(generator, question)
    assert isinstance(sqlglot.parse_one(sql, read="sqlite"), exp.Intersect)
    assert rows(shop_db, sql) == expected


def test_mysql_intersection_is_an_in_subquery(generator: TemplateGenerator, shop_db: Path) -> None:
    question = "Which customers have orders with status both shipped and pending?"
    sql = sql_for(generator, question, "mysql")
    tree = sqlglot.parse_one(sql, read="mysql")
    assert "INTERSECT" not in sql.upper()
    assert isinstance(tree, exp.Select) and tree.args.get("distinct") and tree.find(exp.In) is not None
    assert rows(shop_db, sql) == [("Ada", "Lovelace")]


def test_one_value_per_row_stays_a_plain_filter(generator: TemplateGenerator) -> None:
    sql = sql_for(generator, "Which products have a price greater than 30?")
    assert "INTERSECT" not in sql and "AVG" not in sql


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("question", [
    "Which products have a price above the average price?",
    "Which customers have orders with status both shipped and pending?",
    "Show the categories shared by products with a price below 20 and above 20.",
])
def test_set_operation_sql_parses_in_every_dialect(generator: TemplateGenerator, question: str, dialect: str) -> None:
    sql = sql_for(generator, question, dialect)
    assert sqlglot.parse_one(sql, read=dialect) is not None


@pytest.mark.parametrize(("question", "negated", "expected"), [
    ("Which customers have a pending order but not a cancelled order?", "cancelled", {("Ada", "Lovelace")}),
    ("List the first names of customers who have shipped orders but no pending orders.", "pending", {("Jean",)}),
])
def test_wanted_value_stays_outside_the_negated_one(generator: TemplateGenerator, shop_db: Path, question: str,
                                                    negated: str, expected: set[tuple[object, ...]]) -> None:
    for dialect in DIALECTS:
        tree = sqlglot.parse_one(sql_for(generator, question, dialect), read=dialect)
        not_in = tree.find(exp.Not)
        assert not_in is not None and isinstance(not_in.this, exp.In)
        assert {lit.this for lit in not_in.this.args["query"].find_all(exp.Literal)} == {negated}
    assert set(rows(shop_db, sql_for(generator, question))) == expected
