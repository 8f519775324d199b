"""Waiting on what a set of asking tasks observes, for the fault tests: no sleeping, a deadline as the
safety limit, and a task that fails ends the wait with its error."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence


async def until_observed(what: str, condition: Callable[[], bool], changed: asyncio.Event,
                         tasks: Sequence[asyncio.Future[None]], deadline_s: float) -> None:
    """Wait until ``condition()`` holds, re-checking each time ``changed`` is set by one of ``tasks``."""
    deadline = time.monotonic() + deadline_s
    while not condition():
        for task in tasks:
            if task.done():
                task.result()
                raise AssertionError("an asking client stopped")
        changed.clear()
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError(f"{what}: not observed within {deadline_s:.0f} s")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), remaining)
