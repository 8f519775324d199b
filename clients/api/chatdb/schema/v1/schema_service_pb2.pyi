import datetime

from chatdb.common.v1 import dialect_pb2 as _dialect_pb2
from chatdb.common.v1 import join_pb2 as _join_pb2
from chatdb.schema.v1 import schema_pb2 as _schema_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateDataSourceRequest(_message.Message):
    __slots__ = ("data_source", "data_source_id")
    DATA_SOURCE_FIELD_NUMBER: _ClassVar[int]
    DATA_SOURCE_ID_FIELD_NUMBER: _ClassVar[int]
    data_source: _schema_pb2.DataSource
    data_source_id: str
    def __init__(self, data_source: _Optional[_Union[_schema_pb2.DataSource, _Mapping]] = ..., data_source_id: _Optional[str] = ...) -> None: ...

class CreateDataSourceResponse(_message.Message):
    __slots__ = ("data_source",)
    DATA_SOURCE_FIELD_NUMBER: _ClassVar[int]
    data_source: _schema_pb2.DataSource
    def __init__(self, data_source: _Optional[_Union[_schema_pb2.DataSource, _Mapping]] = ...) -> None: ...

class GetDataSourceRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetDataSourceResponse(_message.Message):
    __slots__ = ("data_source",)
    DATA_SOURCE_FIELD_NUMBER: _ClassVar[int]
    data_source: _schema_pb2.DataSource
    def __init__(self, data_source: _Optional[_Union[_schema_pb2.DataSource, _Mapping]] = ...) -> None: ...

class ListDataSourcesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListDataSourcesResponse(_message.Message):
    __slots__ = ("data_sources", "next_page_token")
    DATA_SOURCES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    data_sources: _containers.RepeatedCompositeFieldContainer[_schema_pb2.DataSource]
    next_page_token: str
    def __init__(self, data_sources: _Optional[_Iterable[_Union[_schema_pb2.DataSource, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateDataSourceRequest(_message.Message):
    __slots__ = ("data_source", "update_mask")
    DATA_SOURCE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    data_source: _schema_pb2.DataSource
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, data_source: _Optional[_Union[_schema_pb2.DataSource, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateDataSourceResponse(_message.Message):
    __slots__ = ("data_source",)
    DATA_SOURCE_FIELD_NUMBER: _ClassVar[int]
    data_source: _schema_pb2.DataSource
    def __init__(self, data_source: _Optional[_Union[_schema_pb2.DataSource, _Mapping]] = ...) -> None: ...

class DeleteDataSourceRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteDataSourceResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TestConnectionRequest(_message.Message):
    __slots__ = ("name", "dsn")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DSN_FIELD_NUMBER: _ClassVar[int]
    name: str
    dsn: str
    def __init__(self, name: _Optional[str] = ..., dsn: _Optional[str] = ...) -> None: ...

class TestConnectionResponse(_message.Message):
    __slots__ = ("dialect", "server_version", "latency")
    DIALECT_FIELD_NUMBER: _ClassVar[int]
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    LATENCY_FIELD_NUMBER: _ClassVar[int]
    dialect: _dialect_pb2.Dialect
    server_version: str
    latency: _duration_pb2.Duration
    def __init__(self, dialect: _Optional[_Union[_dialect_pb2.Dialect, str]] = ..., server_version: _Optional[str] = ..., latency: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ListTablesRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token", "view")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    view: _schema_pb2.TableView
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., view: _Optional[_Union[_schema_pb2.TableView, str]] = ...) -> None: ...

class ListTablesResponse(_message.Message):
    __slots__ = ("tables", "next_page_token", "total_size")
    TABLES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    tables: _containers.RepeatedCompositeFieldContainer[_schema_pb2.Table]
    next_page_token: str
    total_size: int
    def __init__(self, tables: _Optional[_Iterable[_Union[_schema_pb2.Table, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class GetTableRequest(_message.Message):
    __slots__ = ("name", "view")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    name: str
    view: _schema_pb2.TableView
    def __init__(self, name: _Optional[str] = ..., view: _Optional[_Union[_schema_pb2.TableView, str]] = ...) -> None: ...

class GetTableResponse(_message.Message):
    __slots__ = ("table",)
    TABLE_FIELD_NUMBER: _ClassVar[int]
    table: _schema_pb2.Table
    def __init__(self, table: _Optional[_Union[_schema_pb2.Table, _Mapping]] = ...) -> None: ...

class RefreshSchemaRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class RefreshSchemaResponse(_message.Message):
    __slots__ = ("added_tables", "removed_tables", "changed_tables", "unchanged_count", "stale_tables", "discover_time")
    ADDED_TABLES_FIELD_NUMBER: _ClassVar[int]
    REMOVED_TABLES_FIELD_NUMBER: _ClassVar[int]
    CHANGED_TABLES_FIELD_NUMBER: _ClassVar[int]
    UNCHANGED_COUNT_FIELD_NUMBER: _ClassVar[int]
    STALE_TABLES_FIELD_NUMBER: _ClassVar[int]
    DISCOVER_TIME_FIELD_NUMBER: _ClassVar[int]
    added_tables: _containers.RepeatedScalarFieldContainer[str]
    removed_tables: _containers.RepeatedScalarFieldContainer[str]
    changed_tables: _containers.RepeatedCompositeFieldContainer[_schema_pb2.TableChange]
    unchanged_count: int
    stale_tables: _containers.RepeatedScalarFieldContainer[str]
    discover_time: _timestamp_pb2.Timestamp
    def __init__(self, added_tables: _Optional[_Iterable[str]] = ..., removed_tables: _Optional[_Iterable[str]] = ..., changed_tables: _Optional[_Iterable[_Union[_schema_pb2.TableChange, _Mapping]]] = ..., unchanged_count: _Optional[int] = ..., stale_tables: _Optional[_Iterable[str]] = ..., discover_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetSchemaGraphRequest(_message.Message):
    __slots__ = ("parent", "min_confidence")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    MIN_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    parent: str
    min_confidence: float
    def __init__(self, parent: _Optional[str] = ..., min_confidence: _Optional[float] = ...) -> None: ...

class GetSchemaGraphResponse(_message.Message):
    __slots__ = ("tables", "edges")
    TABLES_FIELD_NUMBER: _ClassVar[int]
    EDGES_FIELD_NUMBER: _ClassVar[int]
    tables: _containers.RepeatedScalarFieldContainer[str]
    edges: _containers.RepeatedCompositeFieldContainer[_join_pb2.JoinEdge]
    def __init__(self, tables: _Optional[_Iterable[str]] = ..., edges: _Optional[_Iterable[_Union[_join_pb2.JoinEdge, _Mapping]]] = ...) -> None: ...
