"""Requests the client builds, and the retry policy it hands to gRPC."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from google.protobuf import descriptor_pool

from chatdb.common.v1 import dialect_pb2
from chatdb.query.v1 import query_pb2
from chatdb.schema.v1 import schema_pb2
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
        ops.create_data_source("sqlite:///x.db"), ops.get_data_source("x"), ops.list_data_sources(""),
        ops.delete_data_source("x"), ops.list_tables("x", ""), ops.get_schema_graph("x"),
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


def test_list_tables_asks_for_the_view_wanted() -> None:
    assert ops.list_tables("shop", "tok").request.view == schema_pb2.TABLE_VIEW_BASIC
    full = ops.list_tables("shop", "tok", full=True).request
    assert (full.view, full.page_token, full.parent) == (schema_pb2.TABLE_VIEW_FULL, "tok", "dataSources/shop")


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
