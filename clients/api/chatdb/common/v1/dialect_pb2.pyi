from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class Dialect(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DIALECT_UNSPECIFIED: _ClassVar[Dialect]
    DIALECT_POSTGRESQL: _ClassVar[Dialect]
    DIALECT_MYSQL: _ClassVar[Dialect]
    DIALECT_SQLITE: _ClassVar[Dialect]
DIALECT_UNSPECIFIED: Dialect
DIALECT_POSTGRESQL: Dialect
DIALECT_MYSQL: Dialect
DIALECT_SQLITE: Dialect
