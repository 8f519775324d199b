"""StreamAsk: the ask pipeline's stage events as they happen, then rows in batches, then the summary."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from chatdb.query.v1 import query_service_pb2
from chatdb_server.errors import InvalidArgument
from chatdb_server.query.convert import ask_response, stage_event
from chatdb_server.query.pipeline import AskOptions, AskPipeline, Stage

DEFAULT_BATCH = 100
MAX_BATCH = 10_000


def batch_size(requested: int) -> int:
    """Rows per batch: 0 means 100; InvalidArgument when negative or above 10,000."""
    if requested < 0 or requested > MAX_BATCH:
        raise InvalidArgument("batch_size", f"must be 0 to {MAX_BATCH}")
    return requested or DEFAULT_BATCH


async def stream_ask(pipeline: AskPipeline, tenant: str, parent: str, question: str, options: AskOptions,
                     rows_per_batch: int, request_id: str = "") -> AsyncIterator[query_service_pb2.StreamAskResponse]:
    """The messages of one StreamAsk; the pipeline's errors end the stream with their status."""
    size = batch_size(rows_per_batch)
    stages: asyncio.Queue[Stage | None] = asyncio.Queue()
    task = asyncio.ensure_future(pipeline.ask(tenant, parent, question, options, request_id=request_id,
                                              on_stage=stages.put))
    task.add_done_callback(lambda _: stages.put_nowait(None))
    try:
        while (stage := await stages.get()) is not None:
            yield stage_event(stage)
        answer = task.result()
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    if answer.rows is not None:
        rows = answer.rows.rows
        for start in range(0, len(rows), size):
            yield query_service_pb2.StreamAskResponse(rows=query_service_pb2.RowBatch(rows=rows[start:start + size]))
    yield query_service_pb2.StreamAskResponse(summary=ask_response(answer, with_rows=False))
