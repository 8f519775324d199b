"""Domain errors and their one translation into gRPC statuses with google.rpc details.

Domain modules raise these; servicers never build statuses by hand. Every status
carries one ``google.rpc.ErrorInfo`` (domain ``chatdb``, a stable reason from
``chatdb.common.v1.ErrorReason``) and, for bad input, ``BadRequest`` field violations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeAlias

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

ERROR_DOMAIN = "chatdb"
STATUS_DETAILS_KEY = "grpc-status-details-bin"


@dataclass
class ChatDBError(Exception):
    """Base of every error a caller is meant to see."""

    message: str
    reason: str = "UNSPECIFIED"
    metadata: dict[str, str] = field(default_factory=dict)
    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN

    def __str__(self) -> str:
        return self.message


@dataclass
class FieldViolation:
    """One bad request field."""

    field: str
    description: str


class InvalidArgument(ChatDBError):
    """A request field is malformed or missing."""

    def __init__(self, field_name: str, description: str, *, reason: str = "INVALID_FIELD",
                 more: list[FieldViolation] | None = None) -> None:
        super().__init__(f"{field_name}: {description}", reason, {"field": field_name},
                         grpc.StatusCode.INVALID_ARGUMENT)
        self.violations = [FieldViolation(field_name, description), *(more or [])]


class NotFound(ChatDBError):
    """The named resource does not exist for this tenant."""

    def __init__(self, resource_name: str, what: str = "resource", *, reason: str = "NOT_FOUND") -> None:
        super().__init__(f"{what} {resource_name!r} not found", reason, {"resource": resource_name},
                         grpc.StatusCode.NOT_FOUND)


class AlreadyExists(ChatDBError):
    """A resource with that name exists."""

    def __init__(self, resource_name: str) -> None:
        super().__init__(f"{resource_name!r} already exists", "ALREADY_EXISTS", {"resource": resource_name},
                         grpc.StatusCode.ALREADY_EXISTS)


class FailedPrecondition(ChatDBError):
    """The system is not in a state that allows the operation; the message says what to do."""

    def __init__(self, message: str, reason: str, metadata: dict[str, str] | None = None) -> None:
        super().__init__(message, reason, metadata or {}, grpc.StatusCode.FAILED_PRECONDITION)


class Unavailable(ChatDBError):
    """A dependency is down; retrying later may succeed."""

    def __init__(self, message: str, reason: str = "DEGRADED", metadata: dict[str, str] | None = None) -> None:
        super().__init__(message, reason, metadata or {}, grpc.StatusCode.UNAVAILABLE)


class DeadlineExceeded(ChatDBError):
    """The operation ran past its timeout and was cancelled."""

    def __init__(self, message: str, reason: str = "QUERY_TIMEOUT") -> None:
        super().__init__(message, reason, {}, grpc.StatusCode.DEADLINE_EXCEEDED)


class Unauthenticated(ChatDBError):
    """No credential, or one that is unknown, expired, revoked or fails verification."""

    def __init__(self, message: str, reason: str = "UNAUTHENTICATED") -> None:
        super().__init__(message, reason, {}, grpc.StatusCode.UNAUTHENTICATED)


class PermissionDenied(ChatDBError):
    """A known caller asked for something its roles or its tenant do not allow."""

    def __init__(self, message: str, reason: str = "PERMISSION_DENIED", metadata: dict[str, str] | None = None) -> None:
        super().__init__(message, reason, metadata or {}, grpc.StatusCode.PERMISSION_DENIED)


class ResourceExhausted(ChatDBError):
    """A quota is spent; ``retry_after_s`` says when the caller may try again (sent as google.rpc.RetryInfo)."""

    def __init__(self, message: str, retry_after_s: float, reason: str = "QUOTA_EXCEEDED",
                 metadata: dict[str, str] | None = None) -> None:
        super().__init__(message, reason, metadata or {}, grpc.StatusCode.RESOURCE_EXHAUSTED)
        self.retry_after_s = retry_after_s


class Unimplemented(ChatDBError):
    """The RPC is part of the contract but not served by this build."""

    def __init__(self, method: str) -> None:
        super().__init__(f"{method} is not implemented yet", "UNIMPLEMENTED", {"method": method},
                         grpc.StatusCode.UNIMPLEMENTED)


def to_status(error: ChatDBError) -> status_pb2.Status:
    """The google.rpc.Status of an error, details included."""
    info = error_details_pb2.ErrorInfo(reason=error.reason, domain=ERROR_DOMAIN,
                                       metadata={k: str(v) for k, v in error.metadata.items()})
    details = [_pack(info)]
    if isinstance(error, InvalidArgument):
        bad = error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in error.violations
        ])
        details.append(_pack(bad))
    if isinstance(error, ResourceExhausted):
        delay = duration_pb2.Duration()
        delay.FromTimedelta(timedelta(seconds=max(error.retry_after_s, 0.001)))
        details.append(_pack(error_details_pb2.RetryInfo(retry_delay=delay)))
    return status_pb2.Status(code=_code_number(error.code), message=error.message, details=details)


def trailing_metadata(error: ChatDBError) -> tuple[tuple[str, bytes], ...]:
    """Trailing metadata carrying the rich status, as grpc-status-details-bin."""
    return ((STATUS_DETAILS_KEY, to_status(error).SerializeToString()),)


Detail: TypeAlias = error_details_pb2.ErrorInfo | error_details_pb2.BadRequest | error_details_pb2.RetryInfo


def _pack(message: Detail) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)
    return packed


def _code_number(code: grpc.StatusCode) -> int:
    value = code.value[0]
    assert isinstance(value, int)
    return value


# Keep the google.rpc code enum referenced so a mismatch with grpc's numbering fails loudly.
assert grpc.StatusCode.INVALID_ARGUMENT.value[0] == code_pb2.INVALID_ARGUMENT
