from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class ErrorReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ERROR_REASON_UNSPECIFIED: _ClassVar[ErrorReason]
    ERROR_REASON_INVALID_FIELD: _ClassVar[ErrorReason]
    ERROR_REASON_NOT_FOUND: _ClassVar[ErrorReason]
    ERROR_REASON_ALREADY_EXISTS: _ClassVar[ErrorReason]
    ERROR_REASON_SOURCE_UNREACHABLE: _ClassVar[ErrorReason]
    ERROR_REASON_UNSAFE_SQL: _ClassVar[ErrorReason]
    ERROR_REASON_INVALID_SQL: _ClassVar[ErrorReason]
    ERROR_REASON_NOT_TRAINED: _ClassVar[ErrorReason]
    ERROR_REASON_QUERY_TIMEOUT: _ClassVar[ErrorReason]
    ERROR_REASON_QUERY_FAILED: _ClassVar[ErrorReason]
    ERROR_REASON_DEGRADED: _ClassVar[ErrorReason]
    ERROR_REASON_JOB_STATE: _ClassVar[ErrorReason]
    ERROR_REASON_BACKEND_UNAVAILABLE: _ClassVar[ErrorReason]
    ERROR_REASON_INVALID_PAGE_TOKEN: _ClassVar[ErrorReason]
    ERROR_REASON_UNSUPPORTED_DIALECT: _ClassVar[ErrorReason]
    ERROR_REASON_TOO_LARGE: _ClassVar[ErrorReason]
    ERROR_REASON_UNKNOWN_MODEL: _ClassVar[ErrorReason]
    ERROR_REASON_NO_ANSWER: _ClassVar[ErrorReason]
ERROR_REASON_UNSPECIFIED: ErrorReason
ERROR_REASON_INVALID_FIELD: ErrorReason
ERROR_REASON_NOT_FOUND: ErrorReason
ERROR_REASON_ALREADY_EXISTS: ErrorReason
ERROR_REASON_SOURCE_UNREACHABLE: ErrorReason
ERROR_REASON_UNSAFE_SQL: ErrorReason
ERROR_REASON_INVALID_SQL: ErrorReason
ERROR_REASON_NOT_TRAINED: ErrorReason
ERROR_REASON_QUERY_TIMEOUT: ErrorReason
ERROR_REASON_QUERY_FAILED: ErrorReason
ERROR_REASON_DEGRADED: ErrorReason
ERROR_REASON_JOB_STATE: ErrorReason
ERROR_REASON_BACKEND_UNAVAILABLE: ErrorReason
ERROR_REASON_INVALID_PAGE_TOKEN: ErrorReason
ERROR_REASON_UNSUPPORTED_DIALECT: ErrorReason
ERROR_REASON_TOO_LARGE: ErrorReason
ERROR_REASON_UNKNOWN_MODEL: ErrorReason
ERROR_REASON_NO_ANSWER: ErrorReason
