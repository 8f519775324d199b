"""AccessService operations: API keys, column and row policies, the audit log (admin only)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from chatdb.access.v1 import access_pb2, access_service_pb2
from chatdb_client.operations.core import (
    ACCESS,
    Listing,
    Operation,
    child_name,
    enum_value,
    listing,
    nothing,
    resource_name,
    source_name,
    timestamp,
)
from chatdb_client.results import CreatedApiKey


def create_api_key(roles: Sequence[str], data_sources: Sequence[str] = (), display_name: str = "",
                   tenant: str = "", expire_time: dt.datetime | None = None) -> Operation[CreatedApiKey]:
    """A new API key with ``roles`` (``"viewer"``, ``"asker"``, ``"editor"``, ``"admin"``), limited to
    ``data_sources`` (ids; empty means all). Returns the key and its secret, which is shown only once."""
    key = access_pb2.ApiKey(roles=list(roles), data_sources=[s.removeprefix("dataSources/") for s in data_sources],
                            display_name=display_name, tenant=tenant,
                            expire_time=timestamp(expire_time) if expire_time else None)
    return Operation(ACCESS, "CreateApiKey", access_service_pb2.CreateApiKeyRequest(api_key=key),
                     lambda reply: CreatedApiKey(reply.api_key, reply.secret))


def list_api_keys(page_size: int = 0) -> Listing[access_pb2.ApiKey]:
    """The tenant's API keys, revoked ones included, oldest first; never their secrets."""
    return listing(ACCESS, "ListApiKeys", access_service_pb2.ListApiKeysRequest(page_size=page_size), "api_keys")


def revoke_api_key(name: str) -> Operation[access_pb2.ApiKey]:
    """Revoke a key (by id or ``apiKeys/{id}``); calls with it are Unauthenticated from then on."""
    request = access_service_pb2.RevokeApiKeyRequest(name=resource_name("apiKeys", name))
    return Operation(ACCESS, "RevokeApiKey", request, lambda reply: reply.api_key)


def create_column_policy(source: str, table: str, column: str, action: str | int,
                         exempt_roles: Sequence[str] = ()) -> Operation[access_pb2.ColumnPolicy]:
    """Hide (``"exclude"``) or mask (``"mask"``) a column for every role but ``exempt_roles``."""
    policy = access_pb2.ColumnPolicy(table=table, column=column, exempt_roles=list(exempt_roles),
                                     action=enum_value(access_pb2.ColumnAction, "COLUMN_ACTION_", action))
    request = access_service_pb2.CreateColumnPolicyRequest(parent=source_name(source), column_policy=policy)
    return Operation(ACCESS, "CreateColumnPolicy", request, lambda reply: reply.column_policy)


def list_column_policies(source: str) -> Operation[list[access_pb2.ColumnPolicy]]:
    """A source's column policies."""
    request = access_service_pb2.ListColumnPoliciesRequest(parent=source_name(source))
    return Operation(ACCESS, "ListColumnPolicies", request, lambda reply: list(reply.column_policies))


def delete_column_policy(name: str, source: str = "") -> Operation[None]:
    """Delete a column policy, by its name or by its id with its ``source``."""
    request = access_service_pb2.DeleteColumnPolicyRequest(name=child_name(source, "columnPolicies", name))
    return Operation(ACCESS, "DeleteColumnPolicy", request, nothing)


def create_row_policy(source: str, table: str, predicate: str,
                      exempt_roles: Sequence[str] = ()) -> Operation[access_pb2.RowPolicy]:
    """Add ``predicate`` (SQL over the table's columns; ``:name`` binds the caller's attribute) to every
    reference to ``table``, for every role but ``exempt_roles``."""
    policy = access_pb2.RowPolicy(table=table, predicate=predicate, exempt_roles=list(exempt_roles))
    request = access_service_pb2.CreateRowPolicyRequest(parent=source_name(source), row_policy=policy)
    return Operation(ACCESS, "CreateRowPolicy", request, lambda reply: reply.row_policy)


def list_row_policies(source: str) -> Operation[list[access_pb2.RowPolicy]]:
    """A source's row policies."""
    request = access_service_pb2.ListRowPoliciesRequest(parent=source_name(source))
    return Operation(ACCESS, "ListRowPolicies", request, lambda reply: list(reply.row_policies))


def delete_row_policy(name: str, source: str = "") -> Operation[None]:
    """Delete a row policy, by its name or by its id with its ``source``."""
    request = access_service_pb2.DeleteRowPolicyRequest(name=child_name(source, "rowPolicies", name))
    return Operation(ACCESS, "DeleteRowPolicy", request, nothing)


def list_audit_events(principal: str = "", source: str = "", start_time: dt.datetime | None = None,
                      end_time: dt.datetime | None = None, page_size: int = 0) -> Listing[access_pb2.AuditEvent]:
    """Audited calls, newest first, of one ``principal`` (``"apiKeys/{id}"``), naming one ``source``, in
    [``start_time``, ``end_time``) (aware datetimes; naive ones are UTC)."""
    request = access_service_pb2.ListAuditEventsRequest(
        principal=principal, data_source=source_name(source) if source else "", page_size=page_size,
        start_time=timestamp(start_time) if start_time else None,
        end_time=timestamp(end_time) if end_time else None)
    return listing(ACCESS, "ListAuditEvents", request, "audit_events")
