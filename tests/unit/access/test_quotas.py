"""Quotas: over a key's or a tenant's limit is RESOURCE_EXHAUSTED with RetryInfo; other tenants are served."""

from __future__ import annotations

import pytest
from google.rpc import error_details_pb2

from chatdb_server.access.permissions import Role
from chatdb_server.access.principal import CredentialKind, Principal
from chatdb_server.access.quotas import Quotas, QuotaSettings
from chatdb_server.errors import ResourceExhausted, to_status


class FakeClock:
    """A clock the test moves by hand: no sleeping."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def caller(tenant: str = "acme", key: str = "k1") -> Principal:
    return Principal(subject=f"apiKeys/{key}", tenant=tenant, roles=frozenset({Role.ASKER}),
                     kind=CredentialKind.API_KEY)


async def ask(quotas: Quotas, principal: Principal) -> None:
    async with quotas.ask(principal):
        pass


async def test_a_key_over_its_minute_quota_is_told_when_to_retry() -> None:
    clock = FakeClock()
    quotas = Quotas(QuotaSettings(asks_per_minute_per_key=2), clock)
    await ask(quotas, caller())
    await ask(quotas, caller())
    with pytest.raises(ResourceExhausted) as caught:
        await ask(quotas, caller())
    assert caught.value.retry_after_s == pytest.approx(30.0)
    retry = error_details_pb2.RetryInfo()
    assert any(d.Unpack(retry) for d in to_status(caught.value).details)
    assert retry.retry_delay.seconds == 30
    await ask(quotas, caller(key="k2"))  # another key of the tenant has its own bucket
    clock.now += 30
    await ask(quotas, caller())  # a token came back


async def test_a_tenant_quota_spares_other_tenants() -> None:
    quotas = Quotas(QuotaSettings(asks_per_minute_per_tenant=1), FakeClock())
    await ask(quotas, caller(key="k1"))
    with pytest.raises(ResourceExhausted) as caught:
        await ask(quotas, caller(key="k2"))
    assert caught.value.metadata == {"quota": "asks_per_minute_per_tenant"}
    await ask(quotas, caller(tenant="globex"))


async def test_concurrent_asks_are_capped_per_tenant_and_released() -> None:
    quotas = Quotas(QuotaSettings(concurrent_asks_per_tenant=1), FakeClock())
    async with quotas.ask(caller()):
        with pytest.raises(ResourceExhausted):
            await ask(quotas, caller(key="k2"))
        await ask(quotas, caller(tenant="globex"))
    await ask(quotas, caller())


async def test_a_refused_ask_spends_no_token() -> None:
    quotas = Quotas(QuotaSettings(asks_per_minute_per_key=1, concurrent_asks_per_tenant=1), FakeClock())
    async with quotas.ask(caller(key="k1")):
        with pytest.raises(ResourceExhausted):
            await ask(quotas, caller(key="k2"))  # refused for concurrency
    await ask(quotas, caller(key="k2"))  # its minute quota is untouched


async def test_no_limits_means_no_refusals() -> None:
    quotas = Quotas(QuotaSettings(), FakeClock())
    for _ in range(100):
        await ask(quotas, caller())
