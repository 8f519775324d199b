"""Degradation levels: what a reply can promise, derived from dependency health.

| level | cause |
| 4 CRITICAL    | the metadata store is down |
| 3 NO_DATABASE | the target database of the request is unreachable |
| 2 NO_MODEL    | PredictionService is down or its breaker is open |
| 1 NO_TRAINING | TrainingService is down |
| 0 FULL        | everything is healthy |

Probes (a ping of the metadata store, gRPC health checks of remote services) run on
demand and their results are kept for a short time, so a busy server probes each
dependency about once per ``probe_ttl_s`` however many requests ask for the level.
Breakers feed the level too: an open prediction breaker is level 2 even while the
service's health check still answers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import IntEnum
from typing import cast

from chatdb.common.v1 import degradation_pb2
from chatdb_server.log import get_logger, redact_url_passwords
from chatdb_server.resilience import metrics
from chatdb_server.resilience.breakers import AsyncBreaker, Breakers

log = get_logger(__name__)

Probe = Callable[[], Awaitable[None]]
"""Returns when the dependency is healthy; raises (any error, its text is the detail) when not."""

METADATA = "metadata"
PREDICTION = "prediction"
TRAINING = "training"
VECTOR_STORE = "vector_store"
DEFAULT_PROBE_TTL_S = 1.0
PROBE_TIMEOUT_S = 2.0


class Level(IntEnum):
    """Degradation level, 0 (full) to 4 (critical)."""

    FULL = 0
    NO_TRAINING = 1
    NO_MODEL = 2
    NO_DATABASE = 3
    CRITICAL = 4

    def to_proto(self) -> degradation_pb2.DegradationLevel:
        """The chatdb.common.v1.DegradationLevel value (the proto enum starts at UNSPECIFIED)."""
        return cast(degradation_pb2.DegradationLevel, self.value + 1)


_LEVEL_WHEN_DOWN = {METADATA: Level.CRITICAL, PREDICTION: Level.NO_MODEL, TRAINING: Level.NO_TRAINING}


@dataclass(frozen=True)
class DependencyHealth:
    """One dependency's health and its breaker."""

    name: str
    healthy: bool
    detail: str = ""
    breaker_state: str = ""
    failure_count: int = 0


@dataclass
class _ProbeResult:
    healthy: bool
    detail: str
    checked_at: float


class _Dependency:
    """A probed dependency with its cached last result."""

    def __init__(self, name: str, probe: Probe, breaker: AsyncBreaker | None) -> None:
        self.name = name
        self.probe = probe
        self.breaker = breaker
        self.last: _ProbeResult | None = None
        self.running: asyncio.Task[_ProbeResult] | None = None


class HealthMonitor:
    """Dependency health and the degradation level derived from it."""

    def __init__(self, breakers: Breakers, *, probe_ttl_s: float = DEFAULT_PROBE_TTL_S) -> None:
        self.breakers = breakers
        self.probe_ttl_s = probe_ttl_s
        self._dependencies: dict[str, _Dependency] = {}
        self._database_detail: dict[str, str] = {}
        breakers.add_listener(lambda breaker, state: metrics.set_breaker_state(breaker.name, state))

    def register(self, name: str, probe: Probe, breaker: AsyncBreaker | None = None) -> None:
        """Watch a dependency: ``metadata``, ``prediction``, ``training`` or ``vector_store``."""
        self._dependencies[name] = _Dependency(name, probe, breaker)

    def database_unreachable(self, source_name: str, detail: str) -> None:
        """Note that a source's database could not be reached."""
        self._database_detail[source_name] = redact_url_passwords(detail)[:500] or "unreachable"

    def database_reachable(self, source_name: str) -> None:
        """Note that a source's database answered."""
        self._database_detail.pop(source_name, None)

    def database_down(self, source_name: str) -> bool:
        """Whether the database is known to be unreachable: its last call failed, or its breaker refuses calls."""
        breaker = self.breakers.known_database(source_name)
        return source_name in self._database_detail or (breaker is not None and not breaker.allows_calls())

    async def dependencies(self, tenant: str | None = None, *, fresh: bool = False) -> list[DependencyHealth]:
        """Every dependency's health, probing those whose last result is too old (all of them when
        ``fresh``); then the databases of ``tenant``'s sources that were used, named ``dataSources/{id}``."""
        names = list(self._dependencies)
        results = await asyncio.gather(*(self._result(n, fresh=fresh) for n in names))
        out = [self._health(self._dependencies[n], r) for n, r in zip(names, results, strict=True)]
        prefix = f"{tenant}/"
        for breaker in self.breakers.databases():
            if tenant is None or breaker.name.startswith(prefix):
                detail = self._database_detail.get(breaker.name, "")
                healthy = not detail and breaker.allows_calls()
                name = breaker.name.removeprefix(prefix) if tenant is not None else breaker.name
                out.append(DependencyHealth(name, healthy, detail or ("" if healthy else "breaker open"),
                                            breaker.state, breaker.failure_count))
        for health in out:
            metrics.DEPENDENCY_HEALTHY.labels(dependency=health.name).set(1 if health.healthy else 0)
        return out

    async def level(self, source_name: str | None = None) -> Level:
        """The level a request to ``source_name`` would be served at now (no source: the process's level)."""
        level = Level.FULL
        names = [n for n in _LEVEL_WHEN_DOWN if n in self._dependencies]
        results = await asyncio.gather(*(self._result(n) for n in names))
        for name, result in zip(names, results, strict=True):
            if not self._health(self._dependencies[name], result).healthy:
                level = max(level, _LEVEL_WHEN_DOWN[name])
        if source_name is None:
            metrics.DEGRADATION_LEVEL.set(int(level))
        elif self.database_down(source_name):
            level = max(level, Level.NO_DATABASE)
        return level

    async def healthy(self, name: str) -> bool:
        """Whether the named dependency is healthy now (unknown names count as healthy)."""
        dependency = self._dependencies.get(name)
        if dependency is None:
            return True
        return self._health(dependency, await self._result(name)).healthy

    def _health(self, dependency: _Dependency, result: _ProbeResult) -> DependencyHealth:
        breaker = dependency.breaker
        healthy, detail = result.healthy, result.detail
        if healthy and breaker is not None and breaker.state == "open":
            healthy, detail = False, "breaker open after repeated failures"
        return DependencyHealth(dependency.name, healthy, detail, breaker.state if breaker else "",
                                breaker.failure_count if breaker else 0)

    async def _result(self, name: str, *, fresh: bool = False) -> _ProbeResult:
        dependency = self._dependencies[name]
        last = dependency.last
        if not fresh and last is not None and time.monotonic() - last.checked_at < self.probe_ttl_s:
            return last
        if dependency.running is None or dependency.running.done():
            dependency.running = asyncio.ensure_future(self._probe(dependency))
        return await asyncio.shield(dependency.running)

    async def _probe(self, dependency: _Dependency) -> _ProbeResult:
        try:
            await asyncio.wait_for(dependency.probe(), PROBE_TIMEOUT_S)
            result = _ProbeResult(True, "", time.monotonic())
        except Exception as exc:  # any failure means unhealthy; its text is the detail
            detail = redact_url_passwords(str(exc) or type(exc).__name__)
            result = _ProbeResult(False, detail[:500], time.monotonic())
        previous = dependency.last
        if previous is None or previous.healthy != result.healthy:
            log.info("dependency.health", dependency=dependency.name, healthy=result.healthy, detail=result.detail)
        dependency.last = result
        return result
