"""Errors a caller of the client sees.

Every failed call raises :class:`ChatDBError`: the gRPC status code and message,
plus the ``google.rpc`` details the server attached (``ErrorInfo`` with a stable
reason such as ``UNSAFE_SQL``, ``BadRequest`` field violations), parsed from the
``grpc-status-details-bin`` trailer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import any_pb2, message
from google.rpc import error_details_pb2, status_pb2

STATUS_DETAILS_KEY = "grpc-status-details-bin"

# The detail types of google/rpc/error_details.proto, tried in turn on each packed detail.
_DETAIL_TYPES: tuple[type[message.Message], ...] = (
    error_details_pb2.ErrorInfo,
    error_details_pb2.BadRequest,
    error_details_pb2.RetryInfo,
    error_details_pb2.DebugInfo,
    error_details_pb2.QuotaFailure,
    error_details_pb2.PreconditionFailure,
    error_details_pb2.ResourceInfo,
    error_details_pb2.RequestInfo,
    error_details_pb2.Help,
    error_details_pb2.LocalizedMessage,
)

_CODES_BY_NUMBER = {code.value[0]: code for code in grpc.StatusCode}


@dataclass(frozen=True)
class FieldViolation:
    """One bad request field, from a ``BadRequest`` detail."""

    field: str
    description: str


class ChatDBError(Exception):
    """A call failed with a gRPC status.

    ``reason`` is the ``ErrorInfo`` reason (``""`` when the server sent none), the
    value a caller should switch on; ``details`` holds every detail message, known
    ones unpacked and unknown ones as ``google.protobuf.Any``."""

    def __init__(self, code: grpc.StatusCode, message: str, *, details: Iterable[message.Message] = (),
                 request_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = list(details)
        self.request_id = request_id
        info = self.detail(error_details_pb2.ErrorInfo)
        self.reason: str = info.reason if info else ""
        self.domain: str = info.domain if info else ""
        self.metadata: dict[str, str] = dict(info.metadata) if info else {}
        bad = self.detail(error_details_pb2.BadRequest)
        self.field_violations: list[FieldViolation] = [
            FieldViolation(v.field, v.description) for v in (bad.field_violations if bad else ())
        ]

    def detail(self, kind: type[Any]) -> Any | None:
        """The first detail of the given message type, or None."""
        return next((d for d in self.details if isinstance(d, kind)), None)

    @property
    def fields(self) -> list[str]:
        """The names of the bad request fields."""
        return [v.field for v in self.field_violations]

    def __str__(self) -> str:
        reason = f" [{self.reason}]" if self.reason else ""
        return f"{self.code.name}: {self.message}{reason}"

    def __repr__(self) -> str:
        return f"ChatDBError(code={self.code.name}, message={self.message!r}, reason={self.reason!r})"

    @classmethod
    def from_status(cls, status: status_pb2.Status, *, request_id: str | None = None) -> ChatDBError:
        """The error a ``google.rpc.Status`` describes."""
        code = _CODES_BY_NUMBER.get(status.code, grpc.StatusCode.UNKNOWN)
        return cls(code, status.message, details=[_unpack(d) for d in status.details], request_id=request_id)

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError, *, request_id: str | None = None) -> ChatDBError:
        """The error behind a failed call (sync ``grpc.RpcError`` or ``grpc.aio.AioRpcError``)."""
        call: Any = error
        code = call.code() if hasattr(call, "code") else grpc.StatusCode.UNKNOWN
        message_text = (call.details() if hasattr(call, "details") else None) or ""
        status = _rich_status(call.trailing_metadata() if hasattr(call, "trailing_metadata") else None)
        details = [_unpack(d) for d in status.details] if status else []
        return cls(code or grpc.StatusCode.UNKNOWN, message_text, details=details, request_id=request_id)


class TrainingJobFailed(Exception):
    """A training job the client waited for ended FAILED or CANCELLED.

    ``job`` is the final ``TrainingJob``; ``reason`` and ``message`` repeat its
    ``error_reason`` and ``error_message``."""

    def __init__(self, job: Any, state: str) -> None:
        self.job = job
        self.state = state
        self.reason: str = job.error_reason
        self.message: str = job.error_message
        super().__init__(f"{job.name} {state.lower()}: {job.error_message or job.error_reason or 'no reason given'}")


def _rich_status(trailing: Any) -> status_pb2.Status | None:
    for key, value in trailing or ():
        if key == STATUS_DETAILS_KEY:
            return status_pb2.Status.FromString(value)
    return None


def _unpack(packed: any_pb2.Any) -> message.Message:
    for kind in _DETAIL_TYPES:
        if packed.Is(kind.DESCRIPTOR):
            detail = kind()
            packed.Unpack(detail)
            return detail
    return packed
