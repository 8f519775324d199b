"""Circuit breakers (pybreaker) in front of PredictionService, TrainingService and each target database.

pybreaker's own async support needs tornado, so :class:`AsyncBreaker` drives pybreaker's
state machine from asyncio instead: it admits a call (refusing it while the breaker is
open, letting one trial through once the reset timeout has passed), awaits it, then
replays the outcome through ``CircuitBreaker.call`` so pybreaker counts failures, opens,
half-opens and closes exactly as it does for synchronous calls, and notifies listeners.

Only dependency failures count: UNAVAILABLE or DEADLINE_EXCEEDED from another service,
an unreachable database. A caller's bad input or SQL the database rejected proves the
dependency is up, so it resets the failure count like a success.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
import pybreaker

from chatdb_server.errors import ChatDBError, Unavailable
from chatdb_server.log import get_logger

log = get_logger(__name__)

T = TypeVar("T")
FailurePredicate = Callable[[BaseException], bool]
StateCallback = Callable[["AsyncBreaker", str], None]
"""Called with a breaker and its new state name on every state change."""

PREDICTION = "prediction"
TRAINING = "training"
_SERVICE_FAILURE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})


class BreakerOpen(Unavailable):
    """The breaker in front of a dependency is open: the call was not attempted."""

    def __init__(self, dependency: str, retry_after_s: float) -> None:
        super().__init__(f"{dependency} is failing; calls are suspended for up to {retry_after_s:.0f} s",
                         reason="DEGRADED", metadata={"dependency": dependency})
        self.dependency = dependency


def database_key(tenant: str, source_name: str) -> str:
    """How a source's database breaker is named: ``{tenant}/dataSources/{id}``, unique across tenants."""
    return f"{tenant}/{source_name}"


def is_service_failure(exc: BaseException) -> bool:
    """Whether ``exc`` means another ChatDB service is down or too slow (not that the request was bad)."""
    if isinstance(exc, grpc.RpcError):
        code = exc.code() if callable(getattr(exc, "code", None)) else None
        return code in _SERVICE_FAILURE_CODES
    if isinstance(exc, ChatDBError):
        return exc.code in _SERVICE_FAILURE_CODES and exc.reason != "QUERY_TIMEOUT"
    return isinstance(exc, TimeoutError | ConnectionError)


def is_database_failure(exc: BaseException) -> bool:
    """Whether ``exc`` means a target database cannot be reached (not that it rejected a query)."""
    return isinstance(exc, ChatDBError) and exc.reason == "SOURCE_UNREACHABLE"


class _StateLogger(pybreaker.CircuitBreakerListener):
    """Logs every state change and remembers when the breaker last opened."""

    def __init__(self, owner: AsyncBreaker) -> None:
        self._owner = owner

    def state_change(self, cb: pybreaker.CircuitBreaker, old_state: pybreaker.CircuitBreakerState | None,
                     new_state: pybreaker.CircuitBreakerState) -> None:
        if new_state.name == pybreaker.STATE_OPEN:
            self._owner.opened_at = time.monotonic()
        log.warning("breaker.state_change", breaker=cb.name, old=old_state.name if old_state else None,
                    new=new_state.name, failures=cb.fail_counter)
        # pybreaker notifies before its storage holds the new state: pass the new state along.
        for callback in self._owner.on_change:
            callback(self._owner, new_state.name)


class _Replay:
    """The recorded outcome of an awaited call, replayed synchronously through pybreaker."""

    def __init__(self, result: Any = None, error: BaseException | None = None) -> None:
        self.result = result
        self.error = error
        self.replayed = False

    def __call__(self) -> Any:
        self.replayed = True
        if self.error is not None:
            raise self.error
        return self.result


