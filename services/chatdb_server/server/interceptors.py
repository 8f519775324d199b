"""The gRPC server interceptor every call passes through first: authentication, authorisation,
quotas and the audit log.

It wraps each method's handler so that, before the servicer runs, the call's credential
(``authorization: Bearer``, or the verified client certificate) becomes a principal, the
principal's roles are checked against the permission the method needs, and the tenant the call
acts for is settled (the tenant header is honoured only for operators). The principal, tenant
and request id are then bound for the servicer; asks pass the quotas; and a call that reads data
or changes configuration leaves one audit event when it ends, refused or not. Health checking
and reflection stay open for probes and tools.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, suppress
from types import TracebackType
from typing import Any

import grpc

from chatdb_server.access.audit import AuditEvent, AuditLog
from chatdb_server.access.authenticate import Authenticator, Credentials, bearer_of
from chatdb_server.access.context import AuditFacts, bind_principal, close_facts, open_facts, unbind_principal
from chatdb_server.access.permissions import (
    METERED_METHODS,
    Permission,
    asks_in,
    is_audited,
    required_permission,
)
from chatdb_server.access.principal import Principal
from chatdb_server.access.quotas import Quotas
from chatdb_server.errors import ChatDBError, Unavailable, Unimplemented, trailing_metadata
from chatdb_server.log import get_logger
from chatdb_server.rpc import TENANT_HEADER, CallInfo, bind_call, checked_tenant, request_id_of, unbind_call
from chatdb_server.server import rpc_metrics
from chatdb_server.server.call_resources import data_source_of, request_resource, response_resource
from chatdb_server.server.request_checks import Malformed, checked_deserializer

log = get_logger(__name__)

_CERTIFICATE_NAME_KEYS = ("x509_common_name", "x509_subject_alternative_name")


def certificate_names(context: grpc.aio.ServicerContext) -> tuple[str, ...]:
    """The verified client certificate's common name and SANs; empty without mTLS."""
    auth = context.auth_context() or {}
    return tuple(value.decode() if isinstance(value, bytes) else str(value)
                 for key in _CERTIFICATE_NAME_KEYS for value in auth.get(key, ()))


class AccessInterceptor(grpc.aio.ServerInterceptor):
    """Authenticates, authorises, meters and audits every call of ChatDB's services."""

    def __init__(self, authenticator: Authenticator, audit: AuditLog, quotas: Quotas) -> None:
        self.authenticator = authenticator
        self.audit = audit
        self.quotas = quotas

    async def intercept_service(self, continuation: Callable[[grpc.HandlerCallDetails],
                                                             Awaitable[grpc.RpcMethodHandler]],
                                details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        method = details.method  # type: ignore[attr-defined]
        if handler is None:
            return handler
        try:
            permission = required_permission(method)
        except KeyError:
            # A method of the contract this table does not name: refuse rather than serve it unchecked.
            return _refusing(handler, Unimplemented(method))
        if permission is None:
            return _open(handler)
        return _guarded(handler, lambda request, context: _Call(self, method, permission, request, context))


class _Call:
    """One call's passage, as an async context around the servicer."""

    def __init__(self, gate: AccessInterceptor, method: str, permission: Permission, request: Any,
                 context: grpc.aio.ServicerContext) -> None:
        self._gate = gate
        self._method = method
        self._permission = permission
        self._resource = request_resource(request)
        self._request = request
        self._context = context
        # Read now: a stream its caller abandoned ends after grpc has released the call, when asking the
        # context for its peer would touch freed memory.
        self._peer = context.peer() or ""
        self._started = time.perf_counter()
        self._principal: Principal | None = None
        self._info: CallInfo | None = None
        self._facts = AuditFacts()
        self._scope = AsyncExitStack()

    async def __aenter__(self) -> None:
        in_flight = rpc_metrics.IN_FLIGHT.labels(*rpc_metrics.split(self._method))
        in_flight.inc()
        self._scope.callback(in_flight.dec)
        context = self._context
        metadata = {key: value for key, value in context.invocation_metadata() or () if isinstance(value, str)}
        self._info = CallInfo(tenant="", request_id=request_id_of(metadata))
        try:
            authorization = metadata.get("authorization", "")
            bearer = bearer_of(authorization) if authorization else ""
            # A bearer credential decides alone; the certificate is read only without one (reading the
            # auth context costs more than the rest of the authentication of a cached key).
            credentials = Credentials(bearer=bearer, certificate_names=() if bearer else certificate_names(context))
            principal = await self._gate.authenticator.authenticate(credentials)
        except ChatDBError as error:
            # Not audited: an unauthenticated caller could otherwise fill the audit log at will.
            log.info("access.refused", rpc=self._method, reason=error.reason, code=error.code.name,
                     peer=self._peer)
            await self._scope.aclose()
            self._count(error.code)
            await _abort(context, error)
        self._principal = principal
        try:
            principal.require(self._permission, self._method)
            tenant = checked_tenant(principal.acting_tenant(metadata.get(TENANT_HEADER, "")))
            self._principal = principal = principal.with_tenant(tenant)
            self._info = CallInfo(tenant=tenant, request_id=self._info.request_id)
            self._bind()
            if self._method in METERED_METHODS:
                await self._scope.enter_async_context(
                    self._gate.quotas.ask(principal, asks_in(self._method, self._request)))
        except ChatDBError as error:
            await self._scope.aclose()
            log.info("access.refused", rpc=self._method, reason=error.reason, code=error.code.name,
                     principal=principal.subject)
            self._count(error.code)
            await self._record(error.code)
            await _abort(context, error)

    def _bind(self) -> None:
        assert self._info is not None
        principal_token = bind_principal(self._principal)
        call_token = bind_call(self._info)
        self._facts, facts_token = open_facts()

        def unbind() -> None:
            for undo, token in ((close_facts, facts_token), (unbind_call, call_token),
                                (unbind_principal, principal_token)):
                # A stream the caller abandoned is closed from another context, where there is nothing to
                # restore; the call must still be counted and audited.
                with suppress(ValueError):
                    undo(token)

        self._scope.callback(unbind)

    def answered(self, response: Any) -> Any:
        """Note the resource a create made (when the request could not name it); ``response`` unchanged."""
        if not self._resource:
            self._resource = response_resource(response)
        return response

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        traceback: TracebackType | None) -> None:
        await self._scope.aclose()
        if isinstance(error, asyncio.CancelledError | GeneratorExit):  # the caller went away mid-call
            code = grpc.StatusCode.CANCELLED
        elif (code := self._context.code()) is None:
            code = grpc.StatusCode.OK if error is None else grpc.StatusCode.UNKNOWN
        self._count(code)
        await self._record(code)

    def _count(self, code: grpc.StatusCode) -> None:
        """Count the call in the metrics and write its access log line (with the call's trace id)."""
        seconds = time.perf_counter() - self._started
        rpc_metrics.handled(self._method, code, seconds)
        log.info("rpc.handled", rpc=self._method, code=code.name, duration_ms=round(seconds * 1000, 3),
                 request_id=self._info.request_id if self._info else "")

    async def _record(self, code: grpc.StatusCode) -> None:
        """The call's audit event, when the method is audited. A call whose event cannot be written
        fails (UNAVAILABLE): nothing that must be audited is served unaudited."""
        principal, info = self._principal, self._info
        if principal is None or info is None or not is_audited(self._method, self._permission):
            return
        facts = self._facts
        resource = facts.resource or self._resource
        event = AuditEvent(principal=principal.subject, tenant=principal.tenant, method=self._method,
                           status_code=code.name, resource=resource,
                           data_source=facts.data_source or data_source_of(resource),
                           question=facts.question, sql=facts.sql, row_count=facts.row_count,
                           duration_ms=round((time.perf_counter() - self._started) * 1000, 3),
                           request_id=info.request_id, peer=self._peer)
        try:
            await self._gate.audit.append(event)
        except Exception:
            log.exception("audit.write_failed", rpc=self._method, principal=principal.subject)
            if code is grpc.StatusCode.OK:
                await _abort(self._context, Unavailable("the audit log cannot be written; retry later",
                                                        metadata={"dependency": "metadata"}))


