"""Errors a caller of the client sees.

Every failed call raises a :class:`ChatDBError`: the gRPC status code and message,
plus the ``google.rpc`` details the server attached (``ErrorInfo`` with a stable
reason such as ``UNSAFE_SQL``, ``BadRequest`` field violations), parsed from the
``grpc-status-details-bin`` trailer. What is raised is the subclass of its status
code (:class:`NotFound`, :class:`InvalidArgument`, :class:`PermissionDenied`, ...),
so callers may catch one kind of failure, or every one with ``except ChatDBError``.
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
        return f"{type(self).__name__}(code={self.code.name}, message={self.message!r}, reason={self.reason!r})"

    @staticmethod
    def for_code(code: grpc.StatusCode) -> type[ChatDBError]:
        """The class raised for ``code``: its subclass, or ChatDBError itself for OK."""
        return _CLASSES_BY_CODE.get(code, ChatDBError)

    @classmethod
    def from_status(cls, status: status_pb2.Status, *, request_id: str | None = None) -> ChatDBError:
        """The error a ``google.rpc.Status`` describes, as the subclass of its code."""
        code = _CODES_BY_NUMBER.get(status.code, grpc.StatusCode.UNKNOWN)
        return cls.for_code(code)(code, status.message, details=[_unpack(d) for d in status.details],
                                  request_id=request_id)

    @classmethod
    def from_rpc_error(cls, error: grpc.RpcError, *, request_id: str | None = None) -> ChatDBError:
        """The error behind a failed call (sync ``grpc.RpcError`` or ``grpc.aio.AioRpcError``), as the
        subclass of its code."""
        call: Any = error
        code = (call.code() if hasattr(call, "code") else None) or grpc.StatusCode.UNKNOWN
        message_text = (call.details() if hasattr(call, "details") else None) or ""
        status = _rich_status(call.trailing_metadata() if hasattr(call, "trailing_metadata") else None)
        details = [_unpack(d) for d in status.details] if status else []
        return cls.for_code(code)(code, message_text, details=details, request_id=request_id)


class Cancelled(ChatDBError):
    """CANCELLED: the call was cancelled, usually by the caller."""


class Unknown(ChatDBError):
    """UNKNOWN: the server failed without saying how."""


class InvalidArgument(ChatDBError):
    """INVALID_ARGUMENT: a request field is wrong; ``field_violations`` (and ``fields``) name them."""


class DeadlineExceeded(ChatDBError):
    """DEADLINE_EXCEEDED: the call's deadline passed before it finished."""


class NotFound(ChatDBError):
    """NOT_FOUND: the resource does not exist for this caller; ``metadata["resource"]`` names it."""


class AlreadyExists(ChatDBError):
    """ALREADY_EXISTS: a resource with that name exists already."""


class PermissionDenied(ChatDBError):
    """PERMISSION_DENIED: the credential's roles do not grant what the call needs."""


class ResourceExhausted(ChatDBError):
    """RESOURCE_EXHAUSTED: a quota or size limit was reached; retry later (see ``RetryInfo`` in ``details``)."""


class FailedPrecondition(ChatDBError):
    """FAILED_PRECONDITION: the system is not in a state for the call (``reason`` says why, e.g.
    ``NOT_TRAINED``, ``UNSAFE_SQL``, ``SOURCE_UNREACHABLE``)."""


class Aborted(ChatDBError):
    """ABORTED: the call conflicted with another one; it may be retried."""


class OutOfRange(ChatDBError):
    """OUT_OF_RANGE: a value is past the valid range."""


class Unimplemented(ChatDBError):
    """UNIMPLEMENTED: the server does not offer this method."""


class Internal(ChatDBError):
    """INTERNAL: the server broke an invariant of its own."""


class Unavailable(ChatDBError):
    """UNAVAILABLE: the server, or something it needs, cannot answer now (``reason`` ``DEGRADED`` when a
    dependency is down); idempotent calls were already retried."""


class DataLoss(ChatDBError):
    """DATA_LOSS: data was lost or corrupted."""


class Unauthenticated(ChatDBError):
    """UNAUTHENTICATED: no credential, or one that is unknown, expired or revoked."""


_CLASSES_BY_CODE: dict[grpc.StatusCode, type[ChatDBError]] = {
    grpc.StatusCode.CANCELLED: Cancelled,
    grpc.StatusCode.UNKNOWN: Unknown,
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.ABORTED: Aborted,
    grpc.StatusCode.OUT_OF_RANGE: OutOfRange,
    grpc.StatusCode.UNIMPLEMENTED: Unimplemented,
    grpc.StatusCode.INTERNAL: Internal,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DATA_LOSS: DataLoss,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
}


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
