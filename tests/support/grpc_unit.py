"""Drive async servicers through grpcio-testing, without a network.

grpc_testing calls handlers synchronously; :class:`SyncServicer` runs each async
servicer method to completion on one event loop (the test's own, when given) so
unary and server-streaming RPCs, statuses and trailing metadata are observed exactly
as grpc_testing records them.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import grpc_testing
from google.protobuf.descriptor import ServiceDescriptor
from google.rpc import error_details_pb2, status_pb2

from chatdb_server.errors import STATUS_DETAILS_KEY


class SyncServicer:
    """Wraps an async servicer so grpc_testing can call it."""

    def __init__(self, servicer: Any, loop: asyncio.AbstractEventLoop) -> None:
        self._servicer = servicer
        self._loop = loop

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._servicer, name)
        if inspect.isasyncgenfunction(method):
            def stream(request: Any, context: Any) -> Iterator[Any]:
                agen = method(request, context)
                while True:
                    try:
                        yield self._loop.run_until_complete(agen.__anext__())
                    except StopAsyncIteration:
                        return
            return stream

        def unary(request: Any, context: Any) -> Any:
            return self._loop.run_until_complete(method(request, context))
        return unary


class UnitServer:
    """A grpc_testing server over one async servicer."""

    def __init__(self, descriptor: ServiceDescriptor, servicer: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.descriptor = descriptor
        self.server = grpc_testing.server_from_dictionary(
            {descriptor: SyncServicer(servicer, loop)}, grpc_testing.strict_real_time())

    def unary(self, method: str, request: Any, metadata: tuple[tuple[str, str], ...] = (),
              timeout: float | None = None) -> tuple[Any, grpc.StatusCode, str, Any]:
        """Call a unary method: (response, code, details, trailing metadata)."""
        rpc = self.server.invoke_unary_unary(self.descriptor.methods_by_name[method], metadata, request, timeout)
        response, trailing, code, details = rpc.termination()
        return response, code, details, trailing

    def stream(self, method: str, request: Any, metadata: tuple[tuple[str, str], ...] = (),
               timeout: float | None = None) -> tuple[list[Any], grpc.StatusCode, str, Any]:
        """Call a server-streaming method: (responses, code, details, trailing metadata)."""
        rpc = self.server.invoke_unary_stream(self.descriptor.methods_by_name[method], metadata, request, timeout)
        responses = []
        while True:
            try:
                responses.append(rpc.take_response())
            except ValueError:
                break
        trailing, code, details = rpc.termination()
        return responses, code, details, trailing


def rich_status(trailing: Any) -> status_pb2.Status | None:
    """The google.rpc.Status in trailing metadata, if any."""
    for key, value in trailing or ():
        if key == STATUS_DETAILS_KEY:
            return status_pb2.Status.FromString(value)
    return None


def error_info(trailing: Any) -> error_details_pb2.ErrorInfo | None:
    """The ErrorInfo detail of a status, if any."""
    status = rich_status(trailing)
    for detail in status.details if status else ():
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info
    return None


def bad_request_fields(trailing: Any) -> list[str]:
    """Fields named by the BadRequest detail, if any."""
    status = rich_status(trailing)
    for detail in status.details if status else ():
        bad = error_details_pb2.BadRequest()
        if detail.Unpack(bad):
            return [v.field for v in bad.field_violations]
    return []
