"""When a failed delivery is tried again: exponential backoff with jitter, a bounded number of attempts."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how soon a delivery is retried."""

    max_attempts: int = 8
    """Attempts in all; after the last failed one the delivery is FAILED."""
    base_s: float = 10.0
    """Delay before the second attempt; it doubles with each further one."""
    max_s: float = 3600.0
    """Longest delay."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_s < 0 or self.max_s < 0:
            raise ValueError("webhook retries: max_attempts must be at least 1 and delays not negative")

    def gives_up_after(self, attempt: int) -> bool:
        """Whether the failed ``attempt`` (1 for the first) was the last one allowed."""
        return attempt >= self.max_attempts

    def ceiling(self, attempt: int) -> float:
        """The longest delay after the failed ``attempt``: ``base_s * 2**(attempt-1)``, at most ``max_s``."""
        return min(self.max_s, self.base_s * 2.0 ** min(attempt - 1, 62))

    def delay(self, attempt: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait after the failed ``attempt``: between half the ceiling and the ceiling ("equal
        jitter"), so retries of many deliveries that failed together spread out, yet always back off."""
        ceiling = self.ceiling(attempt)
        return ceiling / 2 + rand() * ceiling / 2
