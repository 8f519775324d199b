"""Rules that make the template generator's SQL valid on every dialect: totals over numbers only, a
complete GROUP BY, comparisons in the column's type, joins of mismatched types, periods of text dates,
and the split of names run together in lower case."""

from __future__ import annotations

import pytest

from chatdb_server.prediction.template import TemplateGenerator
from chatdb_server.prediction.template.builder import build_sql
from chatdb_server.prediction.template.conformance import conform
from chatdb_server.prediction.template.joins import JoinGraph
from chatdb_server.prediction.template.plan import Condition, Output, Plan
from chatdb_server.prediction.template.schema_index import SchemaIndex, build_index
from chatdb_server.retrieval.context import SchemaContext, TableInfo
from chatdb_server.sql.structure import JoinEdge
from tests.unit.prediction.template_fixtures import SHOP, ask, col

#: Loosely typed: a text column holding numbers, a text date, a text key joined to an integer one.
LOOSE = SchemaContext(
    tables=(
        TableInfo("cars", (
            col("car_id", "bigint", pk=True), col("model", "text", samples=("golf", "polo")),
            col("horsepower", "text", samples=("150", "90", "110")), col("built", "text", samples=("2001-04-02",)),
            col("maker_code", "text"))),
        TableInfo("makers", (col("code", "bigint", pk=True), col("maker_name", "text", samples=("VW",)))),
    ),
    joins=(JoinEdge("cars", ("maker_code",), "makers", ("code",)),),
)
DIALECTS = ("sqlite", "postgres", "mysql")


def _index(schema: SchemaContext) -> tuple[SchemaIndex, JoinGraph]:
    index = build_index(schema)
    return index, JoinGraph(index, schema)


def _column(index: SchemaIndex, table: str, column: str):  # type: ignore[no-untyped-def]
    found = index.column(table, column)
    assert found is not None
    return found


def _sql(plan: Plan, graph: JoinGraph, dialect: str) -> str:
    return build_sql(conform(plan), graph, dialect)


def test_a_total_of_text_without_numbers_counts_instead() -> None:
    index, graph = _index(SHOP)
    customers = index.table("customers")
    assert customers is not None
    plan = conform(Plan(customers, [Output(_column(index, "customers", "city"), "sum")], [customers]))
    assert plan.outputs[0].aggregate == "count" and "count-text-total" in plan.rules
    assert build_sql(plan, graph, "postgres") == "SELECT COUNT(city) FROM customers"


def test_a_total_of_numbers_held_as_text_is_cast_on_postgresql_only() -> None:
    index, graph = _index(LOOSE)
    cars = index.table("cars")
    assert cars is not None
    plan = conform(Plan(cars, [Output(_column(index, "cars", "horsepower"), "avg")], [cars]))
    assert plan.outputs[0].aggregate == "avg"
    postgres = build_sql(plan, graph, "postgres")
    assert postgres.startswith("SELECT AVG(CAST(CASE WHEN horsepower ~ ") and "DOUBLE PRECISION" in postgres
    assert build_sql(plan, graph, "sqlite") == "SELECT AVG(horsepower) FROM cars"


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_plain_column_beside_an_aggregate_is_grouped(dialect: str) -> None:
    index, graph = _index(SHOP)
    customers, orders = index.table("customers"), index.table("orders")
    assert customers is not None and orders is not None
    link, city = _column(index, "orders", "customer_id"), _column(index, "customers", "city")
    plan = conform(Plan(orders, [Output(city), Output(None, "count")], [orders, customers], group_by=[link]))
    assert plan.group_by == [link, city] and "complete-grouping" in plan.rules
    assert build_sql(plan, graph, dialect).endswith("GROUP BY T1.customer_id, T2.city")


def test_columns_of_a_table_whose_primary_key_is_grouped_stay_bare() -> None:
    index, _ = _index(SHOP)
    customers, orders = index.table("customers"), index.table("orders")
    assert customers is not None and orders is not None
    key, city = _column(index, "customers", "customer_id"), _column(index, "customers", "city")
    plan = conform(Plan(orders, [Output(city), Output(None, "count")], [orders, customers], group_by=[key]))
    assert plan.group_by == [key] and "complete-grouping" not in plan.rules


