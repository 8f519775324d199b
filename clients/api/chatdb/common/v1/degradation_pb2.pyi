from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class DegradationLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEGRADATION_LEVEL_UNSPECIFIED: _ClassVar[DegradationLevel]
    DEGRADATION_LEVEL_FULL: _ClassVar[DegradationLevel]
    DEGRADATION_LEVEL_NO_TRAINING: _ClassVar[DegradationLevel]
    DEGRADATION_LEVEL_NO_MODEL: _ClassVar[DegradationLevel]
    DEGRADATION_LEVEL_NO_DATABASE: _ClassVar[DegradationLevel]
    DEGRADATION_LEVEL_CRITICAL: _ClassVar[DegradationLevel]
DEGRADATION_LEVEL_UNSPECIFIED: DegradationLevel
DEGRADATION_LEVEL_FULL: DegradationLevel
DEGRADATION_LEVEL_NO_TRAINING: DegradationLevel
DEGRADATION_LEVEL_NO_MODEL: DegradationLevel
DEGRADATION_LEVEL_NO_DATABASE: DegradationLevel
DEGRADATION_LEVEL_CRITICAL: DegradationLevel
