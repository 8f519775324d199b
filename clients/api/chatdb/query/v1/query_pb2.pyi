import datetime

from chatdb.common.v1 import degradation_pb2 as _degradation_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ServedBy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SERVED_BY_UNSPECIFIED: _ClassVar[ServedBy]
    SERVED_BY_MODEL: _ClassVar[ServedBy]
    SERVED_BY_TEMPLATE: _ClassVar[ServedBy]
    SERVED_BY_CACHE: _ClassVar[ServedBy]
    SERVED_BY_CALLER_SQL: _ClassVar[ServedBy]
    SERVED_BY_EXAMPLE: _ClassVar[ServedBy]

class RetrievalReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RETRIEVAL_REASON_UNSPECIFIED: _ClassVar[RetrievalReason]
    RETRIEVAL_REASON_SEARCH: _ClassVar[RetrievalReason]
    RETRIEVAL_REASON_JOIN_NEIGHBOR: _ClassVar[RetrievalReason]

class ChartType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHART_TYPE_UNSPECIFIED: _ClassVar[ChartType]
    CHART_TYPE_TABLE: _ClassVar[ChartType]
    CHART_TYPE_BAR: _ClassVar[ChartType]
    CHART_TYPE_LINE: _ClassVar[ChartType]
    CHART_TYPE_PIE: _ClassVar[ChartType]

class ExportFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXPORT_FORMAT_UNSPECIFIED: _ClassVar[ExportFormat]
    EXPORT_FORMAT_CSV: _ClassVar[ExportFormat]
    EXPORT_FORMAT_JSON_LINES: _ClassVar[ExportFormat]
    EXPORT_FORMAT_ARROW: _ClassVar[ExportFormat]
    EXPORT_FORMAT_PARQUET: _ClassVar[ExportFormat]

class QueryState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUERY_STATE_UNSPECIFIED: _ClassVar[QueryState]
    QUERY_STATE_SUCCEEDED: _ClassVar[QueryState]
    QUERY_STATE_FAILED: _ClassVar[QueryState]
    QUERY_STATE_LOW_CONFIDENCE: _ClassVar[QueryState]

