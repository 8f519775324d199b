"""Errors of running SQL on a target database.

``SourceUnreachable`` is what the resilience layer counts for a source's breaker (the
database is down or refuses connections); ``QueryFailed`` carries the database's own
message so that generation can repair the SQL once; timeouts are ``DeadlineExceeded``
with reason ``QUERY_TIMEOUT``, raised only after the query was cancelled in the database.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.exc import SQLAlchemyError

from chatdb_server.errors import DeadlineExceeded, FailedPrecondition

SOURCE_UNREACHABLE = "SOURCE_UNREACHABLE"
QUERY_FAILED = "QUERY_FAILED"
QUERY_TIMEOUT = "QUERY_TIMEOUT"
REACH_ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, OSError, asyncio.TimeoutError, ConnectionError)
"""What a database that is down, refusing or unreadable raises through SQLAlchemy and its drivers."""


class SourceUnreachable(FailedPrecondition):
    """The target database cannot be reached, refused the connection, or dropped it."""

    def __init__(self, source_name: str, detail: str) -> None:
        super().__init__(f"data source {source_name} is unreachable: {detail}", SOURCE_UNREACHABLE,
                         {"data_source": source_name})
        self.detail = detail


class QueryFailed(FailedPrecondition):
    """The database rejected the query; ``database_message`` is what it said."""

    def __init__(self, source_name: str, database_message: str) -> None:
        super().__init__(f"the database rejected the query: {database_message}", QUERY_FAILED,
                         {"data_source": source_name})
        self.database_message = database_message


class QueryTimeout(DeadlineExceeded):
    """The query ran past its timeout and was cancelled in the database."""

    def __init__(self, source_name: str, timeout_s: float) -> None:
        super().__init__(f"the query on {source_name} ran longer than {timeout_s:g} s and was cancelled",
                         QUERY_TIMEOUT)
        self.timeout_s = timeout_s
