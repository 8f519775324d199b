"""WebhookService's domain: each RPC's use case in domain terms (the servicer only translates).

It parses names and pages, checks a new webhook's URL against the target rules, and reads and
writes through the subscription store and the delivery log. The dispatcher that sends the
events is wired beside it (``chatdb_server.server.wiring.webhook``).
"""

from __future__ import annotations

from chatdb_server.names import parse_name, validate_id
from chatdb_server.pagination import PageTokens
from chatdb_server.webhooks.delivery_log import DeliveryLog
from chatdb_server.webhooks.records import WEBHOOK_NAME, Delivery, IssuedWebhook, Webhook, WebhookSpec
from chatdb_server.webhooks.subscriptions import WebhookStore
from chatdb_server.webhooks.targets import WebhookTargets

DEFAULT_PAGE = 50


class WebhookService:
    """Webhook subscriptions and their delivery log, per tenant."""

    def __init__(self, webhooks: WebhookStore, deliveries: DeliveryLog, targets: WebhookTargets,
                 pages: PageTokens) -> None:
        self._webhooks = webhooks
        self._deliveries = deliveries
        self._targets = targets
        self._pages = pages

    async def create(self, tenant: str, spec: WebhookSpec, webhook_id: str = "") -> IssuedWebhook:
        """Check and store a webhook; it and its secret, shown this once."""
        if webhook_id:
            validate_id(webhook_id, "webhook_id")
        spec.validate()
        await self._targets.check(spec.url)
        return await self._webhooks.create(tenant, spec, webhook_id)

    async def list_webhooks(self, tenant: str, page_size: int, page_token: str) -> tuple[list[Webhook], str]:
        """A page of the tenant's webhooks, oldest first, and the next page's token."""
        scope = f"webhooks|{tenant}"
        page = self._pages.page(page_size, page_token, scope, default=DEFAULT_PAGE)
        webhooks, more = await self._webhooks.list_webhooks(tenant, page.offset, page.size)
        return webhooks, self._pages.next_token(page, len(webhooks), more, scope)

    async def get(self, tenant: str, name: str) -> Webhook:
        """One webhook, by name."""
        return await self._webhooks.get(tenant, _webhook_id(name, "name"))

    async def delete(self, tenant: str, name: str) -> None:
        """Delete a webhook and its delivery log."""
        await self._webhooks.delete(tenant, _webhook_id(name, "name"))

    async def list_deliveries(self, tenant: str, parent: str, page_size: int,
                              page_token: str) -> tuple[list[Delivery], str]:
        """A page of a webhook's deliveries, newest first, and the next page's token."""
        webhook_id = _webhook_id(parent, "parent")
        scope = f"webhookDeliveries|{tenant}|{webhook_id}"
        page = self._pages.page(page_size, page_token, scope, default=DEFAULT_PAGE)
        deliveries, more = await self._deliveries.list_deliveries(tenant, webhook_id, page.offset, page.size)
        return deliveries, self._pages.next_token(page, len(deliveries), more, scope)


def _webhook_id(name: str, field: str) -> str:
    return parse_name(name, WEBHOOK_NAME, field)["webhook"]
