"""The principal of the call being served, set once by the server's authentication interceptor,
and the audit facts the services add to the call's audit event (resource, question, SQL, rows)."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from chatdb_server.access.principal import Principal

_CURRENT: ContextVar[Principal | None] = ContextVar("chatdb_principal", default=None)


def current_principal() -> Principal | None:
    """The principal of the call in progress; None outside a call (in-process work, tests)."""
    return _CURRENT.get()


def bind_principal(principal: Principal | None) -> object:
    """Make ``principal`` current; returns a token for :func:`unbind_principal`."""
    return _CURRENT.set(principal)


def unbind_principal(token: object) -> None:
    """Restore the principal that was current before :func:`bind_principal`."""
    _CURRENT.reset(token)  # type: ignore[arg-type]


@dataclass
class AuditFacts:
    """What a service knows of a call that the interceptor does not: filled as the call runs."""

    resource: str = ""
    data_source: str = ""
    question: str = ""
    sql: str = ""
    row_count: int = 0


_FACTS: ContextVar[AuditFacts | None] = ContextVar("chatdb_audit_facts", default=None)


def open_facts() -> tuple[AuditFacts, object]:
    """Start collecting the facts of the call in progress; the facts and a token for :func:`close_facts`."""
    facts = AuditFacts()
    return facts, _FACTS.set(facts)


def close_facts(token: object) -> None:
    """Stop collecting (the interceptor, when the call ends)."""
    _FACTS.reset(token)  # type: ignore[arg-type]


def note(*, resource: str | None = None, data_source: str | None = None, question: str | None = None,
         sql: str | None = None, row_count: int | None = None) -> None:
    """Add facts to the call's audit event; does nothing outside an audited call."""
    facts = _FACTS.get()
    if facts is None:
        return
    if resource is not None:
        facts.resource = resource
    if data_source is not None:
        facts.data_source = data_source
    if question is not None:
        facts.question = question
    if sql is not None:
        facts.sql = sql
    if row_count is not None:
        facts.row_count = row_count
