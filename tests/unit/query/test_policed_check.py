"""The guard's verdict under a caller's policies is the same whether it is worked out in place or in a guard
worker process: verdicts, rewrites and refusals cross the process boundary intact."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chatdb_server.access.policies import EffectivePolicies
from chatdb_server.query.policed_check import CheckRequest, Denied, PolicedVerdict, policed_check
from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.guard import SqlGuard
from chatdb_server.sql.guard_limits import SQL_TOO_COMPLEX, SqlLimits
from chatdb_server.sql.guard_pool import GuardPool

COLUMNS = {"customers": ("id", "name", "region", "ssn", "email"), "orders": ("id", "customer_id", "amount", "region")}
KNOWN = {table: set(columns) for table, columns in COLUMNS.items()}
EU = EffectivePolicies(excluded=frozenset({("customers", "ssn")}), masked=frozenset({("customers", "email")}),
                       row_predicates={"customers": ("region = :region",)}, attributes={"region": "EU"})
LONG_WHERE = " OR ".join(f"c.id = {i}" for i in range(200))


def request(sql: str, policies: EffectivePolicies = EU) -> CheckRequest:
    return CheckRequest(sql, Dialect.POSTGRESQL, KNOWN, COLUMNS, policies, 50)


@pytest.fixture(scope="module")
def pool() -> Iterator[GuardPool]:
    pool = GuardPool(1)
    yield pool
    pool.close()


@pytest.mark.parametrize("sql", [
    pytest.param(f"SELECT c.name, c.email, o.amount FROM customers c JOIN orders o ON o.customer_id = c.id "
                 f"WHERE {LONG_WHERE}", id="rewritten-and-masked"),
    pytest.param(f"SELECT c.ssn FROM customers c WHERE {LONG_WHERE}", id="excluded-column"),
    pytest.param(f"SELECT pg_sleep(1) FROM customers c WHERE {LONG_WHERE}", id="unsafe"),
])
async def test_a_worker_reaches_the_same_verdict(pool: GuardPool, sql: str) -> None:
    here = policed_check(SqlGuard(), request(sql))
    there = await pool.run(10.0, policed_check, SqlGuard(), request(sql))
    assert isinstance(there, PolicedVerdict)
    assert there == here


async def test_a_missing_attribute_comes_back_as_a_denial(pool: GuardPool) -> None:
    lacking = EffectivePolicies(row_predicates={"customers": ("region = :region",)})
    outcome = await pool.run(10.0, policed_check, SqlGuard(), request("SELECT name FROM customers", lacking))
    assert isinstance(outcome, Denied) and outcome.reason == "POLICY_ATTRIBUTE_MISSING"
    assert outcome.error().code.name == "PERMISSION_DENIED"


def test_the_rewrite_exhausting_the_stack_is_too_complex() -> None:
    deep = "SELECT name FROM customers WHERE " + "NOT " * 600 + "id = 1"
    verdict = policed_check(SqlGuard(SqlLimits(max_tokens=100_000)), request(deep))
    assert isinstance(verdict, PolicedVerdict) and not verdict.valid
    assert [v.reason for v in verdict.violations] == [SQL_TOO_COMPLEX]
