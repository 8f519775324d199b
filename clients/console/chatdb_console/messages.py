"""One line for a failed call, with what to do about it: the status, the server's reason and message."""

from __future__ import annotations

from chatdb_client import ChatDBError

# ErrorInfo reasons → what the person can do next.
ADVICE = {
    "SOURCE_UNREACHABLE": "check the host, the port and that the database is running and reachable from ChatDB",
    "SOURCE_NOT_ALLOWED": "the server's CHATDB_ALLOWED_HOSTS or CHATDB_ALLOWED_SQLITE_DIRS do not allow this database",
    "UNSAFE_SQL": "only read-only SELECT queries run; remove statements that change data",
    "WRITES_DATA": "only read-only SELECT queries run; remove statements that change data",
    "NOT_TRAINED": "train the data source's tables on the Tables screen first",
    "QUERY_TIMEOUT": "narrow the question, or ask for fewer rows",
    "QUOTA_EXCEEDED": "wait a minute and try again",
    "SQL_TOO_COMPLEX": "simplify the query",
    "NO_ANSWER": "rephrase the question, naming the tables or columns you mean",
}


def describe(error: ChatDBError) -> str:
    """``STATUS (REASON): message — field: problem — advice`` on one line."""
    shown_reason = f" ({error.reason})" if error.reason and error.reason != error.code.name else ""
    parts = [f"{error.code.name}{shown_reason}: {error.message}"]
    parts.extend(f"{v.field}: {v.description}" for v in error.field_violations if v.description not in error.message)
    advice = ADVICE.get(error.reason)
    if advice:
        parts.append(advice)
    return " — ".join(" ".join(part.split()) for part in parts)