async def _abort(context: grpc.aio.ServicerContext, error: ChatDBError) -> Any:
    await context.abort(error.code, error.message, trailing_metadata(error))


CallScope = Callable[[Any, grpc.aio.ServicerContext], _Call]


def _guarded(handler: grpc.RpcMethodHandler, scope: CallScope) -> grpc.RpcMethodHandler:
    """``handler`` run inside its call's scope. Requests are decoded by :func:`checked_deserializer`: one that
    does not decode, or holds an enum number the contract does not define, is answered INVALID_ARGUMENT
    inside the scope (authenticated, counted and audited like any refusal) and never reaches the servicer."""
    deserialize = checked_deserializer(handler.request_deserializer)
    if handler.unary_unary:
        inner = handler.unary_unary

        async def unary_unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
            call = scope(request, context)
            async with call:
                if isinstance(request, Malformed):
                    await _abort(context, request.error)
                return call.answered(await inner(request, context))

        return grpc.unary_unary_rpc_method_handler(unary_unary, deserialize, handler.response_serializer)
    if handler.unary_stream:
        inner_stream = handler.unary_stream

        async def unary_stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            async with scope(request, context):
                if isinstance(request, Malformed):
                    await _abort(context, request.error)
                async for response in inner_stream(request, context):
                    yield response

        return grpc.unary_stream_rpc_method_handler(unary_stream, deserialize, handler.response_serializer)
    return _refusing(handler, Unimplemented("client-streaming methods"))


def _open(handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    """A method open to every caller (health checking): served as it is, but a request that does not decode
    is answered INVALID_ARGUMENT rather than UNKNOWN. Streaming requests (reflection) and handlers that are not
    coroutines pass untouched."""
    deserialize = checked_deserializer(handler.request_deserializer)
    served = handler.unary_unary or handler.unary_stream
    if not inspect.iscoroutinefunction(served):
        return handler

    async def checked(request: Any, context: grpc.aio.ServicerContext) -> Any:
        if isinstance(request, Malformed):
            await _abort(context, request.error)
        return await served(request, context)

    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(checked, deserialize, handler.response_serializer)
    return grpc.unary_stream_rpc_method_handler(checked, deserialize, handler.response_serializer)


def _refusing(handler: grpc.RpcMethodHandler, error: ChatDBError) -> grpc.RpcMethodHandler:
    """A handler that answers every call with ``error``."""

    async def refuse(request: Any, context: grpc.aio.ServicerContext) -> Any:
        await _abort(context, error)

    async def refuse_stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        await _abort(context, error)
        yield  # never reached: abort raises

    deserialize = checked_deserializer(handler.request_deserializer)  # the refusal stands whatever was sent
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(refuse_stream, deserialize, handler.response_serializer)
    return grpc.unary_unary_rpc_method_handler(refuse, deserialize, handler.response_serializer)