class FeedbackRating(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    FEEDBACK_RATING_UNSPECIFIED: _ClassVar[FeedbackRating]
    FEEDBACK_RATING_CORRECT: _ClassVar[FeedbackRating]
    FEEDBACK_RATING_INCORRECT: _ClassVar[FeedbackRating]
SERVED_BY_UNSPECIFIED: ServedBy
SERVED_BY_MODEL: ServedBy
SERVED_BY_TEMPLATE: ServedBy
SERVED_BY_CACHE: ServedBy
SERVED_BY_CALLER_SQL: ServedBy
SERVED_BY_EXAMPLE: ServedBy
RETRIEVAL_REASON_UNSPECIFIED: RetrievalReason
RETRIEVAL_REASON_SEARCH: RetrievalReason
RETRIEVAL_REASON_JOIN_NEIGHBOR: RetrievalReason
CHART_TYPE_UNSPECIFIED: ChartType
CHART_TYPE_TABLE: ChartType
CHART_TYPE_BAR: ChartType
CHART_TYPE_LINE: ChartType
CHART_TYPE_PIE: ChartType
EXPORT_FORMAT_UNSPECIFIED: ExportFormat
EXPORT_FORMAT_CSV: ExportFormat
EXPORT_FORMAT_JSON_LINES: ExportFormat
EXPORT_FORMAT_ARROW: ExportFormat
EXPORT_FORMAT_PARQUET: ExportFormat
QUERY_STATE_UNSPECIFIED: QueryState
QUERY_STATE_SUCCEEDED: QueryState
QUERY_STATE_FAILED: QueryState
QUERY_STATE_LOW_CONFIDENCE: QueryState
FEEDBACK_RATING_UNSPECIFIED: FeedbackRating
FEEDBACK_RATING_CORRECT: FeedbackRating
FEEDBACK_RATING_INCORRECT: FeedbackRating

class RetrievedTable(_message.Message):
    __slots__ = ("table", "score", "reason")
    TABLE_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    table: str
    score: float
    reason: RetrievalReason
    def __init__(self, table: _Optional[str] = ..., score: _Optional[float] = ..., reason: _Optional[_Union[RetrievalReason, str]] = ...) -> None: ...

class TableMatch(_message.Message):
    __slots__ = ("table", "score", "reason", "matched_words", "matched_columns", "joins_with", "description")
    TABLE_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MATCHED_WORDS_FIELD_NUMBER: _ClassVar[int]
    MATCHED_COLUMNS_FIELD_NUMBER: _ClassVar[int]
    JOINS_WITH_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    table: str
    score: float
    reason: RetrievalReason
    matched_words: _containers.RepeatedScalarFieldContainer[str]
    matched_columns: _containers.RepeatedScalarFieldContainer[str]
    joins_with: _containers.RepeatedScalarFieldContainer[str]
    description: str
    def __init__(self, table: _Optional[str] = ..., score: _Optional[float] = ..., reason: _Optional[_Union[RetrievalReason, str]] = ..., matched_words: _Optional[_Iterable[str]] = ..., matched_columns: _Optional[_Iterable[str]] = ..., joins_with: _Optional[_Iterable[str]] = ..., description: _Optional[str] = ...) -> None: ...

class ChartSuggestion(_message.Message):
    __slots__ = ("type", "x_column", "y_columns", "series_column")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    X_COLUMN_FIELD_NUMBER: _ClassVar[int]
    Y_COLUMNS_FIELD_NUMBER: _ClassVar[int]
    SERIES_COLUMN_FIELD_NUMBER: _ClassVar[int]
    type: ChartType
    x_column: str
    y_columns: _containers.RepeatedScalarFieldContainer[str]
    series_column: str
    def __init__(self, type: _Optional[_Union[ChartType, str]] = ..., x_column: _Optional[str] = ..., y_columns: _Optional[_Iterable[str]] = ..., series_column: _Optional[str] = ...) -> None: ...

class AskOptions(_message.Message):
    __slots__ = ("max_rows", "timeout", "execute", "candidate_count", "model")
    MAX_ROWS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    EXECUTE_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_COUNT_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    max_rows: int
    timeout: _duration_pb2.Duration
    execute: bool
    candidate_count: int
    model: str
    def __init__(self, max_rows: _Optional[int] = ..., timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., execute: _Optional[bool] = ..., candidate_count: _Optional[int] = ..., model: _Optional[str] = ...) -> None: ...

class BatchQuestion(_message.Message):
    __slots__ = ("id", "question")
    ID_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    id: str
    question: str
    def __init__(self, id: _Optional[str] = ..., question: _Optional[str] = ...) -> None: ...

class Timings(_message.Message):
    __slots__ = ("retrieval", "generation", "guard", "execution", "total")
    RETRIEVAL_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    GUARD_FIELD_NUMBER: _ClassVar[int]
    EXECUTION_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    retrieval: _duration_pb2.Duration
    generation: _duration_pb2.Duration
    guard: _duration_pb2.Duration
    execution: _duration_pb2.Duration
    total: _duration_pb2.Duration
    def __init__(self, retrieval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., generation: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., guard: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., execution: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., total: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class Feedback(_message.Message):
    __slots__ = ("rating", "corrected_sql", "comment", "example", "create_time")
    RATING_FIELD_NUMBER: _ClassVar[int]
    CORRECTED_SQL_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    EXAMPLE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    rating: FeedbackRating
    corrected_sql: str
    comment: str
    example: str
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, rating: _Optional[_Union[FeedbackRating, str]] = ..., corrected_sql: _Optional[str] = ..., comment: _Optional[str] = ..., example: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Query(_message.Message):
    __slots__ = ("name", "question", "sql", "state", "error_reason", "error_message", "served_by", "model", "degradation_level", "row_count", "timings", "confidence", "feedback", "create_time", "previous_query")
    NAME_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    SQL_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ERROR_REASON_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SERVED_BY_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    DEGRADATION_LEVEL_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_QUERY_FIELD_NUMBER: _ClassVar[int]
    name: str
    question: str
    sql: str
    state: QueryState
    error_reason: str
    error_message: str
    served_by: ServedBy
    model: str
    degradation_level: _degradation_pb2.DegradationLevel
    row_count: int
    timings: Timings
    confidence: float
    feedback: Feedback
    create_time: _timestamp_pb2.Timestamp
    previous_query: str
    def __init__(self, name: _Optional[str] = ..., question: _Optional[str] = ..., sql: _Optional[str] = ..., state: _Optional[_Union[QueryState, str]] = ..., error_reason: _Optional[str] = ..., error_message: _Optional[str] = ..., served_by: _Optional[_Union[ServedBy, str]] = ..., model: _Optional[str] = ..., degradation_level: _Optional[_Union[_degradation_pb2.DegradationLevel, str]] = ..., row_count: _Optional[int] = ..., timings: _Optional[_Union[Timings, _Mapping]] = ..., confidence: _Optional[float] = ..., feedback: _Optional[_Union[Feedback, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., previous_query: _Optional[str] = ...) -> None: ...

class DependencyStatus(_message.Message):
    __slots__ = ("name", "healthy", "detail", "breaker_state", "failure_count")
    NAME_FIELD_NUMBER: _ClassVar[int]
    HEALTHY_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    BREAKER_STATE_FIELD_NUMBER: _ClassVar[int]
    FAILURE_COUNT_FIELD_NUMBER: _ClassVar[int]
    name: str
    healthy: bool
    detail: str
    breaker_state: str
    failure_count: int
    def __init__(self, name: _Optional[str] = ..., healthy: _Optional[bool] = ..., detail: _Optional[str] = ..., breaker_state: _Optional[str] = ..., failure_count: _Optional[int] = ...) -> None: ...
