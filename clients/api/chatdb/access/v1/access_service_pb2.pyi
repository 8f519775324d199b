import datetime

from chatdb.access.v1 import access_pb2 as _access_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateApiKeyRequest(_message.Message):
    __slots__ = ("api_key",)
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    api_key: _access_pb2.ApiKey
    def __init__(self, api_key: _Optional[_Union[_access_pb2.ApiKey, _Mapping]] = ...) -> None: ...

class CreateApiKeyResponse(_message.Message):
    __slots__ = ("api_key", "secret")
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    api_key: _access_pb2.ApiKey
    secret: str
    def __init__(self, api_key: _Optional[_Union[_access_pb2.ApiKey, _Mapping]] = ..., secret: _Optional[str] = ...) -> None: ...

class ListApiKeysRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListApiKeysResponse(_message.Message):
    __slots__ = ("api_keys", "next_page_token")
    API_KEYS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    api_keys: _containers.RepeatedCompositeFieldContainer[_access_pb2.ApiKey]
    next_page_token: str
    def __init__(self, api_keys: _Optional[_Iterable[_Union[_access_pb2.ApiKey, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RevokeApiKeyRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class RevokeApiKeyResponse(_message.Message):
    __slots__ = ("api_key",)
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    api_key: _access_pb2.ApiKey
    def __init__(self, api_key: _Optional[_Union[_access_pb2.ApiKey, _Mapping]] = ...) -> None: ...

class CreateColumnPolicyRequest(_message.Message):
    __slots__ = ("parent", "column_policy")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    COLUMN_POLICY_FIELD_NUMBER: _ClassVar[int]
    parent: str
    column_policy: _access_pb2.ColumnPolicy
    def __init__(self, parent: _Optional[str] = ..., column_policy: _Optional[_Union[_access_pb2.ColumnPolicy, _Mapping]] = ...) -> None: ...

class CreateColumnPolicyResponse(_message.Message):
    __slots__ = ("column_policy",)
    COLUMN_POLICY_FIELD_NUMBER: _ClassVar[int]
    column_policy: _access_pb2.ColumnPolicy
    def __init__(self, column_policy: _Optional[_Union[_access_pb2.ColumnPolicy, _Mapping]] = ...) -> None: ...

class ListColumnPoliciesRequest(_message.Message):
    __slots__ = ("parent",)
    PARENT_FIELD_NUMBER: _ClassVar[int]
    parent: str
    def __init__(self, parent: _Optional[str] = ...) -> None: ...

class ListColumnPoliciesResponse(_message.Message):
    __slots__ = ("column_policies",)
    COLUMN_POLICIES_FIELD_NUMBER: _ClassVar[int]
    column_policies: _containers.RepeatedCompositeFieldContainer[_access_pb2.ColumnPolicy]
    def __init__(self, column_policies: _Optional[_Iterable[_Union[_access_pb2.ColumnPolicy, _Mapping]]] = ...) -> None: ...

class DeleteColumnPolicyRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteColumnPolicyResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateRowPolicyRequest(_message.Message):
    __slots__ = ("parent", "row_policy")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    ROW_POLICY_FIELD_NUMBER: _ClassVar[int]
    parent: str
    row_policy: _access_pb2.RowPolicy
    def __init__(self, parent: _Optional[str] = ..., row_policy: _Optional[_Union[_access_pb2.RowPolicy, _Mapping]] = ...) -> None: ...

class CreateRowPolicyResponse(_message.Message):
    __slots__ = ("row_policy",)
    ROW_POLICY_FIELD_NUMBER: _ClassVar[int]
    row_policy: _access_pb2.RowPolicy
    def __init__(self, row_policy: _Optional[_Union[_access_pb2.RowPolicy, _Mapping]] = ...) -> None: ...

class ListRowPoliciesRequest(_message.Message):
    __slots__ = ("parent",)
    PARENT_FIELD_NUMBER: _ClassVar[int]
    parent: str
    def __init__(self, parent: _Optional[str] = ...) -> None: ...

class ListRowPoliciesResponse(_message.Message):
    __slots__ = ("row_policies",)
    ROW_POLICIES_FIELD_NUMBER: _ClassVar[int]
    row_policies: _containers.RepeatedCompositeFieldContainer[_access_pb2.RowPolicy]
    def __init__(self, row_policies: _Optional[_Iterable[_Union[_access_pb2.RowPolicy, _Mapping]]] = ...) -> None: ...

class DeleteRowPolicyRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteRowPolicyResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListAuditEventsRequest(_message.Message):
    __slots__ = ("principal", "data_source", "start_time", "end_time", "page_size", "page_token")
    PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    DATA_SOURCE_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    principal: str
    data_source: str
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    page_size: int
    page_token: str
    def __init__(self, principal: _Optional[str] = ..., data_source: _Optional[str] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAuditEventsResponse(_message.Message):
    __slots__ = ("audit_events", "next_page_token")
    AUDIT_EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    audit_events: _containers.RepeatedCompositeFieldContainer[_access_pb2.AuditEvent]
    next_page_token: str
    def __init__(self, audit_events: _Optional[_Iterable[_Union[_access_pb2.AuditEvent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
