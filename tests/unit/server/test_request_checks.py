"""Requests are decoded once for every method: bytes that do not decode and enum numbers the contract does not
define become an INVALID_ARGUMENT naming the field, never an exception in gRPC's deserializer."""

from __future__ import annotations

import pytest
from google.protobuf.message import Message

from chatdb.access.v1 import access_service_pb2
from chatdb.prediction.v1 import prediction_service_pb2
from chatdb.query.v1 import query_pb2, query_service_pb2
from chatdb.schema.v1 import schema_service_pb2
from chatdb.training.v1 import training_service_pb2
from chatdb_server.server.request_checks import Malformed, checked_deserializer, undefined_enum


def test_a_well_formed_request_decodes_as_it_is() -> None:
    request = query_service_pb2.SubmitFeedbackRequest(name="dataSources/shop/queries/q1",
                                                      rating=query_pb2.FEEDBACK_RATING_CORRECT)
    decoded = checked_deserializer(query_service_pb2.SubmitFeedbackRequest.FromString)(request.SerializeToString())
    assert decoded == request


@pytest.mark.parametrize("data", [b"\xff\xff\xff\xff\x0f", b"\x0a\x05ab", b"\x12\x80\x80\x80\x80\x80\x80"])
def test_bytes_that_do_not_decode_are_malformed_not_raised(data: bytes) -> None:
    decoded = checked_deserializer(query_service_pb2.ValidateSqlRequest.FromString)(data)
    assert isinstance(decoded, Malformed)
    assert decoded.error.violations[0].field == "request"
    assert "do not decode as chatdb.query.v1.ValidateSqlRequest" in decoded.error.message


@pytest.mark.parametrize(("request_message", "field", "enum"), [
    (query_service_pb2.SubmitFeedbackRequest(rating=99), "rating", "FeedbackRating"),
    (training_service_pb2.CreateTrainingJobRequest(type=99), "type", "TrainingJobType"),
    (training_service_pb2.CreateExampleRequest(example={"source": -3}), "example.source", "ExampleSource"),
    (schema_service_pb2.ListTablesRequest(view=7), "view", "TableView"),
    (schema_service_pb2.CreateDataSourceRequest(data_source={"dialect": 42}), "data_source.dialect", "Dialect"),
    (access_service_pb2.CreateColumnPolicyRequest(column_policy={"action": 5}), "column_policy.action", "ColumnAction"),
    (prediction_service_pb2.GenerateSqlRequest(dialect=1, schema_context={"joins": [{"kind": 1}, {"kind": 9}]}),
     "schema_context.joins[1].kind", "JoinEdgeKind"),
])
def test_an_undefined_enum_number_is_named_by_its_field(request_message: Message, field: str, enum: str) -> None:
    deserializer = type(request_message).FromString
    decoded = checked_deserializer(deserializer)(request_message.SerializeToString())
    assert isinstance(decoded, Malformed)
    assert decoded.error.violations[0].field == field
    assert f"is not a {enum} value; use one of" in decoded.error.message
    assert "UNSPECIFIED" not in decoded.error.message


def test_messages_without_enums_are_not_walked() -> None:
    assert undefined_enum(query_service_pb2.ValidateSqlRequest(parent="dataSources/shop", sql="SELECT 1")) is None


def test_methods_without_a_deserializer_get_their_bytes() -> None:
    assert checked_deserializer(None)(b"\x01") == b"\x01"
