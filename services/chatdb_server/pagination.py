"""Opaque page tokens (AIP-158).

A token encrypts the offset together with a hash of the request that produced it,
so a token cannot be forged, read, or replayed against a different query.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from chatdb_server.errors import InvalidArgument


@dataclass(frozen=True)
class PageRequest:
    """A validated page: where to start and how many to return."""

    offset: int
    size: int


class PageTokens:
    """Issues and reads page tokens with a server-held key (or comma-separated keys: the first issues)."""

    def __init__(self, key: bytes) -> None:
        self._fernet = MultiFernet([Fernet(k.strip()) for k in key.split(b",") if k.strip()])

    def page(self, page_size: int, page_token: str, scope: str, *, default: int = 50,
             maximum: int = 1000) -> PageRequest:
        """Validate page_size and page_token for a listing identified by ``scope``."""
        if page_size < 0:
            raise InvalidArgument("page_size", "must not be negative")
        size = default if page_size == 0 else min(page_size, maximum)
        if not page_token:
            return PageRequest(0, size)
        try:
            payload = json.loads(self._fernet.decrypt(page_token.encode()))
        except (InvalidToken, ValueError, UnicodeError):
            raise InvalidArgument("page_token", "not a page token issued by this server",
                                  reason="INVALID_PAGE_TOKEN") from None
        if payload.get("s") != _digest(scope) or not isinstance(payload.get("o"), int):
            raise InvalidArgument("page_token", "belongs to a different request", reason="INVALID_PAGE_TOKEN")
        return PageRequest(payload["o"], size)

    def next_token(self, page: PageRequest, returned: int, has_more: bool, scope: str) -> str:
        """The token for the page after this one, or "" on the last page."""
        if not has_more:
            return ""
        payload = json.dumps({"o": page.offset + returned, "s": _digest(scope)})
        return self._fernet.encrypt(payload.encode()).decode()


def _digest(scope: str) -> str:
    return hashlib.sha256(scope.encode()).hexdigest()[:16]
