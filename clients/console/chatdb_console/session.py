"""The session cookie: the API key and a CSRF token, sealed with Fernet (encrypted and signed) under the
console's secret, with an expiry. The browser holds it but can neither read nor forge it."""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken

COOKIE_NAME = "chatdb_console"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class Session:
    """Who is using the console: an API key once signed in (empty before), and the CSRF token every POST
    must carry."""

    api_key: str
    csrf_token: str

    @property
    def signed_in(self) -> bool:
        """Whether the session holds a key."""
        return bool(self.api_key)

    def accepts(self, presented: str | None) -> bool:
        """Whether a POST's token is this session's (compared in constant time)."""
        return bool(presented) and hmac.compare_digest(self.csrf_token.encode(), str(presented).encode())


def new_session(api_key: str = "") -> Session:
    """A session with a fresh CSRF token (a new one at every sign-in and sign-out)."""
    return Session(api_key, secrets.token_urlsafe(32))


class SessionCodec:
    """Seals sessions into cookie values and opens them again, refusing tampered or expired ones."""

    def __init__(self, secret: str, ttl_s: int) -> None:
        self._fernet = Fernet(secret.encode("ascii"))
        self.ttl_s = ttl_s

    def seal(self, session: Session) -> str:
        """The cookie value of a session."""
        payload = json.dumps({"key": session.api_key, "csrf": session.csrf_token}).encode()
        return self._fernet.encrypt(payload).decode("ascii")

    def open(self, value: str | None) -> Session | None:
        """The session of a cookie value; None when absent, forged, sealed under another secret or expired."""
        if not value:
            return None
        try:
            payload = json.loads(self._fernet.decrypt(value.encode("ascii"), ttl=self.ttl_s))
        except (InvalidToken, ValueError, UnicodeError):
            return None
        if not isinstance(payload, dict):
            return None
        key, csrf = payload.get("key"), payload.get("csrf")
        if not isinstance(key, str) or not isinstance(csrf, str) or not csrf:
            return None
        return Session(key, csrf)
