"""What WebhookService takes and returns: subscriptions, deliveries and their attempts (never a secret
but once, in :class:`IssuedWebhook`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from chatdb_server.errors import InvalidArgument
from chatdb_server.webhooks.events import EventType

WEBHOOK_NAME = "webhooks/{webhook}"
DELIVERY_NAME = "webhooks/{webhook}/deliveries/{delivery}"
MAX_DISPLAY_NAME = 200


class DeliveryState(StrEnum):
    """Where one delivery stands."""

    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class WebhookSpec:
    """What a caller sets on a webhook."""

    url: str
    event_types: tuple[EventType, ...] = ()
    """Empty means every event."""
    display_name: str = ""

    def validate(self, prefix: str = "webhook") -> None:
        """InvalidArgument naming the first bad field (the URL's target is checked by ``WebhookTargets``)."""
        if len(self.display_name) > MAX_DISPLAY_NAME:
            raise InvalidArgument(f"{prefix}.display_name", f"must be at most {MAX_DISPLAY_NAME} characters")


@dataclass(frozen=True)
class Webhook:
    """A stored subscription, as callers may see it."""

    tenant: str
    webhook_id: str
    url: str
    event_types: tuple[EventType, ...]
    display_name: str
    create_time: datetime

    @property
    def name(self) -> str:
        """Resource name, ``webhooks/{id}``."""
        return WEBHOOK_NAME.format(webhook=self.webhook_id)


@dataclass(frozen=True)
class IssuedWebhook:
    """A webhook just created, with the secret that signs its deliveries: shown this once."""

    webhook: Webhook
    secret: str


@dataclass(frozen=True)
class Attempt:
    """One HTTP request of a delivery."""

    number: int
    time: datetime
    status_code: int
    """0 when no response came."""
    error: str
    duration_ms: float


@dataclass(frozen=True)
class Delivery:
    """One event to one webhook and every attempt so far."""

    webhook_id: str
    delivery_id: str
    event_id: str
    event_type: EventType
    resource: str
    state: DeliveryState
    attempts: tuple[Attempt, ...]
    last_status_code: int
    next_attempt_time: datetime | None
    create_time: datetime

    @property
    def name(self) -> str:
        """Resource name, ``webhooks/{webhook}/deliveries/{delivery}``."""
        return DELIVERY_NAME.format(webhook=self.webhook_id, delivery=self.delivery_id)
