"""What every servicer method shares: tenant and request id from metadata,
request-scoped log context, and the one translation of domain errors into statuses.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
import structlog
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, NotSupportedError, ProgrammingError

from chatdb_server.errors import ChatDBError, InvalidArgument, Unavailable, trailing_metadata
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


def call_info(context: Any) -> CallInfo:
    """Tenant and request id from the call's metadata."""
    metadata = dict(context.invocation_metadata() or ())
    tenant = str(metadata.get(TENANT_HEADER) or DEFAULT_TENANT)
    if not tenant.replace("-", "").replace("_", "").isalnum() or len(tenant) > 63:
        raise InvalidArgument(TENANT_HEADER, "tenant must be 1-63 letters, digits, '-' or '_'")
    request_id = str(metadata.get(REQUEST_ID_HEADER) or uuid.uuid4().hex)
    return CallInfo(tenant=tenant, request_id=request_id)


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
