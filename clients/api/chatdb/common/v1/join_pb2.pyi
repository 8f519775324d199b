from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JoinEdgeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOIN_EDGE_KIND_UNSPECIFIED: _ClassVar[JoinEdgeKind]
    JOIN_EDGE_KIND_DECLARED: _ClassVar[JoinEdgeKind]
    JOIN_EDGE_KIND_INFERRED: _ClassVar[JoinEdgeKind]
JOIN_EDGE_KIND_UNSPECIFIED: JoinEdgeKind
JOIN_EDGE_KIND_DECLARED: JoinEdgeKind
JOIN_EDGE_KIND_INFERRED: JoinEdgeKind

class JoinEdge(_message.Message):
    __slots__ = ("from_table", "from_columns", "to_table", "to_columns", "kind", "confidence", "reason")
    FROM_TABLE_FIELD_NUMBER: _ClassVar[int]
    FROM_COLUMNS_FIELD_NUMBER: _ClassVar[int]
    TO_TABLE_FIELD_NUMBER: _ClassVar[int]
    TO_COLUMNS_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    from_table: str
    from_columns: _containers.RepeatedScalarFieldContainer[str]
    to_table: str
    to_columns: _containers.RepeatedScalarFieldContainer[str]
    kind: JoinEdgeKind
    confidence: float
    reason: str
    def __init__(self, from_table: _Optional[str] = ..., from_columns: _Optional[_Iterable[str]] = ..., to_table: _Optional[str] = ..., to_columns: _Optional[_Iterable[str]] = ..., kind: _Optional[_Union[JoinEdgeKind, str]] = ..., confidence: _Optional[float] = ..., reason: _Optional[str] = ...) -> None: ...