def test_bare_columns_beside_a_count_without_grouping_are_grouped_by() -> None:
    index, _ = _index(SHOP)
    orders = index.table("orders")
    assert orders is not None
    status = _column(index, "orders", "status")
    plan = conform(Plan(orders, [Output(status), Output(None, "count")], [orders]))
    assert plan.group_by == [status]


def test_a_maximum_beside_bare_columns_is_the_row_with_the_maximum() -> None:
    index, graph = _index(SHOP)
    orders = index.table("orders")
    assert orders is not None
    amount, status = _column(index, "orders", "total_amount"), _column(index, "orders", "status")
    plan = conform(Plan(orders, [Output(amount, "max"), Output(status)], [orders]))
    assert "extreme-row" in plan.rules and not plan.group_by
    assert build_sql(plan, graph, "postgres") == (
        "SELECT total_amount, status FROM orders WHERE NOT total_amount IS NULL ORDER BY total_amount DESC LIMIT 1")


def test_grouping_is_left_alone_when_nothing_is_aggregated() -> None:
    index, _ = _index(SHOP)
    orders = index.table("orders")
    assert orders is not None
    plan = conform(Plan(orders, [Output(_column(index, "orders", "status"))], [orders]))
    assert plan.group_by == [] and plan.rules == []


@pytest.mark.parametrize("dialect", DIALECTS)
def test_a_number_compared_with_a_text_column_is_written_as_text(dialect: str) -> None:
    index, graph = _index(LOOSE)
    cars = index.table("cars")
    assert cars is not None
    plan = Plan(cars, [Output(_column(index, "cars", "model"))], [cars],
                conditions=[Condition(_column(index, "cars", "horsepower"), ">", (150,))])
    assert _sql(plan, graph, dialect).endswith("WHERE horsepower > '150'")


@pytest.mark.parametrize(("dialect", "where"), [
    ("postgres", "WHERE EXTRACT(YEAR FROM order_date) = 2023"), ("mysql", "WHERE YEAR(order_date) = 2023"),
    ("sqlite", "WHERE order_date = 2023")])
def test_a_year_compared_with_a_date_column_compares_its_year(dialect: str, where: str) -> None:
    index, graph = _index(SHOP)
    orders = index.table("orders")
    assert orders is not None
    plan = Plan(orders, [Output(None, "count")], [orders],
                conditions=[Condition(_column(index, "orders", "order_date"), "=", (2023,))])
    assert _sql(plan, graph, dialect).endswith(where)


def test_text_that_is_no_number_against_a_number_column_compares_as_text_on_servers() -> None:
    index, graph = _index(SHOP)
    orders = index.table("orders")
    assert orders is not None
    plan = Plan(orders, [Output(None, "count")], [orders],
                conditions=[Condition(_column(index, "orders", "total_amount"), "=", ("high",))])
    assert _sql(plan, graph, "postgres").endswith("WHERE CAST(total_amount AS TEXT) = 'high'")
    assert _sql(plan, graph, "sqlite").endswith("WHERE total_amount = 'high'")


def test_like_on_a_number_column_casts_it_to_text_on_postgresql() -> None:
    index, graph = _index(SHOP)
    products = index.table("products")
    assert products is not None
    plan = Plan(products, [Output(_column(index, "products", "name"))], [products],
                conditions=[Condition(_column(index, "products", "price"), "like", ("%9%",))])
    assert _sql(plan, graph, "postgres").endswith("WHERE CAST(price AS TEXT) LIKE '%9%'")


@pytest.mark.parametrize(("dialect", "on"), [
    ("postgres", "ON T1.maker_code = CAST(T2.code AS TEXT)"), ("mysql", "ON T1.maker_code = CAST(T2.code AS CHAR)"),
    ("sqlite", "ON T1.maker_code = T2.code")])
def test_a_join_of_text_with_a_number_compares_as_text_outside_sqlite(dialect: str, on: str) -> None:
    index, graph = _index(LOOSE)
    cars, makers = index.table("cars"), index.table("makers")
    assert cars is not None and makers is not None
    plan = Plan(cars, [Output(_column(index, "makers", "maker_name"))], [cars, makers])
    assert on in _sql(plan, graph, dialect)


