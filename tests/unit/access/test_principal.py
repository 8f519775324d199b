"""A principal acts for its own tenant (operators for any), within its roles and its data sources."""

from __future__ import annotations

import pytest

from chatdb_server.access.permissions import Permission, Role
from chatdb_server.access.principal import CredentialKind, Principal
from chatdb_server.errors import PermissionDenied


def principal(*roles: Role, kind: CredentialKind = CredentialKind.API_KEY,
              sources: frozenset[str] | None = None) -> Principal:
    return Principal(subject="apiKeys/k1", tenant="acme", roles=frozenset(roles), kind=kind, data_sources=sources)


@pytest.mark.parametrize("requested", ["", "acme"])
def test_no_header_or_its_own_tenant_acts_for_its_tenant(requested: str) -> None:
    assert principal(Role.ASKER).acting_tenant(requested) == "acme"


def test_a_forged_tenant_header_is_permission_denied() -> None:
    with pytest.raises(PermissionDenied) as caught:
        principal(Role.ADMIN).acting_tenant("globex")
    assert caught.value.reason == "TENANT_MISMATCH"


def test_an_operator_may_act_for_another_tenant() -> None:
    assert principal(Role.OPERATOR).acting_tenant("globex") == "globex"


def test_a_missing_permission_is_denied_naming_it() -> None:
    with pytest.raises(PermissionDenied) as caught:
        principal(Role.VIEWER).require(Permission.ASK, "/chatdb.query.v1.QueryService/Ask")
    assert caught.value.metadata == {"permission": "query.ask"}
    principal(Role.ASKER).require(Permission.ASK, "/chatdb.query.v1.QueryService/Ask")


def test_a_key_limited_to_sources_uses_only_those() -> None:
    limited = principal(Role.ASKER, sources=frozenset({"shop"}))
    assert limited.may_use_source("shop") and not limited.may_use_source("hr")
    assert principal(Role.ASKER).may_use_source("hr")
