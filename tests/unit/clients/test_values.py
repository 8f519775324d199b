"""Typed values: wire form to Python and back, and the result objects built from replies."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from google.protobuf import struct_pb2, timestamp_pb2

from chatdb.common.v1 import degradation_pb2, value_pb2
from chatdb.query.v1 import query_pb2, query_service_pb2
from chatdb_client import AskResult, DegradationLevel, QueryResult, from_value, to_value
from chatdb_client.values import from_row, to_row

ROUND_TRIP = [
    None,
    0,
    -(2**63),
    2**63 - 1,
    1.5,
    Decimal("12.50"),
    Decimal("-0.000001"),
    True,
    False,
    "",
    "naïve café ☕",
    b"\x00\xffbinary",
    dt.datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=dt.UTC),
    dt.date(1999, 12, 31),
    dt.time(13, 45, 0),
    dt.time(8, 5, 7, 250000),
    {"a": [1, 2, {"b": None}], "ok": True},
    [1, "two", 3.0],
]


@pytest.mark.parametrize("python", ROUND_TRIP, ids=repr)
def test_every_type_round_trips_with_its_type(python: object) -> None:
    back = from_value(value_pb2.Value.FromString(to_value(python).SerializeToString()))
    assert back == python
    assert type(back) is type(python)


def test_wire_kinds_are_the_typed_ones() -> None:
    assert to_value(None).WhichOneof("kind") == "null_value"
    assert to_value(True).WhichOneof("kind") == "bool_value"
    assert to_value(7).WhichOneof("kind") == "int_value"
    assert to_value(Decimal("1.10")).decimal_value == "1.10"
    assert to_value(dt.date(2020, 1, 2)).date_value == value_pb2.Date(year=2020, month=1, day=2)
    assert to_value({"k": 1}).WhichOneof("kind") == "json_value"


def test_integers_beyond_int64_travel_as_decimals_and_come_back_exact() -> None:
    huge = 2**70 + 1
    wire = to_value(huge)
    assert wire.decimal_value == str(huge)
    assert from_value(wire) == Decimal(huge)


def test_timestamps_come_back_as_aware_utc() -> None:
    stamp = timestamp_pb2.Timestamp(seconds=1_700_000_000, nanos=5_000)
    value = from_value(value_pb2.Value(timestamp_value=stamp))
    assert value == dt.datetime(2023, 11, 14, 22, 13, 20, 5, tzinfo=dt.UTC)
    assert value.utcoffset() == dt.timedelta(0)


def test_zoned_and_naive_datetimes_are_sent_as_the_same_instant_in_utc() -> None:
    plus_two = dt.timezone(dt.timedelta(hours=2))
    zoned = to_value(dt.datetime(2024, 1, 1, 12, 0, tzinfo=plus_two))
    naive = to_value(dt.datetime(2024, 1, 1, 10, 0))
    assert zoned.timestamp_value == naive.timestamp_value
    assert from_value(zoned) == dt.datetime(2024, 1, 1, 10, 0, tzinfo=dt.UTC)


def test_an_unset_value_reads_as_null() -> None:
    assert from_value(value_pb2.Value()) is None
    assert from_value(value_pb2.Value(null_value=struct_pb2.NULL_VALUE)) is None


def test_unsupported_python_types_are_refused() -> None:
    with pytest.raises(TypeError, match="set"):
        to_value({1, 2})


def test_rows_keep_column_order() -> None:
    row = to_row([1, "a", None])
    assert from_row(row) == (1, "a", None)


def _columns() -> list[value_pb2.ResultColumn]:
    return [
        value_pb2.ResultColumn(name="id", type=value_pb2.VALUE_TYPE_INTEGER, database_type="INTEGER"),
        value_pb2.ResultColumn(name="total", type=value_pb2.VALUE_TYPE_DECIMAL, database_type="NUMERIC(10,2)"),
    ]


def test_execute_sql_reply_becomes_a_query_result_with_python_rows() -> None:
    reply = query_service_pb2.ExecuteSqlResponse(
        query="dataSources/shop/queries/q1", sql="SELECT id, total FROM orders LIMIT 1000",
        columns=_columns(), rows=[to_row([1, Decimal("9.99")]), to_row([2, None])], row_count=2,
        warnings=["LIMIT 1000 added"], degradation_level=degradation_pb2.DEGRADATION_LEVEL_NO_DATABASE,
        served_by=query_pb2.SERVED_BY_CACHE, stale=True)
    result = QueryResult.from_proto(reply)
    assert result.rows == [(1, Decimal("9.99")), (2, None)]
    assert [(c.name, c.type, c.database_type) for c in result.columns] == [
        ("id", "INTEGER", "INTEGER"), ("total", "DECIMAL", "NUMERIC(10,2)")]
    assert result.records() == [{"id": 1, "total": Decimal("9.99")}, {"id": 2, "total": None}]
    assert result.degradation_level is DegradationLevel.NO_DATABASE
    assert result.degradation_level == 3
    assert result.served_by == "CACHE"
    assert result.stale and result.warnings == ["LIMIT 1000 added"]
    assert result.raw is reply


def test_ask_reply_becomes_an_ask_result() -> None:
    reply = query_service_pb2.AskResponse(
        query="dataSources/shop/queries/q2", sql="SELECT COUNT(*) FROM customers", explanation="counts customers",
        confidence=0.8, columns=[value_pb2.ResultColumn(name="n", type=value_pb2.VALUE_TYPE_INTEGER)],
        rows=[to_row([42])], row_count=1, executed=True, model="template",
        retrieved_tables=[query_pb2.RetrievedTable(table="customers", score=0.9),
                          query_pb2.RetrievedTable(table="orders", score=0.4)],
        degradation_level=degradation_pb2.DEGRADATION_LEVEL_FULL, served_by=query_pb2.SERVED_BY_TEMPLATE)
    result = AskResult.from_proto(reply)
    assert (result.sql, result.rows, result.column_names) == ("SELECT COUNT(*) FROM customers", [(42,)], ["n"])
    assert result.degradation_level is DegradationLevel.FULL
    assert result.retrieved_tables == ["customers", "orders"]
    assert result.served_by == "TEMPLATE" and result.model == "template" and result.executed
    assert result.cached_time is None
    assert result.answer_text == "" and result.chart is None and not result.low_confidence


def test_ask_result_lifts_the_sentence_chart_and_low_confidence_reply() -> None:
    answered = AskResult.from_proto(query_service_pb2.AskResponse(
        answer_text="Paris has the most customers: 4.", chart=query_pb2.ChartSuggestion(
            type=query_pb2.CHART_TYPE_PIE, x_column="city", y_columns=["n"])))
    refused = AskResult.from_proto(query_service_pb2.AskResponse(
        low_confidence=True, answer_text="I could not answer this reliably.",
        suggested_question="How many orders are there?"))
    assert answered.answer_text == "Paris has the most customers: 4."
    assert answered.chart is not None and (answered.chart.type, answered.chart.x_column, answered.chart.y_columns,
                                           answered.chart.series_column) == ("PIE", "city", ["n"], "")
    assert refused.low_confidence and refused.suggested_question == "How many orders are there?"


def test_degradation_levels_are_numbered_as_documented() -> None:
    assert DegradationLevel.from_proto(degradation_pb2.DEGRADATION_LEVEL_UNSPECIFIED) is None
    assert [DegradationLevel.from_proto(v) for v in (1, 2, 3, 4, 5)] == list(DegradationLevel)
    assert DegradationLevel.from_proto(degradation_pb2.DEGRADATION_LEVEL_CRITICAL) == 4
