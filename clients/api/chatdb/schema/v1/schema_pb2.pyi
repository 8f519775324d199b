import datetime

from chatdb.common.v1 import dialect_pb2 as _dialect_pb2
from chatdb.common.v1 import value_pb2 as _value_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TableKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TABLE_KIND_UNSPECIFIED: _ClassVar[TableKind]
    TABLE_KIND_TABLE: _ClassVar[TableKind]
    TABLE_KIND_VIEW: _ClassVar[TableKind]

class TrainingState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRAINING_STATE_UNSPECIFIED: _ClassVar[TrainingState]
    TRAINING_STATE_UNTRAINED: _ClassVar[TrainingState]
    TRAINING_STATE_TRAINED: _ClassVar[TrainingState]
    TRAINING_STATE_STALE: _ClassVar[TrainingState]

class TableView(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TABLE_VIEW_UNSPECIFIED: _ClassVar[TableView]
    TABLE_VIEW_BASIC: _ClassVar[TableView]
    TABLE_VIEW_FULL: _ClassVar[TableView]
TABLE_KIND_UNSPECIFIED: TableKind
TABLE_KIND_TABLE: TableKind
TABLE_KIND_VIEW: TableKind
TRAINING_STATE_UNSPECIFIED: TrainingState
TRAINING_STATE_UNTRAINED: TrainingState
TRAINING_STATE_TRAINED: TrainingState
TRAINING_STATE_STALE: TrainingState
TABLE_VIEW_UNSPECIFIED: TableView
TABLE_VIEW_BASIC: TableView
TABLE_VIEW_FULL: TableView

class DataSource(_message.Message):
    __slots__ = ("name", "display_name", "dsn", "dialect", "redacted_dsn", "schemas", "default_adapter", "labels", "table_count", "create_time", "update_time", "discover_time", "refresh_interval", "auto_retrain", "next_refresh_time", "min_confidence")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    DSN_FIELD_NUMBER: _ClassVar[int]
    DIALECT_FIELD_NUMBER: _ClassVar[int]
    REDACTED_DSN_FIELD_NUMBER: _ClassVar[int]
    SCHEMAS_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_ADAPTER_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    TABLE_COUNT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DISCOVER_TIME_FIELD_NUMBER: _ClassVar[int]
    REFRESH_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    AUTO_RETRAIN_FIELD_NUMBER: _ClassVar[int]
    NEXT_REFRESH_TIME_FIELD_NUMBER: _ClassVar[int]
    MIN_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    dsn: str
    dialect: _dialect_pb2.Dialect
    redacted_dsn: str
    schemas: _containers.RepeatedScalarFieldContainer[str]
    default_adapter: str
    labels: _containers.ScalarMap[str, str]
    table_count: int
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    discover_time: _timestamp_pb2.Timestamp
    refresh_interval: _duration_pb2.Duration
    auto_retrain: bool
    next_refresh_time: _timestamp_pb2.Timestamp
    min_confidence: float
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., dsn: _Optional[str] = ..., dialect: _Optional[_Union[_dialect_pb2.Dialect, str]] = ..., redacted_dsn: _Optional[str] = ..., schemas: _Optional[_Iterable[str]] = ..., default_adapter: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., table_count: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., discover_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., refresh_interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., auto_retrain: _Optional[bool] = ..., next_refresh_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., min_confidence: _Optional[float] = ...) -> None: ...

class Column(_message.Message):
    __slots__ = ("name", "data_type", "value_type", "nullable", "default_value", "comment", "primary_key")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DATA_TYPE_FIELD_NUMBER: _ClassVar[int]
    VALUE_TYPE_FIELD_NUMBER: _ClassVar[int]
    NULLABLE_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_VALUE_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_KEY_FIELD_NUMBER: _ClassVar[int]
    name: str
    data_type: str
    value_type: _value_pb2.ValueType
    nullable: bool
    default_value: str
    comment: str
    primary_key: bool
    def __init__(self, name: _Optional[str] = ..., data_type: _Optional[str] = ..., value_type: _Optional[_Union[_value_pb2.ValueType, str]] = ..., nullable: _Optional[bool] = ..., default_value: _Optional[str] = ..., comment: _Optional[str] = ..., primary_key: _Optional[bool] = ...) -> None: ...

