"""Group commit: concurrent callers' small writes share transactions, each caller returns only once its own
write has committed, one bad statement fails only its caller, and a caller that leaves does not lose
its write."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import Executable

from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.group_commit import MAX_BATCH
from tests.support.databases import postgres_database

CALLERS = 64


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'metadata.db'}"
        return
    with postgres_database() as dsn:
        yield dsn.replace("postgresql://", "postgresql+asyncpg://", 1)


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[MetadataStore]:
    store = MetadataStore(store_url)
    async with store.session() as session:
        await session.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"))
    try:
        yield store
    finally:
        await store.close()


def note(number: int) -> Executable:
    return text("INSERT INTO notes (id, body) VALUES (:id, :body)").bindparams(id=number, body=f"note {number}")


async def stored(store: MetadataStore) -> list[int]:
    async with store.session() as session:
        return list((await session.execute(text("SELECT id FROM notes ORDER BY id"))).scalars())


def count_commits(store: MetadataStore) -> list[int]:
    commits: list[int] = []
    event.listen(store.engine.sync_engine, "commit", lambda _connection: commits.append(1))
    return commits


async def test_concurrent_writes_share_transactions_and_all_commit(store: MetadataStore) -> None:
    commits = count_commits(store)
    await asyncio.gather(*(store.write_together(note(n)) for n in range(CALLERS)))
    assert await stored(store) == list(range(CALLERS))
    # The first caller's transaction starts alone; everyone who arrived meanwhile shares the next one.
    assert 1 <= len(commits) < CALLERS / 4


async def test_a_caller_returns_only_after_its_write_is_visible(store: MetadataStore) -> None:
    async def write_then_read(number: int) -> bool:
        await store.write_together(note(number))
        return number in await stored(store)

    assert all(await asyncio.gather(*(write_then_read(n) for n in range(16))))


async def test_a_failing_statement_fails_only_its_own_caller(store: MetadataStore) -> None:
    await store.write_together(note(7))
    outcomes = await asyncio.gather(*(store.write_together(note(n)) for n in range(5, 10)), return_exceptions=True)
    failed = [n for n, outcome in zip(range(5, 10), outcomes, strict=True) if isinstance(outcome, BaseException)]
    assert failed == [7]
    assert isinstance(outcomes[2], IntegrityError)
    assert await stored(store) == [5, 6, 7, 8, 9]


async def test_one_callers_statements_commit_together_or_not_at_all(store: MetadataStore) -> None:
    with pytest.raises(IntegrityError):
        await store.write_together(note(1), note(1))
    await store.write_together(note(2), note(3))
    assert await stored(store) == [2, 3]


async def test_a_caller_that_leaves_while_waiting_still_has_its_write_made(store: MetadataStore) -> None:
    writes = [asyncio.create_task(store.write_together(note(n))) for n in range(8)]
    await asyncio.sleep(0)  # every write handed in; the flusher has not committed yet
    writes[3].cancel()
    await asyncio.gather(*writes, return_exceptions=True)
    assert writes[3].cancelled()
    await store.write_together(note(100))  # a later write: the flusher has been through the batch
    assert await stored(store) == [*range(8), 100]


async def test_writes_beyond_one_batch_are_committed_by_the_next(store: MetadataStore) -> None:
    commits = count_commits(store)
    count = MAX_BATCH * 2 + 10
    await asyncio.gather(*(store.write_together(note(n)) for n in range(count)))
    assert len(await stored(store)) == count
    assert len(commits) >= 3


async def test_closing_the_store_finishes_the_writes_handed_in(store: MetadataStore, store_url: str) -> None:
    writes = [asyncio.create_task(store.write_together(note(n))) for n in range(CALLERS)]
    await asyncio.sleep(0)  # every write handed in, none committed yet
    await store.close()
    await asyncio.gather(*writes)
    reopened = MetadataStore(store_url)
    try:
        assert await stored(reopened) == list(range(CALLERS))
    finally:
        await reopened.close()


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
async def test_a_flusher_cancelled_mid_transaction_ends_it_and_leaves_the_write_lock_free(
        store: MetadataStore) -> None:
    """Shutdown cancels the flusher wherever it is. A SQLite connection abandoned inside BEGIN IMMEDIATE
    would keep the file's write lock, and every later writer would wait on it."""
    loop = asyncio.get_running_loop()
    first = [asyncio.create_task(store.write_together(note(n))) for n in range(8)]
    late: list[asyncio.Task[None]] = []

    def cancel_the_flusher_inside_the_transaction(_c: object, _cur: object, statement: str, *_: object) -> None:
        if late or not statement.startswith("INSERT"):
            return
        late.extend(loop.create_task(store.write_together(note(n))) for n in range(8, 16))
        flusher = store._group._flusher
        assert flusher is not None
        flusher.cancel()

    event.listen(store.engine.sync_engine, "before_cursor_execute", cancel_the_flusher_inside_the_transaction)
    await asyncio.wait_for(asyncio.gather(*first), timeout=60)  # the transaction in flight ends and commits
    outcomes = await asyncio.wait_for(asyncio.gather(*late, return_exceptions=True), timeout=60)
    assert all(isinstance(outcome, ConnectionError) for outcome in outcomes)  # waiting writes are told
    event.remove(store.engine.sync_engine, "before_cursor_execute", cancel_the_flusher_inside_the_transaction)
    await asyncio.wait_for(store.write_together(note(100)), timeout=60)  # the write lock is free
    assert await stored(store) == [*range(8), 100]


def upsert(number: int, body: str) -> Executable:
    return text("INSERT INTO notes (id, body) VALUES (:id, :body) ON CONFLICT (id) DO UPDATE SET body = excluded.body"
                ).bindparams(id=number, body=body)


async def bodies(store: MetadataStore) -> dict[int, str]:
    async with store.session() as session:
        return {row[0]: row[1] for row in await session.execute(text("SELECT id, body FROM notes"))}


async def test_a_later_write_of_the_same_row_supersedes_the_earlier_in_one_transaction(store: MetadataStore) -> None:
    statements: list[str] = []
    event.listen(store.engine.sync_engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_: statements.append(statement))
    await asyncio.gather(*(store.write_together(upsert(1, f"version {n}"), replaces="notes/1") for n in range(8)),
                         store.write_together(note(2)))
    assert await bodies(store) == {1: "version 7", 2: "note 2"}
    assert sum(s.startswith("INSERT") for s in statements) == 2  # one transaction: the last upsert and the note


async def test_replicas_upserting_the_same_rows_in_opposite_orders_do_not_deadlock(store_url: str) -> None:
    """Two stores are two replicas. Their shared transactions overwrite the same rows, which each replica's
    callers hand in in opposite orders; taken in hand-in order, PostgreSQL found deadlocks and broke them
    after its deadlock timeout, failing whole batches."""
    replicas = [MetadataStore(store_url), MetadataStore(store_url)]
    failures: list[str] = []
    for replica in replicas:
        event.listen(replica.engine.sync_engine, "handle_error", lambda context: failures.append(
            str(context.original_exception).splitlines()[0]))
    try:
        async with replicas[0].session() as session:
            await session.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"))
        keys = list(range(16))
        for round_ in range(10):
            await asyncio.gather(*(replica.write_together(upsert(k, f"{round_}"), replaces=f"notes/{k:04d}")
                                   for replica, order in zip(replicas, (keys, keys[::-1]), strict=True)
                                   for k in order))
        assert failures == []
        assert await bodies(replicas[0]) == {k: "9" for k in keys}
    finally:
        for replica in replicas:
            await replica.close()
