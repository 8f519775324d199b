"""The webhook event of a schema refresh that found drift, emitted in the transaction that stores it.

A refresh (RefreshSchema, or the scheduler's) that finds tables added, removed or changed queues a
``schema.drift_detected`` event in the same transaction as the new discovery (the outbox:
``chatdb_server.webhooks.outbox``), so subscribers hear of exactly the drift that was recorded.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from chatdb_server.schema.records import RefreshReport
from chatdb_server.webhooks.events import Event, EventType
from chatdb_server.webhooks.outbox import emit


def drifted(report: RefreshReport) -> bool:
    """Whether the refresh found anything added, removed or changed."""
    return bool(report.added or report.removed or report.changed)


async def emit_drift(session: AsyncSession, tenant: str, source_id: str, report: RefreshReport, *,
                     scheduled: bool) -> None:
    """Queue the drift event of ``report`` in ``session``'s transaction, when there was drift."""
    if not drifted(report):
        return
    name = f"dataSources/{source_id}"
    await emit(session, Event(tenant=tenant, event_type=EventType.SCHEMA_DRIFT_DETECTED, resource=name, data={
        "data_source": name, "scheduled": scheduled, "added_tables": list(report.added),
        "removed_tables": list(report.removed),
        "changed_tables": [{"table": c.table, "changes": list(c.changes), "old_fingerprint": c.old_fingerprint,
                            "new_fingerprint": c.new_fingerprint} for c in report.changed],
        "stale_tables": list(report.stale), "discover_time": report.discover_time.isoformat()}))