class ForeignKey(_message.Message):
    __slots__ = ("name", "columns", "referred_table", "referred_columns", "on_delete", "on_update")
    NAME_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    REFERRED_TABLE_FIELD_NUMBER: _ClassVar[int]
    REFERRED_COLUMNS_FIELD_NUMBER: _ClassVar[int]
    ON_DELETE_FIELD_NUMBER: _ClassVar[int]
    ON_UPDATE_FIELD_NUMBER: _ClassVar[int]
    name: str
    columns: _containers.RepeatedScalarFieldContainer[str]
    referred_table: str
    referred_columns: _containers.RepeatedScalarFieldContainer[str]
    on_delete: str
    on_update: str
    def __init__(self, name: _Optional[str] = ..., columns: _Optional[_Iterable[str]] = ..., referred_table: _Optional[str] = ..., referred_columns: _Optional[_Iterable[str]] = ..., on_delete: _Optional[str] = ..., on_update: _Optional[str] = ...) -> None: ...

class Index(_message.Message):
    __slots__ = ("name", "columns", "unique")
    NAME_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    UNIQUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    columns: _containers.RepeatedScalarFieldContainer[str]
    unique: bool
    def __init__(self, name: _Optional[str] = ..., columns: _Optional[_Iterable[str]] = ..., unique: _Optional[bool] = ...) -> None: ...

class Table(_message.Message):
    __slots__ = ("name", "table", "schema", "kind", "columns", "primary_key", "foreign_keys", "indexes", "row_estimate", "sample_rows", "comment", "description", "fingerprint", "training_state", "discover_time", "train_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TABLE_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_KEY_FIELD_NUMBER: _ClassVar[int]
    FOREIGN_KEYS_FIELD_NUMBER: _ClassVar[int]
    INDEXES_FIELD_NUMBER: _ClassVar[int]
    ROW_ESTIMATE_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_ROWS_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    TRAINING_STATE_FIELD_NUMBER: _ClassVar[int]
    DISCOVER_TIME_FIELD_NUMBER: _ClassVar[int]
    TRAIN_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    table: str
    schema: str
    kind: TableKind
    columns: _containers.RepeatedCompositeFieldContainer[Column]
    primary_key: _containers.RepeatedScalarFieldContainer[str]
    foreign_keys: _containers.RepeatedCompositeFieldContainer[ForeignKey]
    indexes: _containers.RepeatedCompositeFieldContainer[Index]
    row_estimate: int
    sample_rows: _containers.RepeatedCompositeFieldContainer[_value_pb2.Row]
    comment: str
    description: str
    fingerprint: str
    training_state: TrainingState
    discover_time: _timestamp_pb2.Timestamp
    train_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., table: _Optional[str] = ..., schema: _Optional[str] = ..., kind: _Optional[_Union[TableKind, str]] = ..., columns: _Optional[_Iterable[_Union[Column, _Mapping]]] = ..., primary_key: _Optional[_Iterable[str]] = ..., foreign_keys: _Optional[_Iterable[_Union[ForeignKey, _Mapping]]] = ..., indexes: _Optional[_Iterable[_Union[Index, _Mapping]]] = ..., row_estimate: _Optional[int] = ..., sample_rows: _Optional[_Iterable[_Union[_value_pb2.Row, _Mapping]]] = ..., comment: _Optional[str] = ..., description: _Optional[str] = ..., fingerprint: _Optional[str] = ..., training_state: _Optional[_Union[TrainingState, str]] = ..., discover_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., train_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TableChange(_message.Message):
    __slots__ = ("table", "changes", "old_fingerprint", "new_fingerprint")
    TABLE_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    OLD_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    NEW_FINGERPRINT_FIELD_NUMBER: _ClassVar[int]
    table: str
    changes: _containers.RepeatedScalarFieldContainer[str]
    old_fingerprint: str
    new_fingerprint: str
    def __init__(self, table: _Optional[str] = ..., changes: _Optional[_Iterable[str]] = ..., old_fingerprint: _Optional[str] = ..., new_fingerprint: _Optional[str] = ...) -> None: ...
