"""Group commit on a real metadata store: concurrent callers' rows share transactions, each caller returns
once its row is committed, and a failed transaction fails exactly the callers whose rows it carried."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError

from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.group_commit import GroupInserter
from chatdb_server.metadata.models import AuditEventRow


def audit_row(event_id: str = "") -> AuditEventRow:
    return AuditEventRow(event_id=event_id or uuid.uuid4().hex, time=datetime.now(UTC), principal="apiKeys/k1",
                         tenant="acme", method="/chatdb.query.v1.QueryService/Ask", status_code="OK")


async def stored(store: MetadataStore) -> int:
    async with store.session() as session:
        return int((await session.execute(select(func.count()).select_from(AuditEventRow))).scalar_one())


def count_commits(store: MetadataStore) -> list[int]:
    commits: list[int] = []
    event.listen(store.engine.sync_engine, "commit", lambda _conn: commits.append(1))
    return commits


async def test_concurrent_rows_share_transactions_and_are_all_committed(metadata_store: MetadataStore) -> None:
    inserter = GroupInserter(metadata_store)
    commits = count_commits(metadata_store)
    await asyncio.gather(*(inserter.add(audit_row()) for _ in range(64)))
    assert await stored(metadata_store) == 64
    assert 1 <= len(commits) < 64, f"{len(commits)} transactions for 64 rows"


async def test_a_lone_row_is_committed_before_add_returns(metadata_store: MetadataStore) -> None:
    inserter = GroupInserter(metadata_store)
    await inserter.add(audit_row())
    assert await stored(metadata_store) == 1


async def test_a_failed_transaction_fails_its_callers_and_the_next_batch_is_written(
        metadata_store: MetadataStore) -> None:
    inserter = GroupInserter(metadata_store, max_batch=3)
    await inserter.add(audit_row("taken"))
    # One batch of three carries a duplicate event id: all three callers fail, none of their rows is stored.
    first = [asyncio.ensure_future(inserter.add(audit_row(event_id))) for event_id in ("a1", "taken", "a3")]
    later = [asyncio.ensure_future(inserter.add(audit_row())) for _ in range(3)]
    outcomes = await asyncio.gather(*first, *later, return_exceptions=True)
    assert all(isinstance(outcome, IntegrityError) for outcome in outcomes[:3]), outcomes
    assert outcomes[3:] == [None, None, None]
    assert await stored(metadata_store) == 4


async def test_a_caller_that_goes_away_does_not_cancel_the_others(metadata_store: MetadataStore) -> None:
    inserter = GroupInserter(metadata_store)
    leaving = asyncio.ensure_future(inserter.add(audit_row()))
    staying = asyncio.ensure_future(inserter.add(audit_row()))
    await asyncio.sleep(0)  # both rows are queued
    leaving.cancel()
    await staying
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert await stored(metadata_store) == 2
