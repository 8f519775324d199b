"""The principal of the call being served, set once by the server's authentication interceptor."""

from __future__ import annotations

from contextvars import ContextVar

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
