"""The guard's worker processes: a check runs in another process within its time budget, a worker that
overruns or dies is replaced, and one pool serves any event loop."""

from __future__ import annotations

import asyncio
import math
import os
import signal
import time
from collections.abc import Iterator

import pytest

from chatdb_server.sql.guard_pool import BudgetSpent, GuardPool, WorkerFailed


@pytest.fixture
def pool() -> Iterator[GuardPool]:
    pool = GuardPool(1, grace_s=0.5)
    yield pool
    pool.close()


async def test_a_check_runs_in_another_process(pool: GuardPool) -> None:
    assert await pool.run(5.0, math.factorial, 20) == math.factorial(20)
    assert await pool.run(5.0, os.getpid) != os.getpid()


async def test_a_check_past_its_budget_is_interrupted_and_the_worker_kept(pool: GuardPool) -> None:
    worker = await pool.run(5.0, os.getpid)
    with pytest.raises(BudgetSpent):
        await pool.run(0.2, time.sleep, 30)
    with pytest.raises(BudgetSpent):
        await pool.run(0.2, eval, "sum(i for i in range(10**12))")  # Python code: the alarm gets in
    assert await pool.run(5.0, os.getpid) == worker


async def test_a_worker_that_cannot_be_interrupted_is_replaced(pool: GuardPool) -> None:
    worker = await pool.run(5.0, os.getpid)
    await pool.run(5.0, signal.pthread_sigmask, signal.SIG_BLOCK, [signal.SIGALRM])  # deaf to its budget
    with pytest.raises(BudgetSpent):
        await pool.run(0.2, time.sleep, 30)
    assert await pool.run(5.0, os.getpid) != worker


async def test_a_worker_that_dies_is_replaced(pool: GuardPool) -> None:
    worker = await pool.run(5.0, os.getpid)
    with pytest.raises(WorkerFailed, match="ended unexpectedly"):
        await pool.run(5.0, os._exit, 3)
    os.kill(await pool.run(5.0, os.getpid), signal.SIGKILL)  # dies between two checks
    assert await pool.run(5.0, os.getpid) not in (worker, 0)


async def test_what_the_function_raises_comes_back_as_a_failure(pool: GuardPool) -> None:
    with pytest.raises(WorkerFailed, match="ZeroDivisionError"):
        await pool.run(5.0, divmod, 1, 0)
    assert await pool.run(5.0, divmod, 7, 2) == (3, 1)


def test_one_pool_serves_any_event_loop(pool: GuardPool) -> None:
    first = asyncio.run(pool.run(5.0, os.getpid))
    assert asyncio.run(pool.run(5.0, os.getpid)) == first


async def test_checks_beyond_the_pool_size_wait_their_turn() -> None:
    pool = GuardPool(2)
    try:
        pids = await asyncio.gather(*(pool.run(5.0, _slow_pid) for _ in range(6)))
    finally:
        pool.close()
    assert len(set(pids)) == 2


def _slow_pid() -> int:
    """Module-level, so a worker can import it by name (the workers start in this repository's root)."""
    time.sleep(0.05)
    return os.getpid()
