"""The audit log's resource of a call: the request's name or parent, else a create's result."""

from __future__ import annotations

from chatdb.query.v1 import query_service_pb2
from chatdb.schema.v1 import schema_service_pb2
from chatdb_server.server.call_resources import data_source_of, request_resource, response_resource


def test_the_request_names_the_resource() -> None:
    assert request_resource(schema_service_pb2.GetDataSourceRequest(name="dataSources/shop")) == "dataSources/shop"
    assert request_resource(query_service_pb2.AskRequest(parent="dataSources/shop")) == "dataSources/shop"
    assert request_resource(schema_service_pb2.ListDataSourcesRequest()) == ""


def test_a_create_names_what_it_made() -> None:
    reply = schema_service_pb2.CreateDataSourceResponse(data_source={"name": "dataSources/abc"})
    assert response_resource(reply) == "dataSources/abc"
    assert response_resource(schema_service_pb2.ListDataSourcesResponse(
        data_sources=[{"name": "dataSources/a"}])) == ""  # a list names no one resource
    assert response_resource(None) == ""


def test_the_data_source_of_a_resource() -> None:
    assert data_source_of("dataSources/shop/queries/q1") == "shop"
    assert data_source_of("dataSources/shop") == "shop"
    assert data_source_of("apiKeys/k1") == ""
