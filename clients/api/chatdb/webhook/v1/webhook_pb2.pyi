import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WebhookEventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WEBHOOK_EVENT_TYPE_UNSPECIFIED: _ClassVar[WebhookEventType]
    WEBHOOK_EVENT_TYPE_TRAINING_JOB_SUCCEEDED: _ClassVar[WebhookEventType]
    WEBHOOK_EVENT_TYPE_TRAINING_JOB_FAILED: _ClassVar[WebhookEventType]
    WEBHOOK_EVENT_TYPE_TRAINING_JOB_CANCELLED: _ClassVar[WebhookEventType]
    WEBHOOK_EVENT_TYPE_FINE_TUNE_JOB_SUCCEEDED: _ClassVar[WebhookEventType]
    WEBHOOK_EVENT_TYPE_FINE_TUNE_JOB_FAILED: _ClassVar[WebhookEventType]
    WEBHOOK_EVENT_TYPE_FINE_TUNE_JOB_CANCELLED: _ClassVar[WebhookEventType]
    WEBHOOK_EVENT_TYPE_SCHEMA_DRIFT_DETECTED: _ClassVar[WebhookEventType]

class WebhookDeliveryState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WEBHOOK_DELIVERY_STATE_UNSPECIFIED: _ClassVar[WebhookDeliveryState]
    WEBHOOK_DELIVERY_STATE_PENDING: _ClassVar[WebhookDeliveryState]
    WEBHOOK_DELIVERY_STATE_SUCCEEDED: _ClassVar[WebhookDeliveryState]
    WEBHOOK_DELIVERY_STATE_FAILED: _ClassVar[WebhookDeliveryState]
WEBHOOK_EVENT_TYPE_UNSPECIFIED: WebhookEventType
WEBHOOK_EVENT_TYPE_TRAINING_JOB_SUCCEEDED: WebhookEventType
WEBHOOK_EVENT_TYPE_TRAINING_JOB_FAILED: WebhookEventType
WEBHOOK_EVENT_TYPE_TRAINING_JOB_CANCELLED: WebhookEventType
WEBHOOK_EVENT_TYPE_FINE_TUNE_JOB_SUCCEEDED: WebhookEventType
WEBHOOK_EVENT_TYPE_FINE_TUNE_JOB_FAILED: WebhookEventType
WEBHOOK_EVENT_TYPE_FINE_TUNE_JOB_CANCELLED: WebhookEventType
WEBHOOK_EVENT_TYPE_SCHEMA_DRIFT_DETECTED: WebhookEventType
WEBHOOK_DELIVERY_STATE_UNSPECIFIED: WebhookDeliveryState
WEBHOOK_DELIVERY_STATE_PENDING: WebhookDeliveryState
WEBHOOK_DELIVERY_STATE_SUCCEEDED: WebhookDeliveryState
WEBHOOK_DELIVERY_STATE_FAILED: WebhookDeliveryState

class Webhook(_message.Message):
    __slots__ = ("name", "display_name", "url", "event_types", "create_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    url: str
    event_types: _containers.RepeatedScalarFieldContainer[WebhookEventType]
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., url: _Optional[str] = ..., event_types: _Optional[_Iterable[_Union[WebhookEventType, str]]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WebhookDeliveryAttempt(_message.Message):
    __slots__ = ("number", "attempt_time", "status_code", "error", "duration")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_TIME_FIELD_NUMBER: _ClassVar[int]
    STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    number: int
    attempt_time: _timestamp_pb2.Timestamp
    status_code: int
    error: str
    duration: _duration_pb2.Duration
    def __init__(self, number: _Optional[int] = ..., attempt_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status_code: _Optional[int] = ..., error: _Optional[str] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class WebhookDelivery(_message.Message):
    __slots__ = ("name", "event_id", "event_type", "resource", "state", "attempts", "last_status_code", "next_attempt_time", "create_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    LAST_STATUS_CODE_FIELD_NUMBER: _ClassVar[int]
    NEXT_ATTEMPT_TIME_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    event_id: str
    event_type: WebhookEventType
    resource: str
    state: WebhookDeliveryState
    attempts: _containers.RepeatedCompositeFieldContainer[WebhookDeliveryAttempt]
    last_status_code: int
    next_attempt_time: _timestamp_pb2.Timestamp
    create_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., event_id: _Optional[str] = ..., event_type: _Optional[_Union[WebhookEventType, str]] = ..., resource: _Optional[str] = ..., state: _Optional[_Union[WebhookDeliveryState, str]] = ..., attempts: _Optional[_Iterable[_Union[WebhookDeliveryAttempt, _Mapping]]] = ..., last_status_code: _Optional[int] = ..., next_attempt_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
