import datetime

from chatdb.common.v1 import degradation_pb2 as _degradation_pb2
from chatdb.common.v1 import dialect_pb2 as _dialect_pb2
from chatdb.common.v1 import value_pb2 as _value_pb2
from chatdb.query.v1 import query_pb2 as _query_pb2
from google.protobuf import any_pb2 as _any_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AskStage(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ASK_STAGE_UNSPECIFIED: _ClassVar[AskStage]
    ASK_STAGE_RETRIEVED: _ClassVar[AskStage]
    ASK_STAGE_GENERATED: _ClassVar[AskStage]
    ASK_STAGE_EXECUTED: _ClassVar[AskStage]
ASK_STAGE_UNSPECIFIED: AskStage
ASK_STAGE_RETRIEVED: AskStage
ASK_STAGE_GENERATED: AskStage
ASK_STAGE_EXECUTED: AskStage

class AskRequest(_message.Message):
    __slots__ = ("parent", "question", "options", "previous_query")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_QUERY_FIELD_NUMBER: _ClassVar[int]
    parent: str
    question: str
    options: _query_pb2.AskOptions
    previous_query: str
    def __init__(self, parent: _Optional[str] = ..., question: _Optional[str] = ..., options: _Optional[_Union[_query_pb2.AskOptions, _Mapping]] = ..., previous_query: _Optional[str] = ...) -> None: ...

class AskResponse(_message.Message):
    __slots__ = ("query", "sql", "explanation", "confidence", "retrieved_tables", "tables_used", "warnings", "columns", "rows", "row_count", "truncated", "timings", "degradation_level", "served_by", "model", "stale", "cached_time", "executed", "trace_id", "answer_text", "chart", "low_confidence", "suggested_question")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    SQL_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    RETRIEVED_TABLES_FIELD_NUMBER: _ClassVar[int]
    TABLES_USED_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_FIELD_NUMBER: _ClassVar[int]
    DEGRADATION_LEVEL_FIELD_NUMBER: _ClassVar[int]
    SERVED_BY_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    CACHED_TIME_FIELD_NUMBER: _ClassVar[int]
    EXECUTED_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    ANSWER_TEXT_FIELD_NUMBER: _ClassVar[int]
    CHART_FIELD_NUMBER: _ClassVar[int]
    LOW_CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_QUESTION_FIELD_NUMBER: _ClassVar[int]
    query: str
    sql: str
    explanation: str
    confidence: float
    retrieved_tables: _containers.RepeatedCompositeFieldContainer[_query_pb2.RetrievedTable]
    tables_used: _containers.RepeatedScalarFieldContainer[str]
    warnings: _containers.RepeatedScalarFieldContainer[str]
    columns: _containers.RepeatedCompositeFieldContainer[_value_pb2.ResultColumn]
    rows: _containers.RepeatedCompositeFieldContainer[_value_pb2.Row]
    row_count: int
    truncated: bool
    timings: _query_pb2.Timings
    degradation_level: _degradation_pb2.DegradationLevel
    served_by: _query_pb2.ServedBy
    model: str
    stale: bool
    cached_time: _timestamp_pb2.Timestamp
    executed: bool
    trace_id: str
    answer_text: str
    chart: _query_pb2.ChartSuggestion
    low_confidence: bool
    suggested_question: str
    def __init__(self, query: _Optional[str] = ..., sql: _Optional[str] = ..., explanation: _Optional[str] = ..., confidence: _Optional[float] = ..., retrieved_tables: _Optional[_Iterable[_Union[_query_pb2.RetrievedTable, _Mapping]]] = ..., tables_used: _Optional[_Iterable[str]] = ..., warnings: _Optional[_Iterable[str]] = ..., columns: _Optional[_Iterable[_Union[_value_pb2.ResultColumn, _Mapping]]] = ..., rows: _Optional[_Iterable[_Union[_value_pb2.Row, _Mapping]]] = ..., row_count: _Optional[int] = ..., truncated: _Optional[bool] = ..., timings: _Optional[_Union[_query_pb2.Timings, _Mapping]] = ..., degradation_level: _Optional[_Union[_degradation_pb2.DegradationLevel, str]] = ..., served_by: _Optional[_Union[_query_pb2.ServedBy, str]] = ..., model: _Optional[str] = ..., stale: _Optional[bool] = ..., cached_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., executed: _Optional[bool] = ..., trace_id: _Optional[str] = ..., answer_text: _Optional[str] = ..., chart: _Optional[_Union[_query_pb2.ChartSuggestion, _Mapping]] = ..., low_confidence: _Optional[bool] = ..., suggested_question: _Optional[str] = ...) -> None: ...

class StreamAskRequest(_message.Message):
    __slots__ = ("parent", "question", "options", "batch_size", "previous_query")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_QUERY_FIELD_NUMBER: _ClassVar[int]
    parent: str
    question: str
    options: _query_pb2.AskOptions
    batch_size: int
    previous_query: str
    def __init__(self, parent: _Optional[str] = ..., question: _Optional[str] = ..., options: _Optional[_Union[_query_pb2.AskOptions, _Mapping]] = ..., batch_size: _Optional[int] = ..., previous_query: _Optional[str] = ...) -> None: ...

class StageEvent(_message.Message):
    __slots__ = ("stage", "retrieved_tables", "sql", "columns", "elapsed")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    RETRIEVED_TABLES_FIELD_NUMBER: _ClassVar[int]
    SQL_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_FIELD_NUMBER: _ClassVar[int]
    stage: AskStage
    retrieved_tables: _containers.RepeatedCompositeFieldContainer[_query_pb2.RetrievedTable]
    sql: str
    columns: _containers.RepeatedCompositeFieldContainer[_value_pb2.ResultColumn]
    elapsed: _duration_pb2.Duration
    def __init__(self, stage: _Optional[_Union[AskStage, str]] = ..., retrieved_tables: _Optional[_Iterable[_Union[_query_pb2.RetrievedTable, _Mapping]]] = ..., sql: _Optional[str] = ..., columns: _Optional[_Iterable[_Union[_value_pb2.ResultColumn, _Mapping]]] = ..., elapsed: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class RowBatch(_message.Message):
    __slots__ = ("rows",)
    ROWS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[_value_pb2.Row]
    def __init__(self, rows: _Optional[_Iterable[_Union[_value_pb2.Row, _Mapping]]] = ...) -> None: ...

class StreamAskResponse(_message.Message):
    __slots__ = ("stage", "rows", "summary")
    STAGE_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    stage: StageEvent
    rows: RowBatch
    summary: AskResponse
    def __init__(self, stage: _Optional[_Union[StageEvent, _Mapping]] = ..., rows: _Optional[_Union[RowBatch, _Mapping]] = ..., summary: _Optional[_Union[AskResponse, _Mapping]] = ...) -> None: ...

class BatchAskRequest(_message.Message):
    __slots__ = ("parent", "questions", "options", "previous_query")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    QUESTIONS_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_QUERY_FIELD_NUMBER: _ClassVar[int]
    parent: str
    questions: _containers.RepeatedCompositeFieldContainer[_query_pb2.BatchQuestion]
    options: _query_pb2.AskOptions
    previous_query: str
    def __init__(self, parent: _Optional[str] = ..., questions: _Optional[_Iterable[_Union[_query_pb2.BatchQuestion, _Mapping]]] = ..., options: _Optional[_Union[_query_pb2.AskOptions, _Mapping]] = ..., previous_query: _Optional[str] = ...) -> None: ...

class BatchAskError(_message.Message):
    __slots__ = ("code", "message", "details")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    details: _containers.RepeatedCompositeFieldContainer[_any_pb2.Any]
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ..., details: _Optional[_Iterable[_Union[_any_pb2.Any, _Mapping]]] = ...) -> None: ...

class BatchAskResponse(_message.Message):
    __slots__ = ("index", "id", "answer", "error")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    ANSWER_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    index: int
    id: str
    answer: AskResponse
    error: BatchAskError
    def __init__(self, index: _Optional[int] = ..., id: _Optional[str] = ..., answer: _Optional[_Union[AskResponse, _Mapping]] = ..., error: _Optional[_Union[BatchAskError, _Mapping]] = ...) -> None: ...

class ExportQueryResultRequest(_message.Message):
    __slots__ = ("parent", "sql", "query", "format", "max_rows", "timeout")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    SQL_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    MAX_ROWS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    parent: str
    sql: str
    query: str
    format: _query_pb2.ExportFormat
    max_rows: int
    timeout: _duration_pb2.Duration
    def __init__(self, parent: _Optional[str] = ..., sql: _Optional[str] = ..., query: _Optional[str] = ..., format: _Optional[_Union[_query_pb2.ExportFormat, str]] = ..., max_rows: _Optional[int] = ..., timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ExportHeader(_message.Message):
    __slots__ = ("format", "content_type", "file_extension", "columns", "sql")
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    FILE_EXTENSION_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    SQL_FIELD_NUMBER: _ClassVar[int]
    format: _query_pb2.ExportFormat
    content_type: str
    file_extension: str
    columns: _containers.RepeatedCompositeFieldContainer[_value_pb2.ResultColumn]
    sql: str
    def __init__(self, format: _Optional[_Union[_query_pb2.ExportFormat, str]] = ..., content_type: _Optional[str] = ..., file_extension: _Optional[str] = ..., columns: _Optional[_Iterable[_Union[_value_pb2.ResultColumn, _Mapping]]] = ..., sql: _Optional[str] = ...) -> None: ...

class ExportSummary(_message.Message):
    __slots__ = ("row_count", "byte_count", "truncated", "warnings", "elapsed")
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    BYTE_COUNT_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_FIELD_NUMBER: _ClassVar[int]
    row_count: int
    byte_count: int
    truncated: bool
    warnings: _containers.RepeatedScalarFieldContainer[str]
    elapsed: _duration_pb2.Duration
    def __init__(self, row_count: _Optional[int] = ..., byte_count: _Optional[int] = ..., truncated: _Optional[bool] = ..., warnings: _Optional[_Iterable[str]] = ..., elapsed: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ExportQueryResultResponse(_message.Message):
    __slots__ = ("header", "chunk", "summary")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    header: ExportHeader
    chunk: bytes
    summary: ExportSummary
    def __init__(self, header: _Optional[_Union[ExportHeader, _Mapping]] = ..., chunk: _Optional[bytes] = ..., summary: _Optional[_Union[ExportSummary, _Mapping]] = ...) -> None: ...

class ExecuteSqlRequest(_message.Message):
    __slots__ = ("parent", "sql", "max_rows", "timeout")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    SQL_FIELD_NUMBER: _ClassVar[int]
    MAX_ROWS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    parent: str
    sql: str
    max_rows: int
    timeout: _duration_pb2.Duration
    def __init__(self, parent: _Optional[str] = ..., sql: _Optional[str] = ..., max_rows: _Optional[int] = ..., timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ExecuteSqlResponse(_message.Message):
    __slots__ = ("query", "sql", "columns", "rows", "row_count", "truncated", "warnings", "timings", "degradation_level", "served_by", "stale")
    QUERY_FIELD_NUMBER: _ClassVar[int]
    SQL_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_FIELD_NUMBER: _ClassVar[int]
    DEGRADATION_LEVEL_FIELD_NUMBER: _ClassVar[int]
    SERVED_BY_FIELD_NUMBER: _ClassVar[int]
    STALE_FIELD_NUMBER: _ClassVar[int]
    query: str
    sql: str
    columns: _containers.RepeatedCompositeFieldContainer[_value_pb2.ResultColumn]
    rows: _containers.RepeatedCompositeFieldContainer[_value_pb2.Row]
    row_count: int
    truncated: bool
    warnings: _containers.RepeatedScalarFieldContainer[str]
    timings: _query_pb2.Timings
    degradation_level: _degradation_pb2.DegradationLevel
    served_by: _query_pb2.ServedBy
    stale: bool
    def __init__(self, query: _Optional[str] = ..., sql: _Optional[str] = ..., columns: _Optional[_Iterable[_Union[_value_pb2.ResultColumn, _Mapping]]] = ..., rows: _Optional[_Iterable[_Union[_value_pb2.Row, _Mapping]]] = ..., row_count: _Optional[int] = ..., truncated: _Optional[bool] = ..., warnings: _Optional[_Iterable[str]] = ..., timings: _Optional[_Union[_query_pb2.Timings, _Mapping]] = ..., degradation_level: _Optional[_Union[_degradation_pb2.DegradationLevel, str]] = ..., served_by: _Optional[_Union[_query_pb2.ServedBy, str]] = ..., stale: _Optional[bool] = ...) -> None: ...

class ValidateSqlRequest(_message.Message):
    __slots__ = ("parent", "sql")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    SQL_FIELD_NUMBER: _ClassVar[int]
    parent: str
    sql: str
    def __init__(self, parent: _Optional[str] = ..., sql: _Optional[str] = ...) -> None: ...

class Violation(_message.Message):
    __slots__ = ("reason", "message")
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    reason: str
    message: str
    def __init__(self, reason: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class ValidateSqlResponse(_message.Message):
    __slots__ = ("valid", "sql", "violations", "tables", "dialect", "warnings")
    VALID_FIELD_NUMBER: _ClassVar[int]
    SQL_FIELD_NUMBER: _ClassVar[int]
    VIOLATIONS_FIELD_NUMBER: _ClassVar[int]
    TABLES_FIELD_NUMBER: _ClassVar[int]
    DIALECT_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    sql: str
    violations: _containers.RepeatedCompositeFieldContainer[Violation]
    tables: _containers.RepeatedScalarFieldContainer[str]
    dialect: _dialect_pb2.Dialect
    warnings: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, valid: _Optional[bool] = ..., sql: _Optional[str] = ..., violations: _Optional[_Iterable[_Union[Violation, _Mapping]]] = ..., tables: _Optional[_Iterable[str]] = ..., dialect: _Optional[_Union[_dialect_pb2.Dialect, str]] = ..., warnings: _Optional[_Iterable[str]] = ...) -> None: ...

class SearchTablesRequest(_message.Message):
    __slots__ = ("parent", "query", "page_size")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    parent: str
    query: str
    page_size: int
    def __init__(self, parent: _Optional[str] = ..., query: _Optional[str] = ..., page_size: _Optional[int] = ...) -> None: ...

class SearchTablesResponse(_message.Message):
    __slots__ = ("tables", "degradation_level")
    TABLES_FIELD_NUMBER: _ClassVar[int]
    DEGRADATION_LEVEL_FIELD_NUMBER: _ClassVar[int]
    tables: _containers.RepeatedCompositeFieldContainer[_query_pb2.TableMatch]
    degradation_level: _degradation_pb2.DegradationLevel
    def __init__(self, tables: _Optional[_Iterable[_Union[_query_pb2.TableMatch, _Mapping]]] = ..., degradation_level: _Optional[_Union[_degradation_pb2.DegradationLevel, str]] = ...) -> None: ...

class ListQueriesRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListQueriesResponse(_message.Message):
    __slots__ = ("queries", "next_page_token")
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    queries: _containers.RepeatedCompositeFieldContainer[_query_pb2.Query]
    next_page_token: str
    def __init__(self, queries: _Optional[_Iterable[_Union[_query_pb2.Query, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetQueryRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetQueryResponse(_message.Message):
    __slots__ = ("query",)
    QUERY_FIELD_NUMBER: _ClassVar[int]
    query: _query_pb2.Query
    def __init__(self, query: _Optional[_Union[_query_pb2.Query, _Mapping]] = ...) -> None: ...

class SubmitFeedbackRequest(_message.Message):
    __slots__ = ("name", "rating", "corrected_sql", "comment")
    NAME_FIELD_NUMBER: _ClassVar[int]
    RATING_FIELD_NUMBER: _ClassVar[int]
    CORRECTED_SQL_FIELD_NUMBER: _ClassVar[int]
    COMMENT_FIELD_NUMBER: _ClassVar[int]
    name: str
    rating: _query_pb2.FeedbackRating
    corrected_sql: str
    comment: str
    def __init__(self, name: _Optional[str] = ..., rating: _Optional[_Union[_query_pb2.FeedbackRating, str]] = ..., corrected_sql: _Optional[str] = ..., comment: _Optional[str] = ...) -> None: ...

class SubmitFeedbackResponse(_message.Message):
    __slots__ = ("query",)
    QUERY_FIELD_NUMBER: _ClassVar[int]
    query: _query_pb2.Query
    def __init__(self, query: _Optional[_Union[_query_pb2.Query, _Mapping]] = ...) -> None: ...

class GetSystemStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetSystemStatusResponse(_message.Message):
    __slots__ = ("degradation_level", "dependencies", "check_time")
    DEGRADATION_LEVEL_FIELD_NUMBER: _ClassVar[int]
    DEPENDENCIES_FIELD_NUMBER: _ClassVar[int]
    CHECK_TIME_FIELD_NUMBER: _ClassVar[int]
    degradation_level: _degradation_pb2.DegradationLevel
    dependencies: _containers.RepeatedCompositeFieldContainer[_query_pb2.DependencyStatus]
    check_time: _timestamp_pb2.Timestamp
    def __init__(self, degradation_level: _Optional[_Union[_degradation_pb2.DegradationLevel, str]] = ..., dependencies: _Optional[_Iterable[_Union[_query_pb2.DependencyStatus, _Mapping]]] = ..., check_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
