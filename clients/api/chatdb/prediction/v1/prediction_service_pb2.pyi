import datetime

from chatdb.common.v1 import dialect_pb2 as _dialect_pb2
from chatdb.prediction.v1 import prediction_pb2 as _prediction_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GenerateSqlRequest(_message.Message):
    __slots__ = ("question", "dialect", "schema_context", "examples", "candidate_count", "model", "sampling", "constrained_decoding", "repair", "previous_turns")
    QUESTION_FIELD_NUMBER: _ClassVar[int]
    DIALECT_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_CONTEXT_FIELD_NUMBER: _ClassVar[int]
    EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_COUNT_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_FIELD_NUMBER: _ClassVar[int]
    CONSTRAINED_DECODING_FIELD_NUMBER: _ClassVar[int]
    REPAIR_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_TURNS_FIELD_NUMBER: _ClassVar[int]
    question: str
    dialect: _dialect_pb2.Dialect
    schema_context: _prediction_pb2.SchemaContext
    examples: _containers.RepeatedCompositeFieldContainer[_prediction_pb2.ExampleContext]
    candidate_count: int
    model: str
    sampling: _prediction_pb2.SamplingParams
    constrained_decoding: bool
    repair: _prediction_pb2.RepairHint
    previous_turns: _containers.RepeatedCompositeFieldContainer[_prediction_pb2.ConversationTurn]
    def __init__(self, question: _Optional[str] = ..., dialect: _Optional[_Union[_dialect_pb2.Dialect, str]] = ..., schema_context: _Optional[_Union[_prediction_pb2.SchemaContext, _Mapping]] = ..., examples: _Optional[_Iterable[_Union[_prediction_pb2.ExampleContext, _Mapping]]] = ..., candidate_count: _Optional[int] = ..., model: _Optional[str] = ..., sampling: _Optional[_Union[_prediction_pb2.SamplingParams, _Mapping]] = ..., constrained_decoding: _Optional[bool] = ..., repair: _Optional[_Union[_prediction_pb2.RepairHint, _Mapping]] = ..., previous_turns: _Optional[_Iterable[_Union[_prediction_pb2.ConversationTurn, _Mapping]]] = ...) -> None: ...

class TokenUsage(_message.Message):
    __slots__ = ("prompt_tokens", "completion_tokens")
    PROMPT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    COMPLETION_TOKENS_FIELD_NUMBER: _ClassVar[int]
    prompt_tokens: int
    completion_tokens: int
    def __init__(self, prompt_tokens: _Optional[int] = ..., completion_tokens: _Optional[int] = ...) -> None: ...

class GenerateSqlResponse(_message.Message):
    __slots__ = ("candidates", "model", "backend", "generation_time", "usage")
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    GENERATION_TIME_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    candidates: _containers.RepeatedCompositeFieldContainer[_prediction_pb2.Candidate]
    model: str
    backend: _prediction_pb2.BackendKind
    generation_time: _duration_pb2.Duration
    usage: TokenUsage
    def __init__(self, candidates: _Optional[_Iterable[_Union[_prediction_pb2.Candidate, _Mapping]]] = ..., model: _Optional[str] = ..., backend: _Optional[_Union[_prediction_pb2.BackendKind, str]] = ..., generation_time: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., usage: _Optional[_Union[TokenUsage, _Mapping]] = ...) -> None: ...

class ListModelsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListModelsResponse(_message.Message):
    __slots__ = ("models",)
    MODELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[_prediction_pb2.Model]
    def __init__(self, models: _Optional[_Iterable[_Union[_prediction_pb2.Model, _Mapping]]] = ...) -> None: ...

class LoadAdapterRequest(_message.Message):
    __slots__ = ("name", "require_better")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUIRE_BETTER_FIELD_NUMBER: _ClassVar[int]
    name: str
    require_better: bool
    def __init__(self, name: _Optional[str] = ..., require_better: _Optional[bool] = ...) -> None: ...

class LoadAdapterResponse(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: _prediction_pb2.Model
    def __init__(self, model: _Optional[_Union[_prediction_pb2.Model, _Mapping]] = ...) -> None: ...

class UnloadAdapterRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class UnloadAdapterResponse(_message.Message):
    __slots__ = ("model",)
    MODEL_FIELD_NUMBER: _ClassVar[int]
    model: _prediction_pb2.Model
    def __init__(self, model: _Optional[_Union[_prediction_pb2.Model, _Mapping]] = ...) -> None: ...
