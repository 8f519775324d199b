"""StreamAsk: the ask pipeline's stage events as they happen, then rows in batches, then the answer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from chatdb_server.errors import InvalidArgument
from chatdb_server.query.domain import Row
from chatdb_server.query.pipeline import Answer, AskOptions, AskPipeline, Stage
from chatdb_server.sql.values import ResultColumn

DEFAULT_BATCH = 100
MAX_BATCH = 10_000


@dataclass(frozen=True)
class RowBatch:
    """Consecutive rows of the answer, with the answer's columns (which type the cells)."""

    columns: tuple[ResultColumn, ...]
    rows: list[Row]


AskEvent = Stage | RowBatch | Answer
"""What a streamed ask yields: stages, then row batches, then the answer (its summary: the rows came in
batches)."""


def batch_size(requested: int) -> int:
    """Rows per batch: 0 means 100; InvalidArgument when negative or above 10,000."""
    if requested < 0 or requested > MAX_BATCH:
        raise InvalidArgument("batch_size", f"must be 0 to {MAX_BATCH}")
    return requested or DEFAULT_BATCH


async def stream_ask(pipeline: AskPipeline, tenant: str, parent: str, question: str, options: AskOptions,
                     rows_per_batch: int, request_id: str = "") -> AsyncIterator[AskEvent]:
    """The events of one streamed ask; the pipeline's errors end the stream."""
    size = batch_size(rows_per_batch)
    stages: asyncio.Queue[Stage | None] = asyncio.Queue()
    task = asyncio.ensure_future(pipeline.ask(tenant, parent, question, options, request_id=request_id,
                                              on_stage=stages.put))
    task.add_done_callback(lambda _: stages.put_nowait(None))
    try:
        while (stage := await stages.get()) is not None:
            yield stage
        answer = task.result()
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    if answer.rows is not None:
        columns, rows = tuple(answer.rows.columns), answer.rows.rows
        for start in range(0, len(rows), size):
            yield RowBatch(columns, rows[start:start + size])
    yield answer
