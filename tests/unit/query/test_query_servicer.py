"""QueryService RPCs through grpcio-testing over the real domain: happy paths, and every kind of bad
input with its status code and ErrorInfo reason (never INTERNAL)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf import duration_pb2

from chatdb.common.v1 import degradation_pb2, dialect_pb2, value_pb2
from chatdb.query.v1 import query_pb2, query_service_pb2
from chatdb.query.v1 import query_service_pb2 as pb
from tests.support.grpc_unit import UnitServer, bad_request_fields, error_info
from tests.unit.query.test_pipeline_support import QueryStack, open_query_stack

DESCRIPTOR = query_service_pb2.DESCRIPTOR.services_by_name["QueryService"]
SHOP = "dataSources/shop"


@dataclass
class Unit:
    server: UnitServer
    stack: QueryStack
    loop: asyncio.AbstractEventLoop

    def call(self, method: str, request: Any, metadata: tuple[tuple[str, str], ...] = ()) -> tuple[Any, ...]:
        return self.server.unary(method, request, metadata)

    def ok(self, method: str, request: Any) -> Any:
        response, code, details, _ = self.call(method, request)
        assert code is grpc.StatusCode.OK, details
        return response


@pytest.fixture(scope="module")
def unit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Unit]:
    loop = asyncio.new_event_loop()
    stack = loop.run_until_complete(open_query_stack(tmp_path_factory.mktemp("servicer")))
    try:
        yield Unit(UnitServer(DESCRIPTOR, stack.servicer, loop), stack, loop)
    finally:
        loop.run_until_complete(stack.close())
        loop.close()


def test_ask_replies_with_every_field(unit: Unit) -> None:
    reply = unit.ok("Ask", pb.AskRequest(parent=SHOP, question="How many orders were placed in each city?",
                                         options=query_pb2.AskOptions(max_rows=5)))
    assert reply.query.startswith(f"{SHOP}/queries/")
    assert reply.sql.startswith("SELECT") and reply.explanation and 0 < reply.confidence <= 1
    assert reply.retrieved_tables and reply.tables_used
    assert [c.type for c in reply.columns] == [value_pb2.VALUE_TYPE_STRING, value_pb2.VALUE_TYPE_INTEGER]
    assert reply.row_count == len(reply.rows) == 5 and reply.truncated and reply.sql.endswith(" LIMIT 5")
    assert reply.rows[0].values[1].WhichOneof("kind") == "int_value"
    assert reply.timings.total.ToNanoseconds() >= reply.timings.execution.ToNanoseconds() > 0
    assert reply.degradation_level == degradation_pb2.DEGRADATION_LEVEL_FULL
    assert reply.served_by == query_pb2.SERVED_BY_TEMPLATE and reply.model == "template"
    assert reply.executed and not reply.stale
    got = unit.ok("GetQuery", pb.GetQueryRequest(name=reply.query)).query
    assert (got.sql, got.row_count, got.state) == (reply.sql, 5, query_pb2.QUERY_STATE_SUCCEEDED)


def test_ask_shows_the_row_cap_asked_for_while_truncation_is_still_detected(unit: Unit) -> None:
    def ask(max_rows: int) -> Any:
        return unit.ok("Ask", pb.AskRequest(parent=SHOP, question="How many orders were placed in each city?",
                                            options=query_pb2.AskOptions(max_rows=max_rows)))

    every = ask(1000)
    cities = every.row_count
    assert cities > 2 and not every.truncated and every.sql.endswith(" LIMIT 1000")
    exact, cut = ask(cities), ask(cities - 1)
    assert exact.sql.endswith(f" LIMIT {cities}") and exact.row_count == cities and not exact.truncated
    assert cut.sql.endswith(f" LIMIT {cities - 1}") and cut.row_count == cities - 1 and cut.truncated
    assert unit.ok("GetQuery", pb.GetQueryRequest(name=cut.query)).query.sql == cut.sql
    # The caller's own LIMIT of the same size runs as written: nothing was cut, and its result does not
    # take the place of the capped one in the result cache.
    own = unit.ok("ExecuteSql", pb.ExecuteSqlRequest(parent=SHOP, sql=cut.sql, max_rows=cities - 1))
    assert own.sql == cut.sql and own.row_count == cities - 1 and not own.truncated
    again = ask(cities - 1)
    assert again.served_by == query_pb2.SERVED_BY_CACHE and again.sql == cut.sql and again.truncated


def test_validate_sql_shows_the_default_row_cap(unit: Unit) -> None:
    reply = unit.ok("ValidateSql", pb.ValidateSqlRequest(parent=SHOP, sql="SELECT COUNT(*) FROM customers"))
    default_rows = unit.stack.execution.limits(0, None).max_rows
    assert reply.valid and reply.sql == f"SELECT COUNT(*) FROM customers LIMIT {default_rows}"


def test_stream_ask_sends_stages_then_batches_then_the_summary(unit: Unit) -> None:
    responses, code, details, _ = unit.server.stream("StreamAsk", pb.StreamAskRequest(
        parent=SHOP, question="How many orders were placed in each city?", batch_size=4))
    assert code is grpc.StatusCode.OK, details
    kinds = [r.WhichOneof("event") for r in responses]
    stages = [r.stage.stage for r in responses if r.HasField("stage")]
    assert stages == [pb.ASK_STAGE_RETRIEVED, pb.ASK_STAGE_GENERATED, pb.ASK_STAGE_EXECUTED]
    assert kinds[:3] == ["stage"] * 3 and kinds[-1] == "summary" and set(kinds[3:-1]) == {"rows"}
    batches = [r.rows.rows for r in responses if r.HasField("rows")]
    summary = responses[-1].summary
    assert all(len(b) <= 4 for b in batches) and sum(len(b) for b in batches) == summary.row_count > 4
    assert not summary.rows and summary.columns and summary.sql == responses[1].stage.sql
    assert responses[0].stage.retrieved_tables and responses[2].stage.columns


def test_execute_sql_runs_caller_sql(unit: Unit) -> None:
    reply = unit.ok("ExecuteSql", pb.ExecuteSqlRequest(parent=SHOP, sql="select name, price from products",
                                                       max_rows=3))
    assert reply.served_by == query_pb2.SERVED_BY_CALLER_SQL and reply.row_count == 3 and reply.truncated
    assert "LIMIT" in reply.sql.upper() and reply.warnings
    assert reply.columns[1].type == value_pb2.VALUE_TYPE_DOUBLE  # SQLite stores NUMERIC prices as REAL
    assert reply.rows[0].values[1].WhichOneof("kind") == "double_value"


def test_validate_sql_explains_refusals_without_an_error(unit: Unit) -> None:
    good = unit.ok("ValidateSql", pb.ValidateSqlRequest(parent=SHOP, sql="SELECT name FROM customers"))
    assert good.valid and good.tables == ["customers"] and good.dialect == dialect_pb2.DIALECT_SQLITE
    bad = unit.ok("ValidateSql", pb.ValidateSqlRequest(parent=SHOP, sql="DELETE FROM customers; SELECT 1"))
    assert not bad.valid and not bad.sql and bad.violations
    assert {v.reason for v in bad.violations} & {"MULTIPLE_STATEMENTS", "NOT_SELECT", "WRITES_DATA"}


def test_list_queries_newest_first_with_pages(unit: Unit) -> None:
    names = [unit.ok("ExecuteSql", pb.ExecuteSqlRequest(parent=SHOP, sql=f"SELECT {i} FROM customers")).query
             for i in range(3)]
    first = unit.ok("ListQueries", pb.ListQueriesRequest(parent=SHOP, page_size=2))
    assert [q.name for q in first.queries] == names[::-1][:2] and first.next_page_token
    second = unit.ok("ListQueries", pb.ListQueriesRequest(parent=SHOP, page_size=2,
                                                          page_token=first.next_page_token))
    assert second.queries[0].name == names[0]


def test_feedback_makes_a_golden_example(unit: Unit) -> None:
    asked = unit.ok("Ask", pb.AskRequest(parent=SHOP, question="How many customers are there?"))
    reply = unit.ok("SubmitFeedback", pb.SubmitFeedbackRequest(
        name=asked.query, rating=query_pb2.FEEDBACK_RATING_CORRECT, comment="right"))
    feedback = reply.query.feedback
    assert feedback.rating == query_pb2.FEEDBACK_RATING_CORRECT and feedback.comment == "right"
    assert feedback.example.startswith(f"{SHOP}/examples/")
    examples, _ = unit.loop.run_until_complete(unit.stack.training.service.examples.list_examples(
        unit.stack.source, 0, 10))
    stored = {e.name: e for e in examples}[feedback.example]
    assert (stored.question, stored.origin) == ("How many customers are there?", "FEEDBACK")
    corrected = unit.ok("SubmitFeedback", pb.SubmitFeedbackRequest(
        name=asked.query, rating=query_pb2.FEEDBACK_RATING_INCORRECT, corrected_sql="SELECT COUNT(id) FROM customers"))
    assert corrected.query.feedback.corrected_sql == "SELECT COUNT(id) FROM customers"
    assert corrected.query.feedback.example != feedback.example


def test_system_status_lists_dependencies(unit: Unit) -> None:
    reply = unit.ok("GetSystemStatus", pb.GetSystemStatusRequest())
    assert reply.degradation_level == degradation_pb2.DEGRADATION_LEVEL_FULL
    names = {d.name: d for d in reply.dependencies}
    assert {"metadata", "prediction", "training"} <= set(names)
    assert names["prediction"].breaker_state == "closed" and names["metadata"].healthy
    assert reply.check_time.seconds > 0


QUERY = f"{SHOP}/queries/qdoesnotexist"
BAD_INPUT: list[tuple[str, Any, grpc.StatusCode, str, str]] = [
    ("Ask", pb.AskRequest(parent=SHOP, question="  "), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD", "question"),
    ("Ask", pb.AskRequest(parent="shops/x", question="how many?"), grpc.StatusCode.INVALID_ARGUMENT,
     "INVALID_FIELD", "parent"),
    ("Ask", pb.AskRequest(parent="dataSources/missing", question="how many?"), grpc.StatusCode.NOT_FOUND,
     "NOT_FOUND", ""),
    ("Ask", pb.AskRequest(parent=SHOP, question="how many?", options=query_pb2.AskOptions(candidate_count=20)),
     grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD", "options.candidate_count"),
    ("Ask", pb.AskRequest(parent=SHOP, question="how many?",
                          options=query_pb2.AskOptions(timeout=duration_pb2.Duration(seconds=-1))),
     grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD", "options.timeout"),
    ("ExecuteSql", pb.ExecuteSqlRequest(parent=SHOP, sql=""), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD",
     "sql"),
    ("ExecuteSql", pb.ExecuteSqlRequest(parent=SHOP, sql="DROP TABLE customers"), grpc.StatusCode.INVALID_ARGUMENT,
     "UNSAFE_SQL", "sql"),
    ("ExecuteSql", pb.ExecuteSqlRequest(parent=SHOP, sql="SELEC name FRM customers"),
     grpc.StatusCode.INVALID_ARGUMENT, "INVALID_SQL", "sql"),
    ("ExecuteSql", pb.ExecuteSqlRequest(parent=SHOP, sql="SELECT 1 FROM customers", max_rows=-5),
     grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD", "max_rows"),
    ("ExecuteSql", pb.ExecuteSqlRequest(parent="dataSources/missing", sql="SELECT 1"), grpc.StatusCode.NOT_FOUND,
     "NOT_FOUND", ""),
    ("ValidateSql", pb.ValidateSqlRequest(parent=SHOP, sql=""), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD",
     "sql"),
    ("ValidateSql", pb.ValidateSqlRequest(parent="", sql="SELECT 1"), grpc.StatusCode.INVALID_ARGUMENT,
     "INVALID_FIELD", "parent"),
    ("ListQueries", pb.ListQueriesRequest(parent=SHOP, page_size=-1), grpc.StatusCode.INVALID_ARGUMENT,
     "INVALID_FIELD", "page_size"),
    ("ListQueries", pb.ListQueriesRequest(parent=SHOP, page_token="forged"), grpc.StatusCode.INVALID_ARGUMENT,
     "INVALID_PAGE_TOKEN", "page_token"),
    ("ListQueries", pb.ListQueriesRequest(parent="dataSources/missing"), grpc.StatusCode.NOT_FOUND, "NOT_FOUND", ""),
    ("GetQuery", pb.GetQueryRequest(name=QUERY), grpc.StatusCode.NOT_FOUND, "NOT_FOUND", ""),
    ("GetQuery", pb.GetQueryRequest(name="queries/q1"), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD", "name"),
    ("SubmitFeedback", pb.SubmitFeedbackRequest(name=QUERY), grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD",
     "rating"),
    ("SubmitFeedback", pb.SubmitFeedbackRequest(name=QUERY, rating=query_pb2.FEEDBACK_RATING_CORRECT),
     grpc.StatusCode.NOT_FOUND, "NOT_FOUND", ""),
    ("SubmitFeedback", pb.SubmitFeedbackRequest(name="", rating=query_pb2.FEEDBACK_RATING_CORRECT),
     grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD", "name"),
]


@pytest.mark.parametrize(("method", "request_message", "code", "reason", "field"), BAD_INPUT,
                         ids=[f"{m}-{i}" for i, (m, *_) in enumerate(BAD_INPUT)])
def test_bad_input_gets_a_clear_status(unit: Unit, method: str, request_message: Any, code: grpc.StatusCode,
                                       reason: str, field: str) -> None:
    _, got, details, trailing = unit.call(method, request_message)
    assert got is code, details
    info = error_info(trailing)
    assert info is not None and info.reason == reason and info.domain == "chatdb"
    if field:
        assert bad_request_fields(trailing)[0] == field


def test_feedback_with_unsafe_corrected_sql_is_refused(unit: Unit) -> None:
    asked = unit.ok("Ask", pb.AskRequest(parent=SHOP, question="How many customers are there?"))
    _, code, _, trailing = unit.call("SubmitFeedback", pb.SubmitFeedbackRequest(
        name=asked.query, rating=query_pb2.FEEDBACK_RATING_INCORRECT, corrected_sql="DELETE FROM customers"))
    assert code is grpc.StatusCode.INVALID_ARGUMENT
    assert bad_request_fields(trailing) == ["corrected_sql"]
    assert error_info(trailing).reason == "UNSAFE_SQL"  # type: ignore[union-attr]


def test_another_tenant_sees_nothing(unit: Unit) -> None:
    _, code, _, _ = unit.call("ListQueries", pb.ListQueriesRequest(parent=SHOP), (("x-chatdb-tenant", "acme"),))
    assert code is grpc.StatusCode.NOT_FOUND
