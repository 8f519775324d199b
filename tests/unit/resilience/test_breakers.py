"""The async circuit breaker: what counts as a failure, opening, the trial call, closing."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from chatdb_server.errors import DeadlineExceeded, FailedPrecondition, InvalidArgument, Unavailable
from chatdb_server.resilience.breakers import (
    AsyncBreaker,
    BreakerOpen,
    Breakers,
    is_database_failure,
    is_service_failure,
)


class Unreachable(Unavailable):
    def __init__(self) -> None:
        super().__init__("connection refused", reason="SOURCE_UNREACHABLE")


def rpc_error(code: grpc.StatusCode) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details="x")


async def fail_with(error: BaseException) -> None:
    raise error


async def answer(value: int) -> int:
    return value


def test_service_failures_are_only_unavailable_and_deadline() -> None:
    assert is_service_failure(rpc_error(grpc.StatusCode.UNAVAILABLE))
    assert is_service_failure(rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED))
    assert is_service_failure(TimeoutError())
    assert not is_service_failure(rpc_error(grpc.StatusCode.INVALID_ARGUMENT))
    assert not is_service_failure(rpc_error(grpc.StatusCode.NOT_FOUND))
    assert not is_service_failure(InvalidArgument("question", "is required"))
    assert not is_service_failure(FailedPrecondition("no answer", "NO_ANSWER"))


def test_database_failures_are_only_unreachable_sources() -> None:
    assert is_database_failure(Unreachable())
    assert not is_database_failure(DeadlineExceeded("slow query"))
    assert not is_database_failure(FailedPrecondition("no such column", "QUERY_FAILED"))


async def test_opens_after_fail_max_dependency_failures_and_refuses_calls() -> None:
    breaker = AsyncBreaker("prediction", fail_max=3, reset_s=60, is_failure=is_service_failure)
    for _ in range(3):
        with pytest.raises(grpc.aio.AioRpcError):
            await breaker.call(fail_with, rpc_error(grpc.StatusCode.UNAVAILABLE))
    assert breaker.state == "open"
    assert not breaker.allows_calls()
    called = False

    async def never() -> None:
        nonlocal called
        called = True

    with pytest.raises(BreakerOpen) as refused:
        await breaker.call(never)
    assert not called
    assert refused.value.code is grpc.StatusCode.UNAVAILABLE
    assert refused.value.reason == "DEGRADED"


async def test_bad_input_does_not_count_and_resets_the_count() -> None:
    breaker = AsyncBreaker("prediction", fail_max=2, reset_s=60, is_failure=is_service_failure)
    with pytest.raises(grpc.aio.AioRpcError):
        await breaker.call(fail_with, rpc_error(grpc.StatusCode.UNAVAILABLE))
    assert breaker.failure_count == 1
    for _ in range(5):
        with pytest.raises(InvalidArgument):
            await breaker.call(fail_with, InvalidArgument("question", "is required"))
    assert breaker.state == "closed"
    assert breaker.failure_count == 0


async def test_trial_call_closes_a_recovered_dependency() -> None:
    breaker = AsyncBreaker("training", fail_max=1, reset_s=0, is_failure=is_service_failure)
    changes: list[str] = []
    breaker.on_change.append(lambda _, state: changes.append(state))
    with pytest.raises(grpc.aio.AioRpcError):
        await breaker.call(fail_with, rpc_error(grpc.StatusCode.DEADLINE_EXCEEDED))
    assert breaker.state == "open"
    assert await breaker.call(answer, 7) == 7
    assert breaker.state == "closed"
    assert changes == ["open", "half-open", "closed"]


async def test_failed_trial_reopens() -> None:
    breaker = AsyncBreaker("training", fail_max=1, reset_s=0, is_failure=is_service_failure)
    with pytest.raises(grpc.aio.AioRpcError):
        await breaker.call(fail_with, rpc_error(grpc.StatusCode.UNAVAILABLE))
    with pytest.raises(grpc.aio.AioRpcError):
        await breaker.call(fail_with, rpc_error(grpc.StatusCode.UNAVAILABLE))
    assert breaker.state == "open"


async def test_half_open_lets_one_trial_through_at_a_time() -> None:
    breaker = AsyncBreaker("prediction", fail_max=1, reset_s=0, is_failure=is_service_failure)
    with pytest.raises(grpc.aio.AioRpcError):
        await breaker.call(fail_with, rpc_error(grpc.StatusCode.UNAVAILABLE))
    gate = asyncio.Event()

    async def slow_trial() -> str:
        await gate.wait()
        return "ok"

    trial = asyncio.ensure_future(breaker.call(slow_trial))
    await asyncio.sleep(0)  # let the trial start (scheduling, not timing)
    assert breaker.state == "half-open"
    with pytest.raises(BreakerOpen):
        await breaker.call(answer, 1)
    gate.set()
    assert await trial == "ok"
    assert breaker.state == "closed"


async def test_outcome_of_a_call_in_flight_when_the_breaker_opened_is_returned() -> None:
    breaker = AsyncBreaker("db", fail_max=1, reset_s=60, is_failure=is_database_failure)
    gate = asyncio.Event()

    async def slow() -> str:
        await gate.wait()
        return "rows"

    pending = asyncio.ensure_future(breaker.call(slow))
    await asyncio.sleep(0)
    with pytest.raises(Unreachable):
        await breaker.call(fail_with, Unreachable())
    assert breaker.state == "open"
    gate.set()
    assert await pending == "rows"


async def test_registry_creates_one_breaker_per_database_and_reports_states() -> None:
    breakers = Breakers(fail_max=1, reset_s=60)
    seen: list[tuple[str, str]] = []
    breakers.add_listener(lambda breaker, state: seen.append((breaker.name, state)))
    first = breakers.database("default/dataSources/shop")
    assert breakers.database("default/dataSources/shop") is first
    with pytest.raises(Unreachable):
        await first.call(fail_with, Unreachable())
    states = {s.name: (s.state, s.failure_count) for s in breakers.snapshot()}
    assert states["default/dataSources/shop"][0] == "open"
    assert states["prediction"] == ("closed", 0)
    assert states["training"] == ("closed", 0)
    assert seen == [("default/dataSources/shop", "open")]
