"""WebhookService operations: subscriptions to the tenant's events and the log of their deliveries."""

from __future__ import annotations

from collections.abc import Sequence

from chatdb.webhook.v1 import webhook_pb2, webhook_service_pb2
from chatdb_client.operations.core import WEBHOOK, Listing, Operation, enum_value, listing, nothing, resource_name
from chatdb_client.results import CreatedWebhook


def event_type_value(event: str | int) -> int:
    """A ``WebhookEventType`` from its payload name (``"training_job.succeeded"``), its enum name or number."""
    name = event.replace(".", "_") if isinstance(event, str) else event
    return enum_value(webhook_pb2.WebhookEventType, "WEBHOOK_EVENT_TYPE_", name)


def create_webhook(url: str, event_types: Sequence[str | int] = (), display_name: str = "",
                   webhook_id: str = "") -> Operation[CreatedWebhook]:
    """Subscribe ``url`` to the tenant's events of ``event_types`` (``"training_job.succeeded"``,
    ``"schema.drift_detected"``, ...; empty means all). Returns the webhook and the secret that signs
    every delivery, which is shown only once."""
    webhook = webhook_pb2.Webhook(url=url, display_name=display_name,
                                  event_types=[event_type_value(e) for e in event_types])
    request = webhook_service_pb2.CreateWebhookRequest(webhook=webhook, webhook_id=webhook_id)
    return Operation(WEBHOOK, "CreateWebhook", request, lambda reply: CreatedWebhook(reply.webhook, reply.secret))


def list_webhooks(page_size: int = 0) -> Listing[webhook_pb2.Webhook]:
    """The tenant's webhooks, oldest first, without secrets."""
    request = webhook_service_pb2.ListWebhooksRequest(page_size=page_size)
    return listing(WEBHOOK, "ListWebhooks", request, "webhooks")


def get_webhook(name: str) -> Operation[webhook_pb2.Webhook]:
    """One webhook, by id or ``webhooks/{id}``, without its secret."""
    request = webhook_service_pb2.GetWebhookRequest(name=resource_name("webhooks", name))
    return Operation(WEBHOOK, "GetWebhook", request, lambda reply: reply.webhook)


def delete_webhook(name: str) -> Operation[None]:
    """Delete a webhook and its delivery log; pending deliveries are dropped."""
    request = webhook_service_pb2.DeleteWebhookRequest(name=resource_name("webhooks", name))
    return Operation(WEBHOOK, "DeleteWebhook", request, nothing)


def list_webhook_deliveries(webhook: str, page_size: int = 0) -> Listing[webhook_pb2.WebhookDelivery]:
    """A webhook's deliveries, newest first, each with its attempts."""
    request = webhook_service_pb2.ListWebhookDeliveriesRequest(parent=resource_name("webhooks", webhook),
                                                               page_size=page_size)
    return listing(WEBHOOK, "ListWebhookDeliveries", request, "deliveries")
