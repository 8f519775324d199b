"""Webhook subscriptions in the metadata store, per tenant.

The signing secret is generated here, sealed with the server's SecretBox like data-source
passwords, and returned once by :meth:`WebhookStore.create`; nothing else ever reads it but the
dispatcher. Every query filters by tenant: another tenant's webhook is NOT_FOUND.
"""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from chatdb_server.crypto import SecretBox
from chatdb_server.errors import AlreadyExists, NotFound
from chatdb_server.log import get_logger
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.models import WebhookAttemptRow, WebhookDeliveryRow, WebhookRow, as_utc, utcnow
from chatdb_server.webhooks.events import EventType
from chatdb_server.webhooks.records import WEBHOOK_NAME, IssuedWebhook, Webhook, WebhookSpec
from chatdb_server.webhooks.signing import new_secret

log = get_logger(__name__)


class WebhookStore:
    """The webhooks of every tenant."""

    def __init__(self, store: MetadataStore, box: SecretBox) -> None:
        self._store = store
        self._box = box

    async def create(self, tenant: str, spec: WebhookSpec, webhook_id: str = "") -> IssuedWebhook:
        """Store a webhook with a new secret; the webhook and the secret (shown this once)."""
        chosen = webhook_id or f"webhook-{uuid.uuid4().hex[:12]}"
        secret = new_secret()
        row = WebhookRow(tenant=tenant, webhook_id=chosen, display_name=spec.display_name, url=spec.url,
                         event_types=[t.value for t in spec.event_types], secret_sealed=self._box.seal(secret),
                         create_time=utcnow())
        try:
            async with self._store.session() as session:
                session.add(row)
        except IntegrityError:
            raise AlreadyExists(WEBHOOK_NAME.format(webhook=chosen)) from None
        log.info("webhooks.created", webhook=chosen, events=row.event_types or ["*"])
        return IssuedWebhook(_webhook(row), secret)

    async def list_webhooks(self, tenant: str, offset: int, limit: int) -> tuple[list[Webhook], bool]:
        """A page of the tenant's webhooks, oldest first, and whether more follow."""
        async with self._store.session() as session:
            rows = (await session.scalars(select(WebhookRow).where(WebhookRow.tenant == tenant)
                                          .order_by(WebhookRow.create_time, WebhookRow.pk)
                                          .offset(offset).limit(limit + 1))).all()
        return [_webhook(r) for r in rows[:limit]], len(rows) > limit

    async def get(self, tenant: str, webhook_id: str) -> Webhook:
        """One webhook of the tenant; NotFound otherwise."""
        async with self._store.session() as session:
            return _webhook(await self.row(session, tenant, webhook_id))

    async def delete(self, tenant: str, webhook_id: str) -> None:
        """Delete a webhook, its deliveries and their attempts (pending ones are never sent)."""
        async with self._store.session() as session:
            row = await self.row(session, tenant, webhook_id)
            deliveries = select(WebhookDeliveryRow.pk).where(WebhookDeliveryRow.webhook_pk == row.pk)
            await session.execute(delete(WebhookAttemptRow).where(WebhookAttemptRow.delivery_pk.in_(deliveries)))
            await session.execute(delete(WebhookDeliveryRow).where(WebhookDeliveryRow.webhook_pk == row.pk))
            await session.execute(delete(WebhookRow).where(WebhookRow.pk == row.pk))
        log.info("webhooks.deleted", webhook=webhook_id)

    @staticmethod
    async def row(session: AsyncSession, tenant: str, webhook_id: str) -> WebhookRow:
        """The tenant's webhook row; NotFound otherwise."""
        row = await session.scalar(select(WebhookRow).where(WebhookRow.tenant == tenant,
                                                            WebhookRow.webhook_id == webhook_id))
        if row is None:
            raise NotFound(WEBHOOK_NAME.format(webhook=webhook_id), "webhook")
        return row


def _webhook(row: WebhookRow) -> Webhook:
    return Webhook(tenant=row.tenant, webhook_id=row.webhook_id, url=row.url,
                   event_types=tuple(EventType(t) for t in row.event_types or ()), display_name=row.display_name,
                   create_time=as_utc(row.create_time) or utcnow())
