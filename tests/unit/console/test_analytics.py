"""History analytics from Query records; the join-graph picture."""

from __future__ import annotations

import datetime as dt

from google.protobuf import duration_pb2, timestamp_pb2

from chatdb.common.v1 import join_pb2
from chatdb.query.v1 import query_pb2
from chatdb_console.analytics import analyse, outcome, percentile, tables_in
from chatdb_console.graph import lay_out

START = dt.datetime(2024, 5, 1, 9, tzinfo=dt.UTC)


def query(minutes: int, sql: str = "SELECT 1", failed_reason: str = "", ms: int = 10,
          rating: int = query_pb2.FEEDBACK_RATING_UNSPECIFIED) -> query_pb2.Query:
    created = timestamp_pb2.Timestamp()
    created.FromDatetime(START + dt.timedelta(minutes=minutes))
    return query_pb2.Query(
        sql=sql, create_time=created,
        state=query_pb2.QUERY_STATE_FAILED if failed_reason else query_pb2.QUERY_STATE_SUCCEEDED,
        error_reason=failed_reason, timings=query_pb2.Timings(total=duration_pb2.Duration(nanos=ms * 1_000_000)),
        feedback=query_pb2.Feedback(rating=rating))


def test_outcomes_tell_refusals_from_failures() -> None:
    assert outcome(query(0)) == "answered"
    assert outcome(query(0, failed_reason="UNSAFE_SQL")) == "refused"
    assert outcome(query(0, failed_reason="SOURCE_UNREACHABLE")) == "failed"


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 90) == 90.0
    assert percentile(values, 99) == 99.0
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 50) == 0.0


def test_tables_are_found_as_whole_identifiers() -> None:
    known = {"orders", "customers", "order_items"}
    assert tables_in('SELECT * FROM "orders" JOIN customers ON 1=1', known) == {"orders", "customers"}
    assert tables_in("SELECT order_items_count FROM x", known) == set()


def test_analytics_of_a_window() -> None:
    queries = [
        query(0, "SELECT count(*) FROM orders", ms=10, rating=query_pb2.FEEDBACK_RATING_CORRECT),
        query(5, "SELECT * FROM orders JOIN customers", ms=30),
        query(70, "SELECT name FROM customers", ms=20, rating=query_pb2.FEEDBACK_RATING_INCORRECT),
        query(80, "DELETE FROM orders", failed_reason="UNSAFE_SQL"),
    ]
    numbers = analyse(list(reversed(queries)), ["orders", "customers", "products"])
    assert (numbers.total, numbers.answered, numbers.refused, numbers.failed) == (4, 3, 1, 0)
    assert numbers.rate(numbers.answered) == "75%"
    assert numbers.latency_ms == {50: 20.0, 90: 30.0, 99: 30.0}
    over_time, outcomes, latency, tables, feedback = numbers.charts
    assert over_time.type == "line" and over_time.labels == ["2024-05-01 09:00", "2024-05-01 10:00"]
    assert over_time.datasets[0].data == [2, 2]
    assert outcomes.datasets[0].data == [3, 1, 0]
    assert latency.labels == ["p50", "p90", "p99"]
    assert tables.labels == ["orders", "customers"] and tables.datasets[0].data == [3, 2]
    assert [d.data for d in feedback.datasets] == [[1, 0], [0, 1]]


def test_analytics_of_nothing() -> None:
    numbers = analyse([], [])
    assert numbers.total == 0 and numbers.rate(0) == "n/a"
    assert numbers.charts[0].labels == []


def test_the_join_graph_tells_declared_from_inferred() -> None:
    edges = [
        join_pb2.JoinEdge(from_table="orders", from_columns=["customer_id"], to_table="customers", to_columns=["id"],
                          kind=join_pb2.JOIN_EDGE_KIND_DECLARED),
        join_pb2.JoinEdge(from_table="reviews", from_columns=["product_id"], to_table="products", to_columns=["id"],
                          kind=join_pb2.JOIN_EDGE_KIND_INFERRED, confidence=0.8),
    ]
    picture = lay_out(["customers", "orders", "products", "reviews", "lonely"], edges)
    assert [n.name for n in picture.nodes] == ["customers", "lonely", "orders", "products", "reviews"]
    assert (picture.declared_count, picture.inferred_count) == (1, 1)
    assert picture.edges[0].declared and "declared foreign key" in picture.edges[0].title
    assert not picture.edges[1].declared and "confidence 0.80" in picture.edges[1].title
    assert all(0 <= n.x <= picture.width and 0 <= n.y <= picture.height for n in picture.nodes)
    assert len({(n.x, n.y) for n in picture.nodes}) == 5

