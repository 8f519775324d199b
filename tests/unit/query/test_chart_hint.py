"""Chart suggestions from a result's shape: line over time, bars, pie for parts of a whole, table otherwise."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from chatdb_server.query.chart_hint import ChartHint, ChartType, chart_hint
from chatdb_server.query.sql_shape import sql_shape
from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.values import ResultColumn


def hint(sql: str, columns: list[tuple[str, str]], rows: list[tuple[Any, ...]]) -> ChartHint:
    return chart_hint([ResultColumn(name, kind) for name, kind in columns], rows, sql_shape(sql, Dialect.SQLITE))


CITIES = [("Berlin", 3), ("Paris", 5), ("Leeds", 1)]


@pytest.mark.parametrize(("sql", "columns", "rows", "expected"), [
    pytest.param("SELECT city, COUNT(*) AS n FROM customers GROUP BY city", [("city", "STRING"), ("n", "INTEGER")],
                 CITIES, ChartHint(ChartType.PIE, "city", ("n",)), id="few_counts_pie"),
    pytest.param("SELECT city, SUM(total) AS s FROM orders GROUP BY city", [("city", "STRING"), ("s", "DECIMAL")],
                 [(c, Decimal(n)) for c, n in CITIES], ChartHint(ChartType.PIE, "city", ("s",)), id="few_sums_pie"),
    pytest.param("SELECT city, AVG(total) AS a FROM orders GROUP BY city", [("city", "STRING"), ("a", "DECIMAL")],
                 [(c, Decimal(n)) for c, n in CITIES], ChartHint(ChartType.BAR, "city", ("a",)),
                 id="averages_are_not_parts_bar"),
    pytest.param("SELECT city, COUNT(*) AS n FROM customers GROUP BY city", [("city", "STRING"), ("n", "INTEGER")],
                 [(f"c{i}", i) for i in range(10)], ChartHint(ChartType.BAR, "city", ("n",)), id="many_counts_bar"),
    pytest.param("SELECT name, price FROM products", [("name", "STRING"), ("price", "DECIMAL")],
                 [("a", Decimal(1)), ("b", Decimal(2))], ChartHint(ChartType.BAR, "name", ("price",)),
                 id="plain_values_bar"),
    pytest.param("SELECT day, SUM(total) AS s FROM orders GROUP BY day", [("day", "DATE"), ("s", "DECIMAL")],
                 [(dt.date(2024, 1, i), Decimal(i)) for i in range(1, 5)],
                 ChartHint(ChartType.LINE, "day", ("s",)), id="time_line"),
    pytest.param("SELECT day, status, COUNT(*) AS n FROM orders GROUP BY day, status",
                 [("day", "TIMESTAMP"), ("status", "STRING"), ("n", "INTEGER")],
                 [(dt.datetime(2024, 1, i), s, i) for i in range(1, 4) for s in ("paid", "open")],
                 ChartHint(ChartType.LINE, "day", ("n",), "status"), id="time_line_with_series"),
    pytest.param("SELECT city, status, COUNT(*) AS n FROM orders GROUP BY city, status",
                 [("city", "STRING"), ("status", "STRING"), ("n", "INTEGER")],
                 [("a", "paid", 1), ("a", "open", 2), ("b", "paid", 3)],
                 ChartHint(ChartType.BAR, "city", ("n",), "status"), id="two_categories_bar_series"),
    pytest.param("SELECT COUNT(*) FROM customers", [("n", "INTEGER")], [(120,)], ChartHint(ChartType.TABLE),
                 id="single_value_table"),
    pytest.param("SELECT name, email FROM customers", [("name", "STRING"), ("email", "STRING")],
                 [("a", "x"), ("b", "y")], ChartHint(ChartType.TABLE), id="no_measure_table"),
    pytest.param("SELECT id, price FROM products", [("id", "INTEGER"), ("price", "DECIMAL")],
                 [(1, Decimal(2)), (2, Decimal(3))], ChartHint(ChartType.BAR, "id", ("price",)),
                 id="ids_label_not_measure"),
    pytest.param("SELECT a, b, c, d, e FROM t", [(n, "INTEGER") for n in "abcde"], [(1, 2, 3, 4, 5)] * 3,
                 ChartHint(ChartType.TABLE), id="many_columns_table"),
    pytest.param("SELECT name, price FROM products", [("name", "STRING"), ("price", "DECIMAL")],
                 [(f"p{i}", Decimal(i)) for i in range(150)], ChartHint(ChartType.TABLE), id="too_many_points"),
    pytest.param("SELECT price, cost FROM products", [("price", "DECIMAL"), ("cost", "DECIMAL")],
                 [(Decimal(1), Decimal(2)), (Decimal(3), Decimal(4))], ChartHint(ChartType.TABLE),
                 id="no_category_table"),
])
def test_chart_per_shape(sql: str, columns: list[tuple[str, str]], rows: list[tuple[Any, ...]],
                         expected: ChartHint) -> None:
    assert hint(sql, columns, rows) == expected


def test_a_pie_needs_distinct_non_negative_slices() -> None:
    columns = [("city", "STRING"), ("n", "INTEGER")]
    sql = "SELECT city, SUM(delta) AS n FROM moves GROUP BY city"
    assert hint(sql, columns, [("a", 3), ("b", -1)]).type is ChartType.BAR
    assert hint(sql, columns, [("a", 3), ("a", 1)]).type is ChartType.BAR
