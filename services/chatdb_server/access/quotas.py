"""Quotas: asks per minute per key and per tenant, and how many asks may run at once.

Token buckets refill continuously (a quota of 60 a minute allows a burst of 60, then one a
second); a call over a quota is RESOURCE_EXHAUSTED with google.rpc.RetryInfo saying when a
token will be there. Each key and each tenant has buckets of its own, so one tenant spending
its quota never slows another. Limits hold per server process; with several replicas behind a
balancer a tenant's effective limit is the per-replica limit times the replicas it reaches.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from chatdb_server.access.principal import Principal
from chatdb_server.errors import ResourceExhausted

Clock = Callable[[], float]


@dataclass(frozen=True)
class QuotaSettings:
    """Limits; 0 turns one off."""

    asks_per_minute_per_key: int = 0
    asks_per_minute_per_tenant: int = 0
    concurrent_asks_per_tenant: int = 0


class TokenBucket:
    """``capacity`` tokens, refilled at ``capacity`` per minute."""

    def __init__(self, capacity: int, clock: Clock) -> None:
        self._capacity = float(capacity)
        self._tokens = float(capacity)
        self._rate = capacity / 60.0
        self._clock = clock
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now

    def wait_s(self, count: int = 1) -> float:
        """Seconds until ``count`` tokens are there (0 when they are)."""
        self._refill()
        return 0.0 if self._tokens >= count else (count - self._tokens) / self._rate

    def take(self, count: int = 1) -> None:
        """Spend ``count`` tokens (call after :meth:`wait_s` said they are there)."""
        self._tokens -= count


class Quotas:
    """The quota books of one process."""

    def __init__(self, settings: QuotaSettings, clock: Clock = time.monotonic) -> None:
        self._settings = settings
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._running: dict[str, int] = {}

    def _bucket(self, key: str, capacity: int) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(capacity, self._clock)
        return bucket

    @asynccontextmanager
    async def ask(self, principal: Principal, count: int = 1) -> AsyncIterator[None]:
        """Admit one call of ``principal`` counting ``count`` asks (a batch's questions) for as long as the block
        runs; ResourceExhausted when over a quota. It runs as one ask at a time."""
        settings = self._settings
        buckets = []
        if settings.asks_per_minute_per_key:
            buckets.append((f"key:{principal.subject}", settings.asks_per_minute_per_key, "key"))
        if settings.asks_per_minute_per_tenant:
            buckets.append((f"tenant:{principal.tenant}", settings.asks_per_minute_per_tenant, "tenant"))
        for key, capacity, scope in buckets:
            if count > capacity:
                raise ResourceExhausted(f"the call counts {count} asks, more than the {scope}'s quota of {capacity} "
                                        "asks a minute: split it", 60.0,
                                        metadata={"quota": f"asks_per_minute_per_{scope}"})
            wait = self._bucket(key, capacity).wait_s(count)
            if wait > 0:
                raise ResourceExhausted(f"the {scope}'s quota of {capacity} asks a minute is spent; retry in "
                                        f"{wait:.1f} s", wait, metadata={"quota": f"asks_per_minute_per_{scope}"})
        limit = settings.concurrent_asks_per_tenant
        running = self._running.get(principal.tenant, 0)
        if limit and running >= limit:
            raise ResourceExhausted(f"tenant {principal.tenant} already has {limit} asks running", 1.0,
                                    metadata={"quota": "concurrent_asks_per_tenant"})
        for key, capacity, _ in buckets:
            self._bucket(key, capacity).take(count)
        self._running[principal.tenant] = running + 1
        try:
            yield
        finally:
            self._running[principal.tenant] -= 1