def test_a_period_of_a_date_held_as_text_is_cast_on_postgresql() -> None:
    index, graph = _index(LOOSE)
    cars = index.table("cars")
    assert cars is not None
    built = _column(index, "cars", "built")
    plan = Plan(cars, [Output(built, period="year"), Output(None, "count")], [cars],
                periods=[Output(built, period="year")])
    assert "TO_CHAR(CAST(built AS TIMESTAMP), 'YYYY')" in _sql(plan, graph, "postgres")
    assert "STRFTIME('%Y', built)" in _sql(plan, graph, "sqlite")


def test_names_run_together_in_lower_case_split_into_the_schemas_words() -> None:
    schema = SchemaContext(tables=(
        TableInfo("countries", (col("countryid", "bigint", pk=True), col("countryname"), col("horsepower"))),
        TableInfo("pets", (col("petid", "bigint", pk=True), col("pettype"))),
    ))
    index = build_index(schema)
    assert _column(index, "countries", "countryname").words == ("country", "name")
    assert _column(index, "countries", "countryid").words == ("country", "id")
    assert _column(index, "pets", "pettype").words == ("pet", "type")
    assert _column(index, "countries", "horsepower").words == ("horsepower",)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_the_generator_groups_every_shown_column_or_its_key(dialect: str) -> None:
    sql = TemplateGenerator().generate_sync(
        ask("Show each customer's city and the number of orders for each customer", dialect=dialect)).candidates[0].sql
    select, _, group = sql.partition("GROUP BY")
    assert group, sql
    shown = [c.strip() for c in select.removeprefix("SELECT ").split(" FROM ")[0].split(",") if "(" not in c]
    assert shown and all(c in group or f"{c.split('.')[0]}.customer_id" in group for c in shown), sql


def test_a_question_for_one_figure_leaves_out_columns_beside_it() -> None:
    index, graph = _index(SHOP)
    orders = index.table("orders")
    assert orders is not None
    status = _column(index, "orders", "status")
    plan = Plan(orders, [Output(status), Output(None, "count")], [orders], aggregate_first=True)
    assert _sql(plan, graph, "postgres") == "SELECT COUNT(*) FROM orders"
    assert "one-figure" in plan.rules


def test_a_column_shown_beside_its_own_aggregate_is_left_out() -> None:
    index, graph = _index(SHOP)
    customers = index.table("customers")
    assert customers is not None
    city = _column(index, "customers", "city")
    plan = Plan(customers, [Output(city, "count", distinct=True), Output(city)], [customers])
    assert _sql(plan, graph, "mysql") == "SELECT COUNT(DISTINCT city) FROM customers"


@pytest.mark.parametrize(("question", "sql"), [
    ("How many orders have status shipped?", "SELECT COUNT(*) FROM orders WHERE status = 'shipped'"),
    ("What is the average price of products for each category?",
     "SELECT category, AVG(price) FROM products GROUP BY category"),
])
def test_one_figure_or_a_group_is_read_from_the_question(question: str, sql: str) -> None:
    assert TemplateGenerator().generate_sync(ask(question, dialect="postgres")).candidates[0].sql == sql


def test_names_run_together_split_into_english_words_when_the_schema_has_none_of_them() -> None:
    schema = SchemaContext(tables=(TableInfo("country", (
        col("code", pk=True), col("lifeexpectancy", "double"), col("headofstate"), col("edispl"))),))
    index = build_index(schema)
    assert _column(index, "country", "lifeexpectancy").words == ("life", "expectancy")
    assert _column(index, "country", "headofstate").words == ("head", "of", "state")
    assert _column(index, "country", "edispl").words == ("edispl",)


def test_an_average_of_a_date_is_taken_in_seconds_on_postgresql() -> None:
    index, graph = _index(SHOP)
    orders = index.table("orders")
    assert orders is not None
    plan = Plan(orders, [Output(_column(index, "orders", "order_date"), "avg")], [orders])
    assert _sql(plan, graph, "postgres") == "SELECT AVG(EXTRACT(EPOCH FROM order_date)) FROM orders"
    assert _sql(plan, graph, "mysql") == "SELECT AVG(order_date) FROM orders"
