"""Translations between WebhookService's domain records and chatdb.webhook.v1 messages."""

from __future__ import annotations

from datetime import timedelta

from google.protobuf import duration_pb2

from chatdb import wire
from chatdb.webhook.v1 import webhook_pb2
from chatdb_server.errors import InvalidArgument
from chatdb_server.webhooks.events import EventType
from chatdb_server.webhooks.records import Attempt, Delivery, Webhook, WebhookSpec

_EVENT_PREFIX = "WEBHOOK_EVENT_TYPE_"
_STATE_PREFIX = "WEBHOOK_DELIVERY_STATE_"


def event_type_from_proto(value: int, field: str) -> EventType:
    """The domain event type of a proto enum value; InvalidArgument naming ``field`` for UNSPECIFIED or unknown."""
    name = webhook_pb2.WebhookEventType.Name(value) if value in webhook_pb2.WebhookEventType.values() else ""
    member = name.removeprefix(_EVENT_PREFIX)
    if not name or member not in EventType.__members__:
        choices = ", ".join(_EVENT_PREFIX + t.name for t in EventType)
        raise InvalidArgument(field, f"must be one of {choices}")
    return EventType[member]


def event_type_to_proto(event_type: EventType) -> webhook_pb2.WebhookEventType:
    """The proto enum value of a domain event type."""
    return webhook_pb2.WebhookEventType.Value(_EVENT_PREFIX + event_type.name)


def spec_from_proto(message: webhook_pb2.Webhook) -> WebhookSpec:
    """What a caller asked for in CreateWebhook; duplicate event types are folded."""
    types = [event_type_from_proto(value, f"webhook.event_types[{index}]")
             for index, value in enumerate(message.event_types)]
    return WebhookSpec(url=message.url.strip(), event_types=tuple(dict.fromkeys(types)),
                       display_name=message.display_name)


def webhook_to_proto(webhook: Webhook) -> webhook_pb2.Webhook:
    """A stored webhook, never its secret."""
    return webhook_pb2.Webhook(name=webhook.name, display_name=webhook.display_name, url=webhook.url,
                               event_types=[event_type_to_proto(t) for t in webhook.event_types],
                               create_time=wire.timestamp(webhook.create_time))


def delivery_to_proto(delivery: Delivery) -> webhook_pb2.WebhookDelivery:
    """A delivery with its attempts."""
    message = webhook_pb2.WebhookDelivery(
        name=delivery.name, event_id=delivery.event_id, event_type=event_type_to_proto(delivery.event_type),
        resource=delivery.resource,
        state=webhook_pb2.WebhookDeliveryState.Value(_STATE_PREFIX + delivery.state.value),
        attempts=[_attempt(a) for a in delivery.attempts], last_status_code=delivery.last_status_code,
        create_time=wire.timestamp(delivery.create_time))
    if delivery.next_attempt_time is not None:
        message.next_attempt_time.CopyFrom(wire.timestamp(delivery.next_attempt_time))
    return message


def _attempt(attempt: Attempt) -> webhook_pb2.WebhookDeliveryAttempt:
    duration = duration_pb2.Duration()
    duration.FromTimedelta(timedelta(milliseconds=attempt.duration_ms))
    return webhook_pb2.WebhookDeliveryAttempt(number=attempt.number, attempt_time=wire.timestamp(attempt.time),
                                              status_code=attempt.status_code, error=attempt.error,
                                              duration=duration)
