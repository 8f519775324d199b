"""BatchAsk: many questions about one source, each a full ask (guard, policies, history), answered at most
``batch_ask_concurrency`` at a time and reported as each completes, in no fixed order.

A question's own failure (a question the guard refuses, one about an unknown table, a timeout) is its
outcome, not the batch's: the others go on. What holds for every question fails the whole call before
any runs: an unknown source, no questions, more than ``batch_ask_max_questions``, a bad id.
When the caller goes away the questions still running are cancelled.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from chatdb_server.access import context as call
from chatdb_server.errors import ChatDBError, InvalidArgument
from chatdb_server.query.metrics import BATCH_ASK_PEAK
from chatdb_server.query.pipeline import Answer

MAX_ID_CHARS = 128


@dataclass(frozen=True)
class BatchQuestion:
    """One question of a batch and the caller's id for it."""

    id: str
    question: str


@dataclass(frozen=True)
class BatchOutcome:
    """How one question of a batch ended: its answer, or its error."""

    index: int
    id: str
    answer: Answer | None = None
    error: ChatDBError | None = None


AskOne = Callable[[str], Awaitable[Answer]]
"""Answers one question about the batch's source."""


def check_questions(questions: Sequence[BatchQuestion], max_questions: int) -> None:
    """InvalidArgument when there are none, more than ``max_questions`` (on the first one beyond, TOO_LARGE), or
    an id is too long."""
    if not questions:
        raise InvalidArgument("questions", "at least one question is required")
    if len(questions) > max_questions:
        raise InvalidArgument(f"questions[{max_questions}]", f"a batch holds at most {max_questions} questions "
                                                              "(batch_ask_max_questions): split it",
                              reason="TOO_LARGE")
    for index, question in enumerate(questions):
        if len(question.id) > MAX_ID_CHARS:
            raise InvalidArgument(f"questions[{index}].id", f"must be at most {MAX_ID_CHARS} characters")


class _Gate:
    """At most ``limit`` questions at a time, and the most that ran together."""

    def __init__(self, limit: int) -> None:
        self._slots = asyncio.Semaphore(limit)
        self.running = 0
        self.peak = 0

    async def __aenter__(self) -> None:
        await self._slots.acquire()
        self.running += 1
        self.peak = max(self.peak, self.running)

    async def __aexit__(self, *_: object) -> None:
        self.running -= 1
        self._slots.release()


async def batch_ask(ask: AskOne, questions: Sequence[BatchQuestion], concurrency: int) -> AsyncIterator[BatchOutcome]:
    """Each question's outcome as it completes, at most ``concurrency`` questions asked at a time. The call's
    audit event ends up naming every question, the SQL of each answer and the rows of all."""
    gate = _Gate(max(1, concurrency))
    done: asyncio.Queue[BatchOutcome] = asyncio.Queue()

    async def one(index: int, question: BatchQuestion) -> None:
        async with gate:
            try:
                outcome = BatchOutcome(index, question.id, answer=await ask(question.question))
            except ChatDBError as error:
                outcome = BatchOutcome(index, question.id, error=error)
        done.put_nowait(outcome)

    tasks = [asyncio.ensure_future(one(i, q)) for i, q in enumerate(questions)]
    answered: list[Answer] = []
    try:
        for _ in tasks:
            outcome = await _next(done, tasks)
            if outcome.answer is not None:
                answered.append(outcome.answer)
            yield outcome
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        BATCH_ASK_PEAK.observe(gate.peak)
        call.note(question="\n".join(q.question for q in questions),
                  sql=";\n".join(a.sql for a in answered),
                  row_count=sum(len(a.rows.rows) for a in answered if a.rows is not None))


async def _next(done: asyncio.Queue[BatchOutcome], tasks: Sequence[asyncio.Future[None]]) -> BatchOutcome:
    """The next outcome; a question task's unexpected error (a bug, not a domain error) ends the batch."""
    waiter = asyncio.ensure_future(done.get())
    try:
        while not waiter.done():
            failed = [t for t in tasks if t.done() and not t.cancelled() and t.exception() is not None]
            if failed:
                raise failed[0].exception()  # type: ignore[misc]
            running: list[asyncio.Future[Any]] = [waiter, *[t for t in tasks if not t.done()]]
            await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
        return waiter.result()
    finally:
        if not waiter.done():
            waiter.cancel()
