"""The SDK covers the contract: every RPC of every service in the API package has a method of its
name in both clients, which makes that RPC with its request type; listings have a lazy ``iter_*``
too, and server streams are iterators (async iterators in the asyncio client).

Driven by the descriptors of the generated stubs, so an RPC added to a proto without a method in
the SDK fails here."""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor

import chatdb
from chatdb.prediction.v1 import prediction_pb2
from chatdb_client import AsyncChatDBClient, ChatDBClient
from chatdb_client.channel import IDEMPOTENT_METHODS, STUB_CLASSES
from chatdb_client.operations import Listing, Operation

SAMPLE_ARGUMENTS: dict[str, Any] = {
    "source": "shop", "dsn": "sqlite:///shop.db", "question": "How many orders?", "sql": "SELECT 1",
    "name": "dataSources/shop/examples/e1", "table": "orders", "column": "email", "action": "mask",
    "predicate": "region = :region", "roles": ["viewer"], "dialect": "sqlite", "query": "dataSources/shop/queries/q1",
    "schema_context": prediction_pb2.SchemaContext(), "questions": ["How many orders?"], "format": "csv",
    "url": "https://hooks.example.com/chatdb", "webhook": "webhooks/w1",
}
"""A value for each required parameter of an operation, by parameter name."""

OVERRIDES: dict[str, dict[str, Any]] = {
    "test_connection": {"source": "shop"},
    "update_data_source": {"display_name": "Shop"},
    "submit_feedback": {"correct": True},
    "get_training_job": {"name": "trainingJobs/j1"},
    "cancel_training_job": {"name": "trainingJobs/j1"},
    "watch_training_job": {"name": "trainingJobs/j1"},
    "get_query": {"name": "dataSources/shop/queries/q1"},
    "load_adapter": {"name": "adapters/shop-sql"},
    "unload_adapter": {"name": "adapters/shop-sql"},
    "revoke_api_key": {"name": "apiKeys/k1"},
    "delete_column_policy": {"name": "dataSources/shop/columnPolicies/p1"},
    "delete_row_policy": {"name": "dataSources/shop/rowPolicies/p1"},
    "export_query_result": {"source": "shop", "sql": "SELECT 1"},
}
"""Arguments some operations need beyond (or instead of) the samples."""


def contract_services() -> list[ServiceDescriptor]:
    """Every service of every ``*_service_pb2`` module of the API package."""
    services: list[ServiceDescriptor] = []
    for root in map(Path, chatdb.__path__):
        for path in sorted(root.rglob("*_service_pb2.py")):
            module = ".".join(["chatdb", *path.relative_to(root).with_suffix("").parts])
            services.extend(importlib.import_module(module).DESCRIPTOR.services_by_name.values())
    return services


def contract_methods() -> Iterator[tuple[ServiceDescriptor, MethodDescriptor]]:
    for service in contract_services():
        for method in service.methods:
            yield service, method


def snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def is_listing(method: MethodDescriptor) -> bool:
    return method.name.startswith("List") and "next_page_token" in method.output_type.fields_by_name


RPCS = [pytest.param(service, method, id=f"{service.name}.{method.name}") for service, method in contract_methods()]


def test_the_api_package_has_the_six_services_at_least() -> None:
    names = {service.full_name for service in contract_services()}
    assert names >= {"chatdb.schema.v1.SchemaService", "chatdb.training.v1.TrainingService",
                     "chatdb.query.v1.QueryService", "chatdb.prediction.v1.PredictionService",
                     "chatdb.access.v1.AccessService", "chatdb.webhook.v1.WebhookService"}


@pytest.mark.parametrize("service", [pytest.param(s, id=s.name) for s in contract_services()])
def test_every_service_has_a_stub_in_the_channel(service: ServiceDescriptor) -> None:
    assert service.full_name in STUB_CLASSES, f"{service.full_name} is missing from channel.STUB_CLASSES"
    assert STUB_CLASSES[service.full_name].__name__ == service.name + "Stub"


@pytest.mark.parametrize(("service", "method"), RPCS)
def test_every_rpc_has_a_method_in_both_clients(service: ServiceDescriptor, method: MethodDescriptor) -> None:
    name = snake_case(method.name)
    for client in (ChatDBClient, AsyncChatDBClient):
        assert callable(getattr(client, name, None)), f"{client.__name__}.{name} is missing for {method.full_name}"
        assert getattr(client, name).__doc__, f"{client.__name__}.{name} has no docstring"
    if method.server_streaming:
        assert str(inspect.signature(ChatDBClient.__dict__[name]).return_annotation).startswith("Iterator[")
        assert str(inspect.signature(AsyncChatDBClient.__dict__[name]).return_annotation).startswith(
            "AsyncIterator[")
    else:
        assert not inspect.isgeneratorfunction(ChatDBClient.__dict__[name])
        assert inspect.iscoroutinefunction(AsyncChatDBClient.__dict__[name]), f"AsyncChatDBClient.{name}"
    if is_listing(method):
        iterator = "iter_" + name.removeprefix("list_")
        assert inspect.isgeneratorfunction(ChatDBClient.__dict__[iterator]), f"ChatDBClient.{iterator}"
        assert inspect.isasyncgenfunction(AsyncChatDBClient.__dict__[iterator]), f"AsyncChatDBClient.{iterator}"


@pytest.mark.parametrize(("service", "method"), RPCS)
def test_every_method_makes_its_own_rpc_with_its_request_type(service: ServiceDescriptor,
                                                               method: MethodDescriptor) -> None:
    name = snake_case(method.name)
    operations = []
    for client in (ChatDBClient, AsyncChatDBClient):
        factory = client.__dict__[name].__wrapped__
        made = factory(**arguments_for(name, factory))
        if is_listing(method) and isinstance(made, Listing):
            made = made.page("")
        assert isinstance(made, Operation)
        operations.append(made)
    for operation in operations:
        assert (operation.service, operation.method) == (service.full_name, method.name)
        assert operation.request.DESCRIPTOR is method.input_type


def test_retried_methods_exist_and_only_read() -> None:
    by_name = {service.full_name: service for service in contract_services()}
    for service, methods in IDEMPOTENT_METHODS.items():
        for method in methods:
            assert method in by_name[service].methods_by_name, f"{service}/{method}"
            assert method.startswith(("Get", "List", "Watch", "Validate", "Test", "Generate", "Search")), method


@pytest.mark.parametrize(("service", "method"), RPCS)
def test_every_reading_rpc_is_retried(service: ServiceDescriptor, method: MethodDescriptor) -> None:
    if method.name.startswith(("Get", "List", "Watch", "Search")):
        assert method.name in IDEMPOTENT_METHODS.get(service.full_name, ()), \
            f"{service.full_name}/{method.name} only reads: add it to IDEMPOTENT_METHODS and service_config.json"


def arguments_for(name: str, factory: Any) -> dict[str, Any]:
    """Sample arguments for every required parameter of ``factory``, plus the method's overrides."""
    required = {p.name: SAMPLE_ARGUMENTS[p.name] for p in inspect.signature(factory).parameters.values()
                if p.default is inspect.Parameter.empty}
    return {**required, **OVERRIDES.get(name, {})}
