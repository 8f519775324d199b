"""Python client for ChatDB.

>>> from chatdb_client import ChatDBClient
>>> with ChatDBClient("127.0.0.1:50051", api_key=key) as chatdb:
...     chatdb.create_data_source("sqlite:///shop.db", data_source_id="shop")
...     chatdb.train("shop")
...     answer = chatdb.ask("shop", "How many customers are there?")
...     print(answer.sql, answer.to_dicts())

Every RPC of every service has a method in :class:`ChatDBClient` and, as a coroutine or
async iterator, in :class:`AsyncChatDBClient`. The generated gRPC messages and stubs come
from the ``chatdb`` package (``chatdb.<area>.v1``); replies the client does not reshape are
those messages.
"""

from chatdb_client.aio import AsyncChatDBClient
from chatdb_client.channel import NO_RETRIES, RetryPolicy, tls_credentials
from chatdb_client.client import ChatDBClient
from chatdb_client.errors import (
    Aborted,
    AlreadyExists,
    Cancelled,
    ChatDBError,
    DataLoss,
    DeadlineExceeded,
    FailedPrecondition,
    FieldViolation,
    Internal,
    InvalidArgument,
    NotFound,
    OutOfRange,
    PermissionDenied,
    ResourceExhausted,
    TrainingJobFailed,
    Unauthenticated,
    Unavailable,
    Unimplemented,
    Unknown,
)
from chatdb_client.results import (
    AskEvent,
    AskResult,
    Chart,
    Column,
    CreatedApiKey,
    DegradationLevel,
    DependencyHealth,
    QueryResult,
    SystemStatus,
)
from chatdb_client.values import from_value, to_value

__all__ = [
    "NO_RETRIES",
    "Aborted",
    "AlreadyExists",
    "AskEvent",
    "AskResult",
    "AsyncChatDBClient",
    "Cancelled",
    "Chart",
    "ChatDBClient",
    "ChatDBError",
    "Column",
    "CreatedApiKey",
    "DataLoss",
    "DeadlineExceeded",
    "DegradationLevel",
    "DependencyHealth",
    "FailedPrecondition",
    "FieldViolation",
    "Internal",
    "InvalidArgument",
    "NotFound",
    "OutOfRange",
    "PermissionDenied",
    "QueryResult",
    "ResourceExhausted",
    "RetryPolicy",
    "SystemStatus",
    "TrainingJobFailed",
    "Unauthenticated",
    "Unavailable",
    "Unimplemented",
    "Unknown",
    "from_value",
    "tls_credentials",
    "to_value",
]
