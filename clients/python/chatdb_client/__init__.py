"""Python client for ChatDB.

>>> from chatdb_client import ChatDBClient
>>> with ChatDBClient("127.0.0.1:50051", api_key=key) as chatdb:
...     chatdb.create_data_source("sqlite:///shop.db", data_source_id="shop")
...     chatdb.train("shop")
...     answer = chatdb.ask("shop", "How many customers are there?")
...     print(answer.sql, answer.rows)

The generated gRPC messages and stubs come from the ``chatdb`` package
(``chatdb.<area>.v1``); replies the client does not reshape are those messages.
"""

from chatdb_client.aio import AsyncChatDBClient
from chatdb_client.channel import NO_RETRIES, RetryPolicy, tls_credentials
from chatdb_client.client import ChatDBClient
from chatdb_client.errors import ChatDBError, FieldViolation, TrainingJobFailed
from chatdb_client.results import AskResult, Column, DegradationLevel, DependencyHealth, QueryResult, SystemStatus
from chatdb_client.values import from_value, to_value

__all__ = [
    "NO_RETRIES",
    "AskResult",
    "AsyncChatDBClient",
    "ChatDBClient",
    "ChatDBError",
    "Column",
    "DegradationLevel",
    "DependencyHealth",
    "FieldViolation",
    "QueryResult",
    "RetryPolicy",
    "SystemStatus",
    "TrainingJobFailed",
    "from_value",
    "tls_credentials",
    "to_value",
]
