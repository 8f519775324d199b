"""AccessService's domain records ↔ protobuf messages.

A key's secret appears in exactly one message, CreateApiKeyResponse, and is put there by the
servicer; nothing here reads or writes a secret.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf import duration_pb2
from google.protobuf.message import Message

from chatdb import wire
from chatdb.access.v1 import access_pb2, access_service_pb2
from chatdb_server.access.audit import AuditEvent
from chatdb_server.access.keys import ApiKey
from chatdb_server.access.policies import ColumnAction, ColumnPolicy, RowPolicy
from chatdb_server.access.service import AuditQuery, KeySpec
from chatdb_server.errors import InvalidArgument

_ACTIONS = {access_pb2.COLUMN_ACTION_EXCLUDE: ColumnAction.EXCLUDE, access_pb2.COLUMN_ACTION_MASK: ColumnAction.MASK}
_WIRE_ACTIONS = {action: value for value, action in _ACTIONS.items()}


def _time(message: Message, field: str) -> datetime | None:
    """A Timestamp field as an aware datetime; None when unset."""
    if not message.HasField(field):
        return None
    stamp = getattr(message, field)
    return stamp.ToDatetime(tzinfo=UTC)  # type: ignore[no-any-return]


def key_spec_from_proto(message: access_pb2.ApiKey) -> KeySpec:
    """The settable fields of an ApiKey message."""
    return KeySpec(tenant=message.tenant, roles=tuple(message.roles), data_sources=tuple(message.data_sources),
                   display_name=message.display_name, expire_time=_time(message, "expire_time"))


def api_key_to_proto(key: ApiKey) -> access_pb2.ApiKey:
    """An ApiKey message (never a secret)."""
    return access_pb2.ApiKey(
        name=key.name, tenant=key.tenant, roles=sorted(key.roles), data_sources=list(key.data_sources),
        display_name=key.display_name, create_time=wire.timestamp(key.create_time),
        expire_time=wire.timestamp(key.expire_time), last_used_time=wire.timestamp(key.last_used_time),
        revoke_time=wire.timestamp(key.revoke_time))


def action_from_proto(value: access_pb2.ColumnAction) -> ColumnAction:
    """The domain action; InvalidArgument for COLUMN_ACTION_UNSPECIFIED or an unknown value."""
    action = _ACTIONS.get(value)
    if action is None:
        raise InvalidArgument("column_policy.action", "choose COLUMN_ACTION_EXCLUDE or COLUMN_ACTION_MASK")
    return action


def column_policy_to_proto(policy: ColumnPolicy) -> access_pb2.ColumnPolicy:
    """A ColumnPolicy message."""
    return access_pb2.ColumnPolicy(name=policy.name, table=policy.table, column=policy.column,
                                   action=_WIRE_ACTIONS[policy.action], exempt_roles=sorted(policy.exempt_roles),
                                   create_time=wire.timestamp(policy.create_time))


def row_policy_to_proto(policy: RowPolicy) -> access_pb2.RowPolicy:
    """A RowPolicy message."""
    return access_pb2.RowPolicy(name=policy.name, table=policy.table, predicate=policy.predicate,
                                exempt_roles=sorted(policy.exempt_roles),
                                create_time=wire.timestamp(policy.create_time))


def audit_query_from_proto(request: access_service_pb2.ListAuditEventsRequest) -> AuditQuery:
    """The filters of a ListAuditEvents request."""
    return AuditQuery(principal=request.principal, data_source=request.data_source,
                      start_time=_time(request, "start_time"), end_time=_time(request, "end_time"))


def audit_event_to_proto(event: AuditEvent) -> access_pb2.AuditEvent:
    """An AuditEvent message."""
    duration = duration_pb2.Duration()
    duration.FromTimedelta(timedelta(milliseconds=event.duration_ms))
    return access_pb2.AuditEvent(
        name=event.name, time=wire.timestamp(event.time), principal=event.principal, tenant=event.tenant,
        method=event.method, resource=event.resource, question=event.question, sql=event.sql,
        status_code=event.status_code, row_count=event.row_count, duration=duration,
        request_id=event.request_id, peer=event.peer)
