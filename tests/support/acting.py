"""Acting as a principal in-process, as the server's access interceptor would bind one for a call."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from chatdb_server.access.context import bind_principal, unbind_principal
from chatdb_server.access.principal import Principal


@contextmanager
def acting_as(caller: Principal) -> Iterator[None]:
    """Make ``caller`` the principal of the call in progress."""
    token = bind_principal(caller)
    try:
        yield
    finally:
        unbind_principal(token)
