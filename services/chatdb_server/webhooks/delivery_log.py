"""A webhook's deliveries and their attempts, as ListWebhookDeliveries shows them."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.models import WebhookAttemptRow, WebhookDeliveryRow, WebhookEventRow, as_utc, utcnow
from chatdb_server.webhooks.events import EventType
from chatdb_server.webhooks.records import Attempt, Delivery, DeliveryState
from chatdb_server.webhooks.subscriptions import WebhookStore


class DeliveryLog:
    """Reads deliveries of the tenant's webhooks."""

    def __init__(self, store: MetadataStore) -> None:
        self._store = store

    async def list_deliveries(self, tenant: str, webhook_id: str, offset: int,
                              limit: int) -> tuple[list[Delivery], bool]:
        """A page of the webhook's deliveries, newest first, and whether more follow; NotFound for no such webhook."""
        async with self._store.session() as session:
            webhook = await WebhookStore.row(session, tenant, webhook_id)
            rows = (await session.execute(
                select(WebhookDeliveryRow, WebhookEventRow)
                .join(WebhookEventRow, WebhookEventRow.pk == WebhookDeliveryRow.event_pk)
                .where(WebhookDeliveryRow.webhook_pk == webhook.pk)
                .order_by(WebhookDeliveryRow.create_time.desc(), WebhookDeliveryRow.pk.desc())
                .offset(offset).limit(limit + 1))).all()
            shown = rows[:limit]
            attempts: defaultdict[int, list[Attempt]] = defaultdict(list)
            if shown:
                for attempt in (await session.scalars(
                        select(WebhookAttemptRow).where(WebhookAttemptRow.delivery_pk.in_([d.pk for d, _ in shown]))
                        .order_by(WebhookAttemptRow.number))).all():
                    attempts[attempt.delivery_pk].append(Attempt(
                        number=attempt.number, time=as_utc(attempt.attempt_time), status_code=attempt.status_code,
                        error=attempt.error, duration_ms=attempt.duration_ms))
        deliveries = [Delivery(webhook_id=webhook_id, delivery_id=d.delivery_id, event_id=e.event_id,
                               event_type=EventType(e.event_type), resource=e.resource, state=DeliveryState(d.state),
                               attempts=tuple(attempts[d.pk]), last_status_code=d.last_status_code,
                               next_attempt_time=(as_utc(d.next_attempt_time)
                                                  if d.state == DeliveryState.PENDING.value else None),
                               create_time=as_utc(d.create_time) or utcnow())
                      for d, e in shown]
        return deliveries, len(rows) > limit
