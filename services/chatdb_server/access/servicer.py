"""AccessService over gRPC: request fields in, AccessService calls, messages out."""

from __future__ import annotations

from typing import Any

from chatdb.access.v1 import access_service_pb2, access_service_pb2_grpc
from chatdb_server.access import convert
from chatdb_server.access.service import AccessService
from chatdb_server.errors import InvalidArgument
from chatdb_server.rpc import CallInfo, unary


class AccessServicer(access_service_pb2_grpc.AccessServiceServicer):
    """Translates AccessService requests to the facade, for the tenant the call acts for."""

    def __init__(self, service: AccessService) -> None:
        self._service = service

    @unary
    async def CreateApiKey(self, request: access_service_pb2.CreateApiKeyRequest, context: Any,
                           call: CallInfo) -> access_service_pb2.CreateApiKeyResponse:
        if not request.HasField("api_key"):
            raise InvalidArgument("api_key", "is required")
        issued = await self._service.create_key(call.tenant, convert.key_spec_from_proto(request.api_key))
        return access_service_pb2.CreateApiKeyResponse(api_key=convert.api_key_to_proto(issued.key),
                                                       secret=issued.secret)

    @unary
    async def ListApiKeys(self, request: access_service_pb2.ListApiKeysRequest, context: Any,
                          call: CallInfo) -> access_service_pb2.ListApiKeysResponse:
        keys, token = await self._service.list_keys(call.tenant, request.page_size, request.page_token)
        return access_service_pb2.ListApiKeysResponse(api_keys=[convert.api_key_to_proto(k) for k in keys],
                                                      next_page_token=token)

    @unary
    async def RevokeApiKey(self, request: access_service_pb2.RevokeApiKeyRequest, context: Any,
                           call: CallInfo) -> access_service_pb2.RevokeApiKeyResponse:
        key = await self._service.revoke_key(call.tenant, request.name)
        return access_service_pb2.RevokeApiKeyResponse(api_key=convert.api_key_to_proto(key))

    @unary
    async def CreateColumnPolicy(self, request: access_service_pb2.CreateColumnPolicyRequest, context: Any,
                                 call: CallInfo) -> access_service_pb2.CreateColumnPolicyResponse:
        if not request.HasField("column_policy"):
            raise InvalidArgument("column_policy", "is required")
        wanted = request.column_policy
        policy = await self._service.create_column_policy(call.tenant, request.parent, wanted.table, wanted.column,
                                                          convert.action_from_proto(wanted.action),
                                                          list(wanted.exempt_roles))
        return access_service_pb2.CreateColumnPolicyResponse(column_policy=convert.column_policy_to_proto(policy))

    @unary
    async def ListColumnPolicies(self, request: access_service_pb2.ListColumnPoliciesRequest, context: Any,
                                 call: CallInfo) -> access_service_pb2.ListColumnPoliciesResponse:
        policies = await self._service.list_column_policies(call.tenant, request.parent)
        return access_service_pb2.ListColumnPoliciesResponse(
            column_policies=[convert.column_policy_to_proto(p) for p in policies])

    @unary
    async def DeleteColumnPolicy(self, request: access_service_pb2.DeleteColumnPolicyRequest, context: Any,
                                 call: CallInfo) -> access_service_pb2.DeleteColumnPolicyResponse:
        await self._service.delete_column_policy(call.tenant, request.name)
        return access_service_pb2.DeleteColumnPolicyResponse()

    @unary
    async def CreateRowPolicy(self, request: access_service_pb2.CreateRowPolicyRequest, context: Any,
                              call: CallInfo) -> access_service_pb2.CreateRowPolicyResponse:
        if not request.HasField("row_policy"):
            raise InvalidArgument("row_policy", "is required")
        wanted = request.row_policy
        policy = await self._service.create_row_policy(call.tenant, request.parent, wanted.table, wanted.predicate,
                                                       list(wanted.exempt_roles))
        return access_service_pb2.CreateRowPolicyResponse(row_policy=convert.row_policy_to_proto(policy))

    @unary
    async def ListRowPolicies(self, request: access_service_pb2.ListRowPoliciesRequest, context: Any,
                              call: CallInfo) -> access_service_pb2.ListRowPoliciesResponse:
        policies = await self._service.list_row_policies(call.tenant, request.parent)
        return access_service_pb2.ListRowPoliciesResponse(row_policies=[convert.row_policy_to_proto(p)
                                                                        for p in policies])

    @unary
    async def DeleteRowPolicy(self, request: access_service_pb2.DeleteRowPolicyRequest, context: Any,
                              call: CallInfo) -> access_service_pb2.DeleteRowPolicyResponse:
        await self._service.delete_row_policy(call.tenant, request.name)
        return access_service_pb2.DeleteRowPolicyResponse()

    @unary
    async def ListAuditEvents(self, request: access_service_pb2.ListAuditEventsRequest, context: Any,
                              call: CallInfo) -> access_service_pb2.ListAuditEventsResponse:
        events, token = await self._service.list_audit_events(call.tenant, convert.audit_query_from_proto(request),
                                                              request.page_size, request.page_token)
        return access_service_pb2.ListAuditEventsResponse(audit_events=[convert.audit_event_to_proto(e)
                                                                        for e in events], next_page_token=token)
