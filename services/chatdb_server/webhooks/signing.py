"""Webhook secrets and the signature every delivery carries.

Each request carries the event id, the time it was signed and an HMAC-SHA256, keyed with the
webhook's secret, over ``"<timestamp>.<body>"``:

    ChatDB-Event-Id: evt_...
    ChatDB-Timestamp: 1767000000
    ChatDB-Signature: sha256=<hex digest>

A receiver recomputes the digest over the raw body, compares in constant time, and refuses
timestamps too far from its clock (replays). The README shows the code.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

EVENT_ID_HEADER = "ChatDB-Event-Id"
EVENT_TYPE_HEADER = "ChatDB-Event-Type"
TIMESTAMP_HEADER = "ChatDB-Timestamp"
SIGNATURE_HEADER = "ChatDB-Signature"
ATTEMPT_HEADER = "ChatDB-Delivery-Attempt"
SIGNATURE_PREFIX = "sha256="
SECRET_PREFIX = "whsec_"
USER_AGENT = "ChatDB-Webhooks/1"


def new_secret() -> str:
    """A fresh signing secret (256 random bits)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``ChatDB-Signature`` value of ``body`` sent at ``timestamp`` (Unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def signed_headers(secret: str, *, event_id: str, event_type: str, body: bytes, timestamp: int,
                   attempt: int) -> dict[str, str]:
    """Every header of one delivery attempt."""
    return {"Content-Type": "application/json", "User-Agent": USER_AGENT, EVENT_ID_HEADER: event_id,
            EVENT_TYPE_HEADER: event_type, TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: signature(secret, timestamp, body), ATTEMPT_HEADER: str(attempt)}


def verify(secret: str, timestamp: str, body: bytes, signature_header: str) -> bool:
    """Whether ``signature_header`` signs ``body`` at ``timestamp`` with ``secret`` (what a receiver checks)."""
    try:
        expected = signature(secret, int(timestamp), body)
    except ValueError:
        return False
    return hmac.compare_digest(expected, signature_header)
