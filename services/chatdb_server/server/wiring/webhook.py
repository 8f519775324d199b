"""Builds WebhookService from a process's Components, and starts and stops its dispatcher.

WebhookService is a companion of SchemaService (like AccessService): whatever process hosts
``schema`` hosts it too, and runs the dispatcher that delivers the outbox's events, whichever
process wrote them (a training worker finishing a job, a schema refresh finding drift).
"""

from __future__ import annotations

from dataclasses import dataclass

from chatdb_server.server.components import Components
from chatdb_server.webhooks.delivery_log import DeliveryLog
from chatdb_server.webhooks.delivery_queue import DeliveryQueue
from chatdb_server.webhooks.dispatcher import DispatchOptions, WebhookDispatcher
from chatdb_server.webhooks.retry import RetryPolicy
from chatdb_server.webhooks.service import WebhookService
from chatdb_server.webhooks.servicer import WebhookServicer
from chatdb_server.webhooks.subscriptions import WebhookStore
from chatdb_server.webhooks.targets import WebhookTargets


@dataclass
class WebhookParts:
    """What WebhookService is made of in one process."""

    service: WebhookService
    dispatcher: WebhookDispatcher


def webhook_parts(components: Components) -> WebhookParts:
    """The process's WebhookService and dispatcher."""
    def build() -> WebhookParts:
        settings, store = components.settings, components.store
        targets = WebhookTargets.parse(settings.webhook_allowed_hosts)
        service = WebhookService(WebhookStore(store, components.box), DeliveryLog(store), targets, components.pages)
        retry = RetryPolicy(max_attempts=settings.webhook_max_attempts, base_s=settings.webhook_backoff_s,
                            max_s=settings.webhook_max_backoff_s)
        options = DispatchOptions(retry=retry, timeout_s=settings.webhook_timeout_s, poll_s=settings.webhook_poll_s)
        return WebhookParts(service, WebhookDispatcher(DeliveryQueue(store), targets, components.box, options))

    parts: WebhookParts = components.shared("webhook.parts", build)
    return parts


async def build_servicer(components: Components) -> WebhookServicer:
    """WebhookService over the process's webhook store and delivery log."""
    return WebhookServicer(webhook_parts(components).service)


async def start(components: Components) -> None:
    """Start delivering due webhook events."""
    await webhook_parts(components).dispatcher.start()


async def stop(components: Components) -> None:
    """Stop the dispatcher."""
    await webhook_parts(components).dispatcher.stop()
