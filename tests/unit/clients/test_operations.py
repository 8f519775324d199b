"""Requests the client builds, and the retry policy it hands to gRPC."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from google.protobuf import descriptor_pool

from chatdb.access.v1 import access_pb2
from chatdb.common.v1 import dialect_pb2
from chatdb.query.v1 import query_pb2, query_service_pb2
from chatdb.schema.v1 import schema_pb2
from chatdb.webhook.v1 import webhook_pb2
from chatdb_client import NO_RETRIES, RetryPolicy
from chatdb_client import operations as ops
from chatdb_client.channel import IDEMPOTENT_METHODS, STUB_CLASSES, call_metadata, channel_options, service_config


def test_sources_are_named_by_id_or_resource_name() -> None:
    assert ops.source_name("shop") == "dataSources/shop"
    assert ops.source_name("dataSources/shop") == "dataSources/shop"
    with pytest.raises(ValueError, match="required"):
        ops.source_name("")


def test_dialects_by_name_or_value() -> None:
    assert ops.dialect_value("postgresql") == dialect_pb2.DIALECT_POSTGRESQL
    assert ops.dialect_value("SQLite") == dialect_pb2.DIALECT_SQLITE
    assert ops.dialect_value(dialect_pb2.DIALECT_MYSQL) == dialect_pb2.DIALECT_MYSQL
    with pytest.raises(ValueError):
        ops.dialect_value("oracle")


def test_every_operation_names_a_real_method_of_its_service() -> None:
    operations = [
        ops.create_data_source("sqlite:///x.db"), ops.get_data_source("x"), ops.list_data_sources().page(""),
        ops.delete_data_source("x"), ops.list_tables("x").page(""), ops.get_schema_graph("x"),
        ops.create_training_job("x"), ops.get_training_job("trainingJobs/j"), ops.watch_training_job("trainingJobs/j"),
        ops.ask("x", "how many?"), ops.execute_sql("x", "SELECT 1"), ops.validate_sql("x", "SELECT 1"),
        ops.submit_feedback("dataSources/x/queries/q", correct=True), ops.system_status(),
        ops.generate_sql("how many?", "sqlite", schema_context=None),  # type: ignore[arg-type]
    ]
    for operation in operations:
        stub_class = STUB_CLASSES[operation.service]
        service_name = stub_class.__name__.removesuffix("Stub")
        descriptor = descriptor_pool.Default().FindServiceByName(operation.service)
        method = descriptor.methods_by_name[operation.method]
        assert method.input_type is operation.request.DESCRIPTOR, operation.method
        assert descriptor.name == service_name


def test_ask_options_reach_the_request() -> None:
    request = ops.ask("shop", "top customers", max_rows=5, execute=False, query_timeout=2.5, candidate_count=3,
                      model="adapters/shop").request
    assert request.parent == "dataSources/shop"
    assert request.options.max_rows == 5
    assert request.options.HasField("execute") and request.options.execute is False
    assert request.options.timeout.ToMilliseconds() == 2500
    assert (request.options.candidate_count, request.options.model) == (3, "adapters/shop")
    assert not ops.ask("shop", "q").request.options.HasField("timeout")


def test_a_follow_up_names_the_answer_it_refines() -> None:
    request = ops.ask("shop", "only those in Berlin", previous_query="dataSources/shop/queries/q1").request
    assert request.previous_query == "dataSources/shop/queries/q1"
    assert ops.ask("shop", "q").request.previous_query == ""


def test_list_tables_asks_for_the_view_wanted() -> None:
    assert ops.list_tables("shop").page("tok").request.view == schema_pb2.TABLE_VIEW_BASIC
    listing = ops.list_tables("shop", full=True, page_size=7)
    full = listing.page("tok").request
    assert (full.view, full.page_token, full.parent, full.page_size) == (
        schema_pb2.TABLE_VIEW_FULL, "tok", "dataSources/shop", 7)
    assert listing.page("").request.page_token == ""  # each page is a request of its own


def test_feedback_needs_a_verdict_and_a_correction_means_incorrect() -> None:
    assert ops.submit_feedback("q", correct=True).request.rating == query_pb2.FEEDBACK_RATING_CORRECT
    fixed = ops.submit_feedback("q", corrected_sql="SELECT 2").request
    assert (fixed.rating, fixed.corrected_sql) == (query_pb2.FEEDBACK_RATING_INCORRECT, "SELECT 2")
    with pytest.raises(ValueError, match="correct"):
        ops.submit_feedback("q")


def test_retry_policy_covers_only_idempotent_methods_on_unavailable() -> None:
    config = RetryPolicy(max_attempts=4, initial_backoff=0.05, max_backoff=1.5).service_config()
    (method_config,) = config["methodConfig"]
    names = {(n["service"], n["method"]) for n in method_config["name"]}
    assert ("chatdb.schema.v1.SchemaService", "ListDataSources") in names
    assert ("chatdb.training.v1.TrainingService", "WatchTrainingJob") in names
    for not_idempotent in ("CreateDataSource", "DeleteDataSource", "Ask", "ExecuteSql", "SubmitFeedback",
                           "CreateTrainingJob", "CancelTrainingJob", "LoadAdapter"):
        assert not any(method == not_idempotent for _, method in names)
    assert method_config["retryPolicy"] == {
        "maxAttempts": 4, "initialBackoff": "0.05s", "maxBackoff": "1.5s", "backoffMultiplier": 2.0,
        "retryableStatusCodes": ["UNAVAILABLE"]}


def test_idempotent_methods_exist_in_the_contract() -> None:
    pool = descriptor_pool.Default()
    for service, methods in IDEMPOTENT_METHODS.items():
        descriptor = pool.FindServiceByName(service)
        for method in methods:
            assert method in descriptor.methods_by_name, f"{service}/{method}"


def test_channel_options_carry_the_service_config_or_disable_retries() -> None:
    options = dict(channel_options(RetryPolicy()))
    assert options["grpc.enable_retries"] == 1
    config = json.loads(options["grpc.service_config"])
    assert config["methodConfig"] == RetryPolicy().service_config()["methodConfig"]
    assert config["loadBalancingConfig"] == [{"round_robin": {}}]
    without = dict(channel_options(NO_RETRIES))
    assert without["grpc.enable_retries"] == 0
    assert json.loads(without["grpc.service_config"]) == {"loadBalancingConfig": [{"round_robin": {}}]}
    with pytest.raises(ValueError, match="positive"):
        RetryPolicy(initial_backoff=0).service_config()


def test_every_call_carries_tenant_and_request_id() -> None:
    assert call_metadata("acme", "r1") == (("x-chatdb-tenant", "acme"), ("x-request-id", "r1"))


def test_the_credential_travels_as_a_bearer_and_no_tenant_header_unless_named() -> None:
    assert call_metadata("", "r1", "chatdb_k") == (("x-request-id", "r1"), ("authorization", "Bearer chatdb_k"))


def test_the_go_client_balances_and_retries_the_same_methods_the_same_way() -> None:
    go_config = json.loads((Path(__file__).resolve().parents[3] / "clients/go/chatdb/service_config.json").read_text())
    assert go_config == service_config(RetryPolicy())


def test_an_update_names_exactly_the_fields_given() -> None:
    request = ops.update_data_source("shop", display_name="Shop", labels={"team": "data"}, refresh_interval=120,
                                     auto_retrain=False).request
    assert list(request.update_mask.paths) == ["display_name", "labels", "refresh_interval", "auto_retrain"]
    assert (request.data_source.name, request.data_source.display_name) == ("dataSources/shop", "Shop")
    assert request.data_source.refresh_interval.seconds == 120 and dict(request.data_source.labels) == {"team": "data"}
    with pytest.raises(ValueError, match="at least one field"):
        ops.update_data_source("shop")


def test_a_confidence_threshold_is_set_and_cleared_by_its_mask() -> None:
    raised = ops.update_data_source("shop", min_confidence=0.8).request
    cleared = ops.update_data_source("shop", min_confidence=0).request
    assert list(raised.update_mask.paths) == list(cleared.update_mask.paths) == ["min_confidence"]
    assert raised.data_source.min_confidence == 0.8 and cleared.data_source.min_confidence == 0


def test_a_connection_is_tested_to_a_source_or_a_dsn() -> None:
    assert ops.test_connection("shop").request.WhichOneof("target") == "name"
    assert ops.test_connection(dsn="sqlite:///x.db").request.dsn == "sqlite:///x.db"
    for both_or_neither in ({"source": "shop", "dsn": "sqlite:///x.db"}, {}):
        with pytest.raises(ValueError, match="not both"):
            ops.test_connection(**both_or_neither)


def test_training_jobs_are_filtered_in_the_servers_syntax() -> None:
    request = ops.list_training_jobs(source="shop", state="running", job_type="fine_tune", page_size=5).page("").request
    assert request.filter == 'data_source = "dataSources/shop" AND state = RUNNING AND type = FINE_TUNE'
    assert ops.list_training_jobs().page("").request.filter == ""
    with pytest.raises(ValueError, match="choose from queued, running"):
        ops.list_training_jobs(state="sleeping")


def test_names_are_completed_from_ids() -> None:
    assert ops.get_table("shop", "orders").request.name == "dataSources/shop/tables/orders"
    assert ops.get_table("", "dataSources/shop/tables/orders").request.name == "dataSources/shop/tables/orders"
    assert ops.delete_example("e1", source="shop").request.name == "dataSources/shop/examples/e1"
    assert ops.get_training_job("j1").request.name == "trainingJobs/j1"
    assert ops.revoke_api_key("apiKeys/k1").request.name == "apiKeys/k1"
    assert ops.get_webhook("w1").request.name == "webhooks/w1"
    assert ops.load_adapter("shop-sql").request.name == "adapters/shop-sql"
    with pytest.raises(ValueError, match="required"):
        ops.get_table("shop", "")


def test_enums_are_given_by_short_name() -> None:
    policy = ops.create_column_policy("shop", "customers", "email", "MASK").request.column_policy
    assert policy.action == access_pb2.COLUMN_ACTION_MASK
    assert ops.export_query_result("shop", sql="SELECT 1", format="json_lines").request.format == (
        query_pb2.EXPORT_FORMAT_JSON_LINES)
    assert list(ops.create_webhook("https://h.example/x", ["training_job.succeeded", "schema.drift_detected"])
                .request.webhook.event_types) == [webhook_pb2.WEBHOOK_EVENT_TYPE_TRAINING_JOB_SUCCEEDED,
                                                  webhook_pb2.WEBHOOK_EVENT_TYPE_SCHEMA_DRIFT_DETECTED]
    with pytest.raises(ValueError, match="choose from exclude, mask"):
        ops.create_column_policy("shop", "customers", "email", "hide")


def test_a_batch_keeps_the_callers_ids_and_reads_answers_by_index() -> None:
    operation = ops.batch_ask("shop", {"a": "How many orders?", "b": "Who spent most?"}, max_rows=5)
    assert [(q.id, q.question) for q in operation.request.questions] == [("a", "How many orders?"),
                                                                         ("b", "Who spent most?")]
    assert operation.request.options.max_rows == 5
    failed = query_service_pb2.BatchAskResponse(index=1, id="b", error=query_service_pb2.BatchAskError(
        code=9, message="no safe SQL"))
    answer = operation.read(failed)
    assert (answer.question, answer.ok, answer.error.code.name) == ("Who spent most?", False, "FAILED_PRECONDITION")
    assert [q.id for q in ops.batch_ask("shop", ["q1", "q2"]).request.questions] == ["", ""]


def test_an_export_is_of_sql_or_of_a_recorded_query() -> None:
    recorded = ops.export_query_result(query="dataSources/shop/queries/q1", format="parquet").request
    assert (recorded.WhichOneof("input"), recorded.parent) == ("query", "")
    with pytest.raises(ValueError, match="not both"):
        ops.export_query_result("shop")


def test_an_api_key_expiry_is_a_timestamp_in_utc() -> None:
    request = ops.create_api_key(["asker"], data_sources=["dataSources/shop", "hr"],
                                 expire_time=dt.datetime(2030, 1, 1)).request
    assert list(request.api_key.data_sources) == ["shop", "hr"]
    assert request.api_key.expire_time.ToDatetime(tzinfo=dt.UTC) == dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    assert not ops.create_api_key(["viewer"]).request.api_key.HasField("expire_time")
