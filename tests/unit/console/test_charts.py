"""Chart picking from a result's shape, and typed cell formatting."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from chatdb_client import Chart, Column
from chatdb_console.cells import format_cell
from chatdb_console.charts import MAX_POINTS, chart_from_suggestion, pick_chart


def col(name: str, kind: str) -> Column:
    return Column(name, kind, kind.lower())


CITY_COUNTS = [("Paris", 4), ("Lyon", 2), ("Nice", 1)]


def test_a_few_categories_sharing_a_measure_are_a_pie() -> None:
    chart = pick_chart([col("city", "STRING"), col("orders", "INTEGER")], CITY_COUNTS)
    assert chart is not None and chart.type == "pie"
    assert chart.labels == ["Paris", "Lyon", "Nice"]
    assert chart.datasets[0].label == "orders" and chart.datasets[0].data == [4.0, 2.0, 1.0]


def test_many_categories_are_bars() -> None:
    rows = [(f"city {i}", i) for i in range(10)]
    chart = pick_chart([col("city", "STRING"), col("orders", "INTEGER")], rows)
    assert chart is not None and chart.type == "bar"


def test_negative_measures_are_bars_not_a_pie() -> None:
    chart = pick_chart([col("city", "STRING"), col("balance", "DECIMAL")], [("a", Decimal("-1.5")), ("b", 2)])
    assert chart is not None and chart.type == "bar"
    assert chart.datasets[0].data == [-1.5, 2.0]


def test_several_measures_are_grouped_bars() -> None:
    chart = pick_chart([col("status", "STRING"), col("orders", "INTEGER"), col("total", "DOUBLE")],
                       [("paid", 3, 10.5), ("open", 1, 2.0)])
    assert chart is not None and chart.type == "bar"
    assert [d.label for d in chart.datasets] == ["orders", "total"]


def test_a_measure_over_time_is_a_line_in_time_order() -> None:
    rows = [(dt.date(2024, 3, 1), 5), (dt.date(2024, 1, 1), 3), (dt.date(2024, 2, 1), 4)]
    chart = pick_chart([col("month", "DATE"), col("orders", "INTEGER")], rows)
    assert chart is not None and chart.type == "line"
    assert chart.labels == ["2024-01-01", "2024-02-01", "2024-03-01"]
    assert chart.datasets[0].data == [3.0, 4.0, 5.0]


@pytest.mark.parametrize(("columns", "rows"), [
    pytest.param([col("n", "INTEGER")], [(1,), (2,)], id="no_labels"),
    pytest.param([col("name", "STRING"), col("email", "STRING")], [("a", "b"), ("c", "d")], id="no_measure"),
    pytest.param([col("city", "STRING"), col("orders", "INTEGER")], [("Paris", 4)], id="one_row"),
    pytest.param([col("city", "STRING"), col("orders", "INTEGER")],
                 [(f"c{i}", i) for i in range(MAX_POINTS + 1)], id="too_many_points"),
])
def test_shapes_without_a_fitting_chart_stay_a_table(columns: list[Column], rows: list[tuple]) -> None:
    assert pick_chart(columns, rows) is None


def test_the_chartjs_spec_carries_labels_and_data() -> None:
    chart = pick_chart([col("city", "STRING"), col("orders", "INTEGER")], CITY_COUNTS)
    assert chart is not None
    spec = chart.to_chartjs()
    assert spec["type"] == "pie" and spec["labels"] == ["Paris", "Lyon", "Nice"]
    assert spec["datasets"][0]["data"] == [4.0, 2.0, 1.0]
    assert len(spec["datasets"][0]["backgroundColor"]) == 3


@pytest.mark.parametrize(("value", "text", "kind"), [
    pytest.param(None, "NULL", "null", id="null"),
    pytest.param(1234567, "1,234,567", "number", id="integer"),
    pytest.param(Decimal("1234.50"), "1,234.50", "number", id="decimal"),
    pytest.param(True, "true", "", id="bool"),
    pytest.param(dt.date(2024, 5, 1), "2024-05-01", "", id="date"),
    pytest.param(b"\x00\x01", "<2 bytes>", "", id="bytes"),
    pytest.param({"a": 1}, '{"a": 1}', "", id="json"),
])
def test_cells_are_formatted_by_type(value: object, text: str, kind: str) -> None:
    assert format_cell(value) == (text, kind)


def test_long_text_is_cut() -> None:
    assert format_cell("x" * 1000).text.endswith("…")


def test_the_servers_suggestion_is_drawn_as_given() -> None:
    columns = [col("city", "STRING"), col("orders", "INTEGER")]
    chart = chart_from_suggestion(Chart("BAR", "city", ["orders"]), columns, CITY_COUNTS)
    assert chart is not None and chart.type == "bar" and chart.labels == ["Paris", "Lyon", "Nice"]
    assert chart.datasets[0].data == [4.0, 2.0, 1.0]
    assert chart_from_suggestion(Chart("TABLE"), columns, CITY_COUNTS) is None
    assert chart_from_suggestion(Chart("BAR", "town", ["orders"]), columns, CITY_COUNTS) is None


def test_a_series_column_splits_the_measure_into_datasets() -> None:
    columns = [col("day", "DATE"), col("status", "STRING"), col("n", "INTEGER")]
    rows = [(dt.date(2024, 1, 2), "paid", 3), (dt.date(2024, 1, 1), "paid", 1), (dt.date(2024, 1, 1), "open", 2)]
    chart = chart_from_suggestion(Chart("LINE", "day", ["n"], "status"), columns, rows)
    assert chart is not None and chart.type == "line" and chart.labels == ["2024-01-01", "2024-01-02"]
    assert {d.label: d.data for d in chart.datasets} == {"paid": [1.0, 3.0], "open": [2.0, None]}