class AsyncBreaker:
    """A pybreaker circuit breaker for coroutines."""

    def __init__(self, name: str, *, fail_max: int, reset_s: float, is_failure: FailurePredicate) -> None:
        self.name = name
        self.opened_at = 0.0
        self.on_change: list[StateCallback] = []
        self._trial_in_flight = False
        self._breaker = pybreaker.CircuitBreaker(
            fail_max=fail_max, reset_timeout=reset_s, name=name, throw_new_error_on_trip=False,
            exclude=[lambda exc: not is_failure(exc)], listeners=[_StateLogger(self)])

    @property
    def state(self) -> str:
        """``closed``, ``open`` or ``half-open``."""
        return str(self._breaker.current_state)

    @property
    def failure_count(self) -> int:
        """Consecutive dependency failures counted."""
        return int(self._breaker.fail_counter)

    @property
    def reset_s(self) -> float:
        """Seconds an open breaker waits before a trial call."""
        return float(self._breaker.reset_timeout)

    def allows_calls(self) -> bool:
        """Whether a call made now would be attempted (closed, or open with its reset timeout passed)."""
        if self.state == pybreaker.STATE_CLOSED:
            return True
        if self.state == pybreaker.STATE_HALF_OPEN:
            return not self._trial_in_flight
        return time.monotonic() >= self.opened_at + self.reset_s

    async def call(self, func: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """Await ``func(*args, **kwargs)`` under the breaker; :class:`BreakerOpen` when it is open."""
        trial = self._admit()
        try:
            result = await func(*args, **kwargs)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # recorded, then re-raised unchanged
            self._record(_Replay(error=exc))
            raise
        finally:
            if trial:
                self._trial_in_flight = False
        self._record(_Replay(result=result))
        return result

    def _admit(self) -> bool:
        """Refuse the call while open; returns whether it is the one trial of a half-open breaker."""
        state = self.state
        if state == pybreaker.STATE_OPEN:
            remaining = self.opened_at + self.reset_s - time.monotonic()
            if remaining > 0:
                raise BreakerOpen(self.name, remaining)
            self._breaker.half_open()
            state = pybreaker.STATE_HALF_OPEN
        if state == pybreaker.STATE_HALF_OPEN:
            if self._trial_in_flight:
                raise BreakerOpen(self.name, self.reset_s)
            self._trial_in_flight = True
            return True
        return False

    def _record(self, replay: _Replay) -> None:
        """Let pybreaker count the outcome. Errors re-raise from here only as the original error."""
        try:
            self._breaker.call(replay)
        except pybreaker.CircuitBreakerError:
            if replay.replayed:
                raise
            # Opened by other calls while this one was in flight: its outcome is not counted.
        except BaseException:  # the original error, re-raised by the caller
            if replay.error is None:
                raise

    def reset(self) -> None:
        """Close the breaker (an operator action, and for tests)."""
        self._breaker.close()


@dataclass(frozen=True)
class BreakerSnapshot:
    """A breaker's state at one moment."""

    name: str
    state: str
    failure_count: int


class Breakers:
    """Every breaker of a process: one per remote service and one per target database, on demand."""

    def __init__(self, *, fail_max: int, reset_s: float) -> None:
        self._fail_max = fail_max
        self._reset_s = reset_s
        self._on_change: list[StateCallback] = []
        self.prediction = self._make(PREDICTION, is_service_failure)
        self.training = self._make(TRAINING, is_service_failure)
        self._databases: dict[str, AsyncBreaker] = {}

    def database(self, source_name: str) -> AsyncBreaker:
        """The breaker of the database behind ``source_name`` (see :func:`database_key`)."""
        breaker = self._databases.get(source_name)
        if breaker is None:
            breaker = self._databases[source_name] = self._make(source_name, is_database_failure)
        return breaker

    def known_database(self, source_name: str) -> AsyncBreaker | None:
        """The database breaker if one was ever created."""
        return self._databases.get(source_name)

    def forget_database(self, source_name: str) -> None:
        """Drop a deleted source's breaker."""
        self._databases.pop(source_name, None)

    def add_listener(self, callback: StateCallback) -> None:
        """Call ``callback`` on every state change of every breaker, present and future."""
        self._on_change.append(callback)
        for breaker in self.all():
            breaker.on_change.append(callback)

    def databases(self) -> list[AsyncBreaker]:
        """The database breakers created so far."""
        return list(self._databases.values())

    def all(self) -> list[AsyncBreaker]:
        """Every breaker, services first."""
        return [self.prediction, self.training, *self._databases.values()]

    def snapshot(self) -> list[BreakerSnapshot]:
        """The state of every breaker."""
        return [BreakerSnapshot(b.name, b.state, b.failure_count) for b in self.all()]

    def _make(self, name: str, is_failure: FailurePredicate) -> AsyncBreaker:
        breaker = AsyncBreaker(name, fail_max=self._fail_max, reset_s=self._reset_s, is_failure=is_failure)
        breaker.on_change.extend(self._on_change)
        return breaker
