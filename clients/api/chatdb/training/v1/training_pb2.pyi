import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TrainingJobType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRAINING_JOB_TYPE_UNSPECIFIED: _ClassVar[TrainingJobType]
    TRAINING_JOB_TYPE_SCHEMA: _ClassVar[TrainingJobType]
    TRAINING_JOB_TYPE_FINE_TUNE: _ClassVar[TrainingJobType]

class TrainingJobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRAINING_JOB_STATE_UNSPECIFIED: _ClassVar[TrainingJobState]
    TRAINING_JOB_STATE_QUEUED: _ClassVar[TrainingJobState]
    TRAINING_JOB_STATE_RUNNING: _ClassVar[TrainingJobState]
    TRAINING_JOB_STATE_SUCCEEDED: _ClassVar[TrainingJobState]
    TRAINING_JOB_STATE_FAILED: _ClassVar[TrainingJobState]
    TRAINING_JOB_STATE_CANCELLING: _ClassVar[TrainingJobState]
    TRAINING_JOB_STATE_CANCELLED: _ClassVar[TrainingJobState]

class TrainingStage(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRAINING_STAGE_UNSPECIFIED: _ClassVar[TrainingStage]
    TRAINING_STAGE_FETCH: _ClassVar[TrainingStage]
    TRAINING_STAGE_ANALYZE: _ClassVar[TrainingStage]
    TRAINING_STAGE_VECTORIZE: _ClassVar[TrainingStage]
    TRAINING_STAGE_DATASET: _ClassVar[TrainingStage]
    TRAINING_STAGE_TRAIN: _ClassVar[TrainingStage]
    TRAINING_STAGE_REGISTER: _ClassVar[TrainingStage]
    TRAINING_STAGE_DONE: _ClassVar[TrainingStage]

class ExampleSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXAMPLE_SOURCE_UNSPECIFIED: _ClassVar[ExampleSource]
    EXAMPLE_SOURCE_MANUAL: _ClassVar[ExampleSource]
    EXAMPLE_SOURCE_FEEDBACK: _ClassVar[ExampleSource]
TRAINING_JOB_TYPE_UNSPECIFIED: TrainingJobType
TRAINING_JOB_TYPE_SCHEMA: TrainingJobType
TRAINING_JOB_TYPE_FINE_TUNE: TrainingJobType
TRAINING_JOB_STATE_UNSPECIFIED: TrainingJobState
TRAINING_JOB_STATE_QUEUED: TrainingJobState
TRAINING_JOB_STATE_RUNNING: TrainingJobState
TRAINING_JOB_STATE_SUCCEEDED: TrainingJobState
TRAINING_JOB_STATE_FAILED: TrainingJobState
TRAINING_JOB_STATE_CANCELLING: TrainingJobState
TRAINING_JOB_STATE_CANCELLED: TrainingJobState
TRAINING_STAGE_UNSPECIFIED: TrainingStage
TRAINING_STAGE_FETCH: TrainingStage
TRAINING_STAGE_ANALYZE: TrainingStage
TRAINING_STAGE_VECTORIZE: TrainingStage
TRAINING_STAGE_DATASET: TrainingStage
TRAINING_STAGE_TRAIN: TrainingStage
TRAINING_STAGE_REGISTER: TrainingStage
TRAINING_STAGE_DONE: TrainingStage
EXAMPLE_SOURCE_UNSPECIFIED: ExampleSource
EXAMPLE_SOURCE_MANUAL: ExampleSource
EXAMPLE_SOURCE_FEEDBACK: ExampleSource

class FineTuneConfig(_message.Message):
    __slots__ = ("adapter", "base_model", "epochs", "learning_rate", "lora_rank", "synthetic_examples")
    ADAPTER_FIELD_NUMBER: _ClassVar[int]
    BASE_MODEL_FIELD_NUMBER: _ClassVar[int]
    EPOCHS_FIELD_NUMBER: _ClassVar[int]
    LEARNING_RATE_FIELD_NUMBER: _ClassVar[int]
    LORA_RANK_FIELD_NUMBER: _ClassVar[int]
    SYNTHETIC_EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    adapter: str
    base_model: str
    epochs: int
    learning_rate: float
    lora_rank: int
    synthetic_examples: int
    def __init__(self, adapter: _Optional[str] = ..., base_model: _Optional[str] = ..., epochs: _Optional[int] = ..., learning_rate: _Optional[float] = ..., lora_rank: _Optional[int] = ..., synthetic_examples: _Optional[int] = ...) -> None: ...

class FineTuneResult(_message.Message):
    __slots__ = ("adapter_version", "base_model", "dataset_size", "loss_curve", "held_out_accuracy", "held_out_examples")
    ADAPTER_VERSION_FIELD_NUMBER: _ClassVar[int]
    BASE_MODEL_FIELD_NUMBER: _ClassVar[int]
    DATASET_SIZE_FIELD_NUMBER: _ClassVar[int]
    LOSS_CURVE_FIELD_NUMBER: _ClassVar[int]
    HELD_OUT_ACCURACY_FIELD_NUMBER: _ClassVar[int]
    HELD_OUT_EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    adapter_version: str
    base_model: str
    dataset_size: int
    loss_curve: _containers.RepeatedScalarFieldContainer[float]
    held_out_accuracy: float
    held_out_examples: int
    def __init__(self, adapter_version: _Optional[str] = ..., base_model: _Optional[str] = ..., dataset_size: _Optional[int] = ..., loss_curve: _Optional[_Iterable[float]] = ..., held_out_accuracy: _Optional[float] = ..., held_out_examples: _Optional[int] = ...) -> None: ...

class TrainingJob(_message.Message):
    __slots__ = ("name", "data_source", "type", "state", "stage", "progress_percent", "tables", "trained_table_count", "total_table_count", "error_reason", "error_message", "attempt", "fine_tune_config", "fine_tune_result", "create_time", "start_time", "end_time", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DATA_SOURCE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_PERCENT_FIELD_NUMBER: _ClassVar[int]
    TABLES_FIELD_NUMBER: _ClassVar[int]
    TRAINED_TABLE_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TABLE_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_REASON_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    FINE_TUNE_CONFIG_FIELD_NUMBER: _ClassVar[int]
    FINE_TUNE_RESULT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    data_source: str
    type: TrainingJobType
    state: TrainingJobState
    stage: TrainingStage
    progress_percent: int
    tables: _containers.RepeatedScalarFieldContainer[str]
    trained_table_count: int
    total_table_count: int
    error_reason: str
    error_message: str
    attempt: int
    fine_tune_config: FineTuneConfig
    fine_tune_result: FineTuneResult
    create_time: _timestamp_pb2.Timestamp
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., data_source: _Optional[str] = ..., type: _Optional[_Union[TrainingJobType, str]] = ..., state: _Optional[_Union[TrainingJobState, str]] = ..., stage: _Optional[_Union[TrainingStage, str]] = ..., progress_percent: _Optional[int] = ..., tables: _Optional[_Iterable[str]] = ..., trained_table_count: _Optional[int] = ..., total_table_count: _Optional[int] = ..., error_reason: _Optional[str] = ..., error_message: _Optional[str] = ..., attempt: _Optional[int] = ..., fine_tune_config: _Optional[_Union[FineTuneConfig, _Mapping]] = ..., fine_tune_result: _Optional[_Union[FineTuneResult, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Example(_message.Message):
    __slots__ = ("name", "question", "sql", "source", "tables", "create_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    SQL_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TABLES_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    question: str
    sql: str
    source: ExampleSource
    tables: _containers.RepeatedScalarFieldContainer[str]
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., question: _Optional[str] = ..., sql: _Optional[str] = ..., source: _Optional[_Union[ExampleSource, str]] = ..., tables: _Optional[_Iterable[str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
