"""What every servicer method shares: tenant and request id from metadata,
request-scoped log context, and the one translation of domain errors into statuses;
and what every call to another ChatDB service shares: the tenant and request id
forwarded, its failures turned back into domain errors, and the gRPC health probe.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
import structlog
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, NotSupportedError, ProgrammingError

from chatdb_server.errors import (
    STATUS_DETAILS_KEY,
    ChatDBError,
    FieldViolation,
    InvalidArgument,
    Unavailable,
    trailing_metadata,
)
from chatdb_server.log import get_logger

TENANT_HEADER = "x-chatdb-tenant"
REQUEST_ID_HEADER = "x-request-id"
DEFAULT_TENANT = "default"

log = get_logger(__name__)

Req = TypeVar("Req")
Resp = TypeVar("Resp")


@dataclass(frozen=True)
class CallInfo:
    """Who is calling and how to refer to this call in logs."""

    tenant: str
    request_id: str


_BOUND_CALL: ContextVar[CallInfo | None] = ContextVar("chatdb_bound_call", default=None)


def bind_call(info: CallInfo) -> Token[CallInfo | None]:
    """The tenant authentication settled and the request id of the call in progress; they win over metadata."""
    return _BOUND_CALL.set(info)


def unbind_call(token: Any) -> None:
    """Undo :func:`bind_call`."""
    _BOUND_CALL.reset(token)


def checked_tenant(tenant: str) -> str:
    """``tenant`` when it is a valid tenant id; InvalidArgument on the tenant header otherwise."""
    if not tenant.replace("-", "").replace("_", "").isalnum() or len(tenant) > 63:
        raise InvalidArgument(TENANT_HEADER, "tenant must be 1-63 letters, digits, '-' or '_'")
    return tenant


def request_id_of(metadata: dict[str, Any]) -> str:
    """The caller's request id, or a new one."""
    return str(metadata.get(REQUEST_ID_HEADER) or uuid.uuid4().hex)[:64]


def call_info(context: Any) -> CallInfo:
    """Tenant and request id: those authentication bound, else the call's metadata."""
    bound = _BOUND_CALL.get()
    if bound is not None:
        return bound
    metadata = dict(context.invocation_metadata() or ())
    tenant = checked_tenant(str(metadata.get(TENANT_HEADER) or DEFAULT_TENANT))
    return CallInfo(tenant=tenant, request_id=request_id_of(metadata))


async def _fail(context: Any, error: ChatDBError) -> None:
    """End the call with the error's status and its rich details.

    Under grpc.aio this aborts, which is what lets clients apply their retry policy
    to UNAVAILABLE; other contexts (grpcio-testing) get code, details and trailing
    metadata set, and the handler returns nothing."""
    if isinstance(context, grpc.aio.ServicerContext):
        await context.abort(error.code, error.message, trailing_metadata(error))
    context.set_trailing_metadata(trailing_metadata(error))
    context.set_code(error.code)
    context.set_details(error.message)


def _bind(method: str, context: Any) -> CallInfo:
    info = call_info(context)
    structlog.contextvars.bind_contextvars(request_id=info.request_id, tenant=info.tenant, rpc=method)
    return info


_QUERY_BUGS = (IntegrityError, ProgrammingError, DataError, NotSupportedError)
"""Database errors that mean our own statement was wrong, not that the store is unreachable."""


def _as_chatdb_error(exc: Exception) -> ChatDBError | None:
    """The caller-facing error for a failure that escaped the domain, when one is known.

    Target-database failures are classified where queries run; a SQLAlchemy connection
    error that reaches a servicer comes from the metadata store (degradation level 4)."""
    if isinstance(exc, ChatDBError):
        return exc
    connection_failure = isinstance(exc, DBAPIError) and not isinstance(exc, _QUERY_BUGS)
    if connection_failure or isinstance(exc, ConnectionError | TimeoutError):
        return Unavailable("the metadata store is unavailable; retry later", "DEGRADED",
                           {"dependency": "metadata"})
    return None


