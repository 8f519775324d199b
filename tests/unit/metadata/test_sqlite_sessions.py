"""Sessions on an embedded SQLite metadata store are transactions from their first statement: many
callers reading and then writing the same row at once lose no update and see no "database is locked"."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from chatdb_server.metadata.db import MetadataStore

CALLERS = 32
ROUNDS = 10


async def test_concurrent_read_then_write_sessions_lose_no_update(tmp_path: Path) -> None:
    store = MetadataStore(f"sqlite+aiosqlite:///{tmp_path / 'metadata.db'}")
    try:
        async with store.session() as session:
            await session.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
            await session.execute(text("INSERT INTO counter VALUES (1, 0)"))

        async def increment() -> None:
            for _ in range(ROUNDS):
                async with store.session() as session:
                    n = (await session.execute(text("SELECT n FROM counter WHERE id = 1"))).scalar_one()
                    await asyncio.sleep(0)  # let the other callers in between the read and the write
                    await session.execute(text("UPDATE counter SET n = :n WHERE id = 1"), {"n": n + 1})

        await asyncio.gather(*(increment() for _ in range(CALLERS)))
        assert await store.read_first(text("SELECT n FROM counter WHERE id = 1")) == (CALLERS * ROUNDS,)
    finally:
        await store.close()
