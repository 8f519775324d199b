"""Due deliveries, claimed by one dispatcher at a time, and the record of each attempt.

Several replicas may run dispatchers on one metadata store. A dispatcher claims a due delivery
with one conditional ``UPDATE`` that moves its ``next_attempt_time`` past a lease and names the
dispatcher (row count 1 wins; candidates are picked with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
so claimers pick different rows without waiting), as training jobs are claimed. The attempt's
record is fenced by that claim (same attempt count and dispatcher): a delivery whose webhook was
deleted meanwhile, or that another dispatcher took over after the lease ran out, is not written.
Times come from the database's clock on PostgreSQL, so replicas whose clocks disagree still agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.models import (
    WebhookAttemptRow,
    WebhookDeliveryRow,
    WebhookEventRow,
    WebhookRow,
)
from chatdb_server.webhooks.records import DeliveryState

_PENDING = DeliveryState.PENDING.value


@dataclass(frozen=True)
class Claim:
    """A delivery a dispatcher holds for one attempt."""

    pk: int
    attempt: int
    """The number of the attempt about to be made (1 for the first)."""
    worker_id: str
    delivery_id: str
    url: str
    secret_sealed: str
    event_id: str
    event_type: str
    body: str


@dataclass(frozen=True)
class Outcome:
    """What one attempt got."""

    status_code: int
    error: str
    duration_ms: float
    time: datetime

    @property
    def succeeded(self) -> bool:
        """Whether the receiver answered 2xx."""
        return 200 <= self.status_code < 300


class DeliveryQueue:
    """Claims and records deliveries in the metadata store."""

    def __init__(self, store: MetadataStore) -> None:
        self._store = store

    async def clock(self) -> datetime:
        """Now, by the database's clock on PostgreSQL (this host's on SQLite, whose file one host shares)."""
        return await self._store.clock()

    async def claim(self, worker_id: str, limit: int, lease_s: float) -> list[Claim]:
        """Up to ``limit`` due deliveries, each held by ``worker_id`` for ``lease_s`` seconds."""
        now = await self.clock()
        if not await self._store.read_first(select(WebhookDeliveryRow.pk).where(
                WebhookDeliveryRow.state == _PENDING, WebhookDeliveryRow.next_attempt_time <= now).limit(1)):
            return []  # nothing due: found without a transaction (on SQLite, without the write lock)
        candidates = (select(WebhookDeliveryRow.pk, WebhookDeliveryRow.attempt_count)
                      .where(WebhookDeliveryRow.state == _PENDING, WebhookDeliveryRow.next_attempt_time <= now)
                      .order_by(WebhookDeliveryRow.next_attempt_time, WebhookDeliveryRow.pk)
                      .limit(limit)
                      .with_for_update(skip_locked=True, of=WebhookDeliveryRow))
        won: list[int] = []
        async with self._store.session() as session:
            for pk, attempts in (await session.execute(candidates)).all():
                claimed = await session.execute(
                    update(WebhookDeliveryRow)
                    .where(WebhookDeliveryRow.pk == pk, WebhookDeliveryRow.state == _PENDING,
                           WebhookDeliveryRow.attempt_count == attempts, WebhookDeliveryRow.next_attempt_time <= now)
                    .values(next_attempt_time=now + timedelta(seconds=lease_s), claimed_by=worker_id)
                    .execution_options(synchronize_session=False))
                if claimed.rowcount == 1:  # type: ignore[attr-defined]
                    won.append(pk)
            if not won:
                return []
            rows = (await session.execute(
                select(WebhookDeliveryRow.pk, WebhookDeliveryRow.attempt_count, WebhookDeliveryRow.delivery_id,
                       WebhookRow.url, WebhookRow.secret_sealed, WebhookEventRow.event_id,
                       WebhookEventRow.event_type, WebhookEventRow.body)
                .join(WebhookRow, WebhookRow.pk == WebhookDeliveryRow.webhook_pk)
                .join(WebhookEventRow, WebhookEventRow.pk == WebhookDeliveryRow.event_pk)
                .where(WebhookDeliveryRow.pk.in_(won)))).all()
        return [Claim(pk=pk, attempt=count + 1, worker_id=worker_id, delivery_id=delivery_id, url=url,
                      secret_sealed=sealed, event_id=event_id, event_type=event_type, body=body)
                for pk, count, delivery_id, url, sealed, event_id, event_type, body in rows]

    async def record(self, claim: Claim, outcome: Outcome, state: DeliveryState, retry_after_s: float) -> bool:
        """Log the attempt and move the delivery to ``state`` (PENDING: due again in ``retry_after_s``); False when
        the claim was lost (the webhook was deleted, or another dispatcher took the delivery over)."""
        next_time = None if state is not DeliveryState.PENDING else (
            await self.clock() + timedelta(seconds=retry_after_s))
        async with self._store.session() as session:
            moved = await session.execute(
                update(WebhookDeliveryRow)
                .where(WebhookDeliveryRow.pk == claim.pk, WebhookDeliveryRow.state == _PENDING,
                       WebhookDeliveryRow.attempt_count == claim.attempt - 1,
                       WebhookDeliveryRow.claimed_by == claim.worker_id)
                .values(state=state.value, attempt_count=claim.attempt, next_attempt_time=next_time, claimed_by="",
                        last_status_code=outcome.status_code)
                .execution_options(synchronize_session=False))
            if moved.rowcount != 1:  # type: ignore[attr-defined]
                return False
            session.add(WebhookAttemptRow(delivery_pk=claim.pk, number=claim.attempt, attempt_time=outcome.time,
                                          status_code=outcome.status_code, error=outcome.error[:2000],
                                          duration_ms=outcome.duration_ms))
        return True