def unary(method: Callable[[Any, Any, Any, CallInfo], Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Wrap a unary servicer method ``(self, request, context, call)``: binds the
    call's log context, logs the outcome and turns domain errors into statuses."""

    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: Any) -> Any:
        started = time.perf_counter()
        name = method.__name__
        try:
            info = _bind(name, context)
            response = await method(self, request, context, info)
        except Exception as exc:
            error = _as_chatdb_error(exc)
            if error is None:
                raise
            log.info("rpc.error", code=error.code.name, reason=error.reason, message=error.message,
                     ms=round((time.perf_counter() - started) * 1000, 2))
            await _fail(context, error)
            return None
        finally:
            structlog.contextvars.clear_contextvars()
        log.debug("rpc.ok", rpc=name, ms=round((time.perf_counter() - started) * 1000, 2))
        return response

    return wrapper


def streaming(method: Callable[[Any, Any, Any, CallInfo], AsyncIterator[Any]]) -> Callable[..., AsyncIterator[Any]]:
    """Like :func:`unary` for server-streaming methods."""

    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: Any) -> AsyncIterator[Any]:
        name = method.__name__
        try:
            info = _bind(name, context)
            async for item in method(self, request, context, info):
                yield item
        except Exception as exc:
            error = _as_chatdb_error(exc)
            if error is None:
                raise
            log.info("rpc.error", code=error.code.name, reason=error.reason, message=error.message)
            await _fail(context, error)
        finally:
            structlog.contextvars.clear_contextvars()

    return wrapper


# ---- calling another ChatDB service ---------------------------------------------------------------

HEALTH_PROBE_DEADLINE_S = 1.0


def forwarded(tenant: str, request_id: str) -> tuple[tuple[str, str], ...]:
    """Metadata that carries the caller's tenant and request id to another service."""
    metadata = [(TENANT_HEADER, tenant)]
    if request_id:
        metadata.append((REQUEST_ID_HEADER, request_id))
    return tuple(metadata)


def remote_error(exc: grpc.aio.AioRpcError, service: str) -> ChatDBError:
    """The domain error of another service's failed call: its code, ErrorInfo reason and field violations
    kept, so a caller sees the same status the other service gave (UNAVAILABLE and deadlines as DEGRADED)."""
    code = exc.code()
    details = exc.details() or code.name
    info = error_details_pb2.ErrorInfo()
    fields: list[error_details_pb2.BadRequest.FieldViolation] = []
    for key, value in exc.trailing_metadata() or ():
        if key == STATUS_DETAILS_KEY and isinstance(value, bytes):
            for detail in status_pb2.Status.FromString(value).details:
                bad = error_details_pb2.BadRequest()
                if not detail.Unpack(info) and detail.Unpack(bad):
                    fields.extend(bad.field_violations)
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return ChatDBError(f"{service} is unavailable: {details}", "DEGRADED", {"dependency": service.lower()}, code)
    if fields:
        first, *more = fields
        return InvalidArgument(first.field, first.description, reason=info.reason or "INVALID_FIELD",
                               more=[FieldViolation(f.field, f.description) for f in more])
    return ChatDBError(details, info.reason or code.name, dict(info.metadata), code)


async def health_probe(channel: grpc.aio.Channel, service: str) -> None:
    """gRPC health check of ``service``; raises ConnectionError unless it is SERVING."""
    stub = health_pb2_grpc.HealthStub(channel)
    try:
        response = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=HEALTH_PROBE_DEADLINE_S)
    except grpc.aio.AioRpcError as exc:
        raise ConnectionError(f"{service}: {exc.code().name} {exc.details() or ''}".strip()) from None
    if response.status != health_pb2.HealthCheckResponse.SERVING:
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
        raise ConnectionError(f"{service}: {status}")
