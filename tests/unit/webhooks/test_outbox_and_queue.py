"""The outbox and the delivery queue on a real (SQLite) metadata store: an event is stored only for the
webhooks that want it, a claimed delivery is nobody else's, and a lost claim records nothing."""

from __future__ import annotations

from cryptography.fernet import Fernet
from sqlalchemy import func, select

from chatdb_server.crypto import SecretBox
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.models import WebhookAttemptRow, WebhookEventRow, utcnow
from chatdb_server.webhooks.delivery_queue import DeliveryQueue, Outcome
from chatdb_server.webhooks.events import Event, EventType
from chatdb_server.webhooks.outbox import emit
from chatdb_server.webhooks.records import DeliveryState, WebhookSpec
from chatdb_server.webhooks.subscriptions import WebhookStore

DRIFT = Event(tenant="acme", event_type=EventType.SCHEMA_DRIFT_DETECTED, resource="dataSources/shop",
              data={"added_tables": ["coupons"]})


async def _emit(store: MetadataStore, event: Event) -> int:
    async with store.session() as session:
        return await emit(session, event)


async def _count(store: MetadataStore, model: type) -> int:
    async with store.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_events_are_stored_only_for_the_webhooks_of_the_tenant_that_want_them(
        metadata_store: MetadataStore) -> None:
    webhooks = WebhookStore(metadata_store, SecretBox(Fernet.generate_key()))
    assert await _emit(metadata_store, DRIFT) == 0
    assert await _count(metadata_store, WebhookEventRow) == 0  # nobody listens: nothing is kept
    await webhooks.create("acme", WebhookSpec(url="http://10.0.0.5/all"))
    await webhooks.create("acme", WebhookSpec(url="http://10.0.0.5/jobs", event_types=(
        EventType.TRAINING_JOB_SUCCEEDED,)))
    await webhooks.create("other", WebhookSpec(url="http://10.0.0.5/theirs"))
    assert await _emit(metadata_store, DRIFT) == 1
    assert await _emit(metadata_store, Event("acme", EventType.TRAINING_JOB_SUCCEEDED, "trainingJobs/j1")) == 2
    assert await _count(metadata_store, WebhookEventRow) == 2


async def test_a_claim_is_exclusive_and_a_lost_claim_records_nothing(metadata_store: MetadataStore) -> None:
    webhooks = WebhookStore(metadata_store, SecretBox(Fernet.generate_key()))
    issued = await webhooks.create("acme", WebhookSpec(url="http://10.0.0.5/all"), "all")
    await _emit(metadata_store, DRIFT)
    queue = DeliveryQueue(metadata_store)
    [claim] = await queue.claim("worker-a", limit=10, lease_s=60)
    assert (claim.attempt, claim.url, claim.event_type) == (1, "http://10.0.0.5/all", DRIFT.event_type.value)
    assert issued.secret not in claim.secret_sealed
    assert await queue.claim("worker-b", limit=10, lease_s=60) == []  # held until the lease runs out

    failed = Outcome(status_code=500, error="the receiver answered HTTP 500", duration_ms=3.0, time=utcnow())
    stolen = type(claim)(**{**claim.__dict__, "worker_id": "worker-b"})
    assert not await queue.record(stolen, failed, DeliveryState.PENDING, 0.0)
    assert await queue.record(claim, failed, DeliveryState.PENDING, 0.0)
    assert not await queue.record(claim, failed, DeliveryState.PENDING, 0.0)  # the same attempt twice
    [retry] = await queue.claim("worker-b", limit=10, lease_s=60)
    assert retry.attempt == 2
    ok = Outcome(status_code=204, error="", duration_ms=2.0, time=utcnow())
    assert await queue.record(retry, ok, DeliveryState.SUCCEEDED, 0.0)
    assert await queue.claim("worker-a", limit=10, lease_s=60) == []
    assert await _count(metadata_store, WebhookAttemptRow) == 2

    await webhooks.delete("acme", "all")
    assert await _count(metadata_store, WebhookAttemptRow) == 0
