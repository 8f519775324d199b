import datetime

from chatdb.common.v1 import join_pb2 as _join_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BackendKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BACKEND_KIND_UNSPECIFIED: _ClassVar[BackendKind]
    BACKEND_KIND_TEMPLATE: _ClassVar[BackendKind]
    BACKEND_KIND_VLLM: _ClassVar[BackendKind]
    BACKEND_KIND_OPENAI: _ClassVar[BackendKind]

class ModelKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_KIND_UNSPECIFIED: _ClassVar[ModelKind]
    MODEL_KIND_BASE: _ClassVar[ModelKind]
    MODEL_KIND_ADAPTER: _ClassVar[ModelKind]
    MODEL_KIND_TEMPLATE: _ClassVar[ModelKind]

class ModelState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MODEL_STATE_UNSPECIFIED: _ClassVar[ModelState]
    MODEL_STATE_LOADED: _ClassVar[ModelState]
    MODEL_STATE_AVAILABLE: _ClassVar[ModelState]
    MODEL_STATE_FAILED: _ClassVar[ModelState]
BACKEND_KIND_UNSPECIFIED: BackendKind
BACKEND_KIND_TEMPLATE: BackendKind
BACKEND_KIND_VLLM: BackendKind
BACKEND_KIND_OPENAI: BackendKind
MODEL_KIND_UNSPECIFIED: ModelKind
MODEL_KIND_BASE: ModelKind
MODEL_KIND_ADAPTER: ModelKind
MODEL_KIND_TEMPLATE: ModelKind
MODEL_STATE_UNSPECIFIED: ModelState
MODEL_STATE_LOADED: ModelState
MODEL_STATE_AVAILABLE: ModelState
MODEL_STATE_FAILED: ModelState

class ColumnContext(_message.Message):
    __slots__ = ("name", "data_type", "primary_key", "comment", "sample_values")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DATA_TYPE_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_KEY_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_VALUES_FIELD_NUMBER: _ClassVar[int]
    name: str
    data_type: str
    primary_key: bool
    comment: str
    sample_values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., data_type: _Optional[str] = ..., primary_key: _Optional[bool] = ..., comment: _Optional[str] = ..., sample_values: _Optional[_Iterable[str]] = ...) -> None: ...

class TableContext(_message.Message):
    __slots__ = ("name", "columns", "description", "score")
    NAME_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    name: str
    columns: _containers.RepeatedCompositeFieldContainer[ColumnContext]
    description: str
    score: float
    def __init__(self, name: _Optional[str] = ..., columns: _Optional[_Iterable[_Union[ColumnContext, _Mapping]]] = ..., description: _Optional[str] = ..., score: _Optional[float] = ...) -> None: ...

class SchemaContext(_message.Message):
    __slots__ = ("tables", "joins")
    TABLES_FIELD_NUMBER: _ClassVar[int]
    JOINS_FIELD_NUMBER: _ClassVar[int]
    tables: _containers.RepeatedCompositeFieldContainer[TableContext]
    joins: _containers.RepeatedCompositeFieldContainer[_join_pb2.JoinEdge]
    def __init__(self, tables: _Optional[_Iterable[_Union[TableContext, _Mapping]]] = ..., joins: _Optional[_Iterable[_Union[_join_pb2.JoinEdge, _Mapping]]] = ...) -> None: ...

class ExampleContext(_message.Message):
    __slots__ = ("question", "sql")
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    SQL_FIELD_NUMBER: _ClassVar[int]
    question: str
    sql: str
    def __init__(self, question: _Optional[str] = ..., sql: _Optional[str] = ...) -> None: ...

class ConversationTurn(_message.Message):
    __slots__ = ("question", "sql")
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    SQL_FIELD_NUMBER: _ClassVar[int]
    question: str
    sql: str
    def __init__(self, question: _Optional[str] = ..., sql: _Optional[str] = ...) -> None: ...

class RepairHint(_message.Message):
    __slots__ = ("failed_sql", "error")
    FAILED_SQL_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    failed_sql: str
    error: str
    def __init__(self, failed_sql: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...

class SamplingParams(_message.Message):
    __slots__ = ("temperature", "top_p", "max_tokens", "seed")
    TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    TOP_P_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKENS_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    temperature: float
    top_p: float
    max_tokens: int
    seed: int
    def __init__(self, temperature: _Optional[float] = ..., top_p: _Optional[float] = ..., max_tokens: _Optional[int] = ..., seed: _Optional[int] = ...) -> None: ...

class Candidate(_message.Message):
    __slots__ = ("sql", "confidence", "explanation")
    SQL_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    sql: str
    confidence: float
    explanation: str
    def __init__(self, sql: _Optional[str] = ..., confidence: _Optional[float] = ..., explanation: _Optional[str] = ...) -> None: ...

class Model(_message.Message):
    __slots__ = ("name", "kind", "state", "backend", "base_model", "data_source", "dataset_size", "loss_curve", "detail", "create_time", "held_out_accuracy")
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    BASE_MODEL_FIELD_NUMBER: _ClassVar[int]
    DATA_SOURCE_FIELD_NUMBER: _ClassVar[int]
    DATASET_SIZE_FIELD_NUMBER: _ClassVar[int]
    LOSS_CURVE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    HELD_OUT_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: ModelKind
    state: ModelState
    backend: BackendKind
    base_model: str
    data_source: str
    dataset_size: int
    loss_curve: _containers.RepeatedScalarFieldContainer[float]
    detail: str
    create_time: _timestamp_pb2.Timestamp
    held_out_accuracy: float
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[ModelKind, str]] = ..., state: _Optional[_Union[ModelState, str]] = ..., backend: _Optional[_Union[BackendKind, str]] = ..., base_model: _Optional[str] = ..., data_source: _Optional[str] = ..., dataset_size: _Optional[int] = ..., loss_curve: _Optional[_Iterable[float]] = ..., detail: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., held_out_accuracy: _Optional[float] = ...) -> None: ...
