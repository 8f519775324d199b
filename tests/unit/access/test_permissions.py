"""Every RPC names the permission it needs, and roles grant what the README's table says."""

from __future__ import annotations

import itertools

import pytest

from chatdb.access.v1 import access_service_pb2
from chatdb.prediction.v1 import prediction_service_pb2
from chatdb.query.v1 import query_service_pb2
from chatdb.schema.v1 import schema_service_pb2
from chatdb.training.v1 import training_service_pb2
from chatdb.webhook.v1 import webhook_service_pb2
from chatdb_server.access.permissions import (
    RPC_PERMISSIONS,
    Permission,
    Role,
    granted,
    parse_roles,
    required_permission,
)

SERVICE_FILES = (access_service_pb2, schema_service_pb2, training_service_pb2, query_service_pb2,
                 prediction_service_pb2, webhook_service_pb2)


def every_method() -> set[str]:
    return {f"/{service.full_name}/{method.name}"
            for module in SERVICE_FILES for service in module.DESCRIPTOR.services_by_name.values()
            for method in service.methods}


def test_every_rpc_of_the_contract_names_a_permission_and_no_other_is_listed() -> None:
    assert set(RPC_PERMISSIONS) == every_method()


@pytest.mark.parametrize("method", ["/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch",
                                    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"])
def test_health_and_reflection_stay_open(method: str) -> None:
    assert required_permission(method) is None


def test_an_unknown_method_has_no_permission_to_fall_back_on() -> None:
    with pytest.raises(KeyError):
        required_permission("/chatdb.query.v1.QueryService/DropEverything")


@pytest.mark.parametrize(("role", "allowed", "denied"), [
    pytest.param(Role.VIEWER, {Permission.READ_STATUS, Permission.READ_SCHEMA}, {Permission.ASK}, id="viewer"),
    pytest.param(Role.ASKER, {Permission.ASK, Permission.READ_HISTORY}, {Permission.MANAGE_SOURCES}, id="asker"),
    pytest.param(Role.EDITOR, {Permission.MANAGE_SOURCES, Permission.MANAGE_TRAINING, Permission.MANAGE_WEBHOOKS},
                 {Permission.MANAGE_ACCESS}, id="editor"),
    pytest.param(Role.ADMIN, {Permission.MANAGE_ACCESS, Permission.ASK}, set(), id="admin"),
])
def test_each_role_grants_its_own_and_not_the_next(role: Role, allowed: set[Permission],
                                                   denied: set[Permission]) -> None:
    permissions = granted(frozenset({role}))
    assert allowed <= permissions
    assert not denied & permissions


def test_roles_nest_viewer_asker_editor_admin() -> None:
    chain = [granted(frozenset({r})) for r in (Role.VIEWER, Role.ASKER, Role.EDITOR, Role.ADMIN)]
    assert all(lower < higher for lower, higher in itertools.pairwise(chain))
    assert chain[-1] == frozenset(Permission)


def test_unknown_role_names_are_refused_by_name() -> None:
    assert parse_roles(["asker", "viewer"]) == {Role.ASKER, Role.VIEWER}
    with pytest.raises(ValueError, match="superuser"):
        parse_roles(["asker", "superuser"])
