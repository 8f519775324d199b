"""The transactional outbox: an event is stored in the transaction of the change it reports.

Code that finishes a training job or records a schema drift calls :func:`emit` with its own
session, so the event (and one pending delivery per webhook of the tenant that wants it)
commits exactly when the change does, and never without it. A dispatcher on any replica
delivers it afterwards (:mod:`chatdb_server.webhooks.dispatcher`). Events no webhook wants are
not stored.

The payload is serialised here, once: every attempt sends, and signs, the same bytes.
"""

from __future__ import annotations

import json
import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from chatdb_server.log import get_logger
from chatdb_server.metadata.models import WebhookDeliveryRow, WebhookEventRow, WebhookRow, utcnow
from chatdb_server.webhooks.events import Event
from chatdb_server.webhooks.records import DeliveryState

log = get_logger(__name__)


async def emit(session: AsyncSession, event: Event) -> int:
    """Queue ``event`` in ``session``'s transaction for every webhook of its tenant that wants it; how many."""
    webhooks = (await session.execute(select(WebhookRow.pk, WebhookRow.event_types)
                                      .where(WebhookRow.tenant == event.tenant))).all()
    targets = [pk for pk, wanted in webhooks if not wanted or event.event_type.value in wanted]
    if not targets:
        return 0
    now = utcnow()
    event_id = f"evt_{uuid.uuid4().hex}"
    body = json.dumps({"id": event_id, "type": event.event_type.value,
                       "time": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                       "tenant": event.tenant, "resource": event.resource, "data": dict(event.data)},
                      separators=(",", ":"), sort_keys=True, default=str)
    row = WebhookEventRow(event_id=event_id, tenant=event.tenant, event_type=event.event_type.value,
                          resource=event.resource, body=body, create_time=now)
    session.add(row)
    await session.flush()
    session.add_all(WebhookDeliveryRow(delivery_id=f"dlv-{uuid.uuid4().hex}", tenant=event.tenant, webhook_pk=pk,
                                       event_pk=row.pk, state=DeliveryState.PENDING.value, attempt_count=0,
                                       next_attempt_time=now, claimed_by="", last_status_code=0, create_time=now)
                    for pk in targets)
    log.info("webhooks.event_queued", event_id=event_id, type=event.event_type.value, resource=event.resource,
             deliveries=len(targets))
    return len(targets)
