"""The gRPC server interceptor every call passes through first: authentication, then authorisation.

It wraps each method's handler so that, before the servicer runs, the call's credential
(``authorization: Bearer``, or the verified client certificate) becomes a principal, the
principal's roles are checked against the permission the method needs, and the tenant the call
acts for is settled (the tenant header is honoured only for operators). The principal and tenant
are then bound for the servicer. Health checking and reflection stay open for probes and tools.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from chatdb_server.access.authenticate import Authenticator, Credentials, bearer_of
from chatdb_server.access.context import bind_principal, unbind_principal
from chatdb_server.access.permissions import Permission, required_permission
from chatdb_server.access.principal import Principal
from chatdb_server.errors import ChatDBError, Unimplemented, trailing_metadata
from chatdb_server.log import get_logger
from chatdb_server.rpc import TENANT_HEADER, bind_tenant, unbind_tenant

log = get_logger(__name__)

_CERTIFICATE_NAME_KEYS = ("x509_common_name", "x509_subject_alternative_name")


def certificate_names(context: grpc.aio.ServicerContext) -> tuple[str, ...]:
    """The verified client certificate's common name and SANs; empty without mTLS."""
    auth = context.auth_context() or {}
    return tuple(value.decode() if isinstance(value, bytes) else str(value)
                 for key in _CERTIFICATE_NAME_KEYS for value in auth.get(key, ()))


class AccessInterceptor(grpc.aio.ServerInterceptor):
    """Authenticates and authorises every call of ChatDB's services."""

    def __init__(self, authenticator: Authenticator) -> None:
        self._authenticator = authenticator

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
            return handler
        return _guarded(handler, method, lambda context: self._admit(context, method, permission))

    async def _admit(self, context: grpc.aio.ServicerContext, method: str, permission: Permission) -> Principal:
        metadata = {key: value for key, value in context.invocation_metadata() or () if isinstance(value, str)}
        authorization = metadata.get("authorization", "")
        credentials = Credentials(bearer=bearer_of(authorization) if authorization else "",
                                  certificate_names=certificate_names(context))
        principal = await self._authenticator.authenticate(credentials)
        principal.require(permission, method)
        principal = principal.with_tenant(principal.acting_tenant(metadata.get(TENANT_HEADER, "")))
        return principal


Admit = Callable[[grpc.aio.ServicerContext], Awaitable[Principal]]


async def _abort(context: grpc.aio.ServicerContext, error: ChatDBError) -> None:
    await context.abort(error.code, error.message, trailing_metadata(error))


def _guarded(handler: grpc.RpcMethodHandler, method: str, admit: Admit) -> grpc.RpcMethodHandler:
    """``handler`` with ``admit`` run first and its principal bound while the servicer runs."""

    async def enter(context: grpc.aio.ServicerContext) -> tuple[object, object] | None:
        try:
            principal = await admit(context)
        except ChatDBError as error:
            log.info("access.refused", rpc=method, reason=error.reason,
                     code=error.code.name)
            await _abort(context, error)
            return None
        return bind_principal(principal), bind_tenant(principal.tenant)

    def leave(tokens: tuple[object, object]) -> None:
        unbind_tenant(tokens[1])
        unbind_principal(tokens[0])

    if handler.unary_unary:
        inner = handler.unary_unary

        async def unary_unary(request: Any, context: grpc.aio.ServicerContext) -> Any:
            tokens = await enter(context)
            try:
                return await inner(request, context)
            finally:
                if tokens is not None:
                    leave(tokens)

        return grpc.unary_unary_rpc_method_handler(unary_unary, handler.request_deserializer,
                                                   handler.response_serializer)
    if handler.unary_stream:
        inner_stream = handler.unary_stream

        async def unary_stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            tokens = await enter(context)
            try:
                async for response in inner_stream(request, context):
                    yield response
            finally:
                if tokens is not None:
                    leave(tokens)

        return grpc.unary_stream_rpc_method_handler(unary_stream, handler.request_deserializer,
                                                    handler.response_serializer)
    return _refusing(handler, Unimplemented("client-streaming methods"))


def _refusing(handler: grpc.RpcMethodHandler, error: ChatDBError) -> grpc.RpcMethodHandler:
    """A handler that answers every call with ``error``."""

    async def refuse(request: Any, context: grpc.aio.ServicerContext) -> Any:
        await _abort(context, error)

    async def refuse_stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        await _abort(context, error)
        yield  # never reached: abort raises

    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(refuse_stream, handler.request_deserializer,
                                                    handler.response_serializer)
    return grpc.unary_unary_rpc_method_handler(refuse, handler.request_deserializer, handler.response_serializer)
