"""The template generator's SQL runs on PostgreSQL and MariaDB copies of the sample shop.

Each question shape (counts, totals and averages per group, periods of dates, years, comparisons,
superlatives, labels beside aggregates) is generated for the copy's dialect from the schema as the
server describes it, passed through the SQL guard and run by the read-only executor; none may end
in a database error. The copies keep the shop's declared types (DATE, TIMESTAMP, NUMERIC), so that
dates are real dates as on a server, and are also made with types read from the values (dates as
text), as a loosely typed database would have them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from chatdb_server.generation.interface import GenerationRequest
from chatdb_server.prediction.template import TemplateGenerator
from chatdb_server.samples.shop import build_shop_database
from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.errors import QueryFailed
from chatdb_server.sql.executor import QueryExecutor
from chatdb_server.sql.guard import SqlGuard
from tests.bench.spider_dialects import database_target

QUESTIONS = (
    "How many customers are there?",
    "How many orders were placed in each city?",
    "What is the total amount of orders per status?",
    "What is the total amount of orders per month?",
    "How many orders were placed per year?",
    "What is the average rating of reviews for each product?",
    "Show the name of each customer and the number of orders for each customer",
    "Which products cost more than 50?",
    "How many orders were placed in 2024?",
    "What is the maximum price and the name of the products?",
    "List the names of customers who joined in 2023",
    "What is the total email of customers?",
    "What is the average order date of orders?",
    "Which city has the most customers?",
    "Show the average price of products per category",
    "List the payments made by card with an amount above the average amount",
)
MAX_ROWS = 1000


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_shop_database(tmp_path_factory.mktemp("shop") / "shop.db")


@pytest.fixture
async def executor() -> AsyncIterator[QueryExecutor]:
    executor = QueryExecutor()
    yield executor
    await executor.close()


@pytest.mark.parametrize("declared_types", [True, False], ids=["declared-types", "types-from-values"])
@pytest.mark.parametrize("dialect", [Dialect.POSTGRESQL, Dialect.MYSQL], ids=["postgresql", "mariadb"])
async def test_generated_sql_runs_on_a_server_copy_of_the_shop(
        shop: Path, executor: QueryExecutor, dialect: Dialect, declared_types: bool) -> None:
    generator, guard = TemplateGenerator(), SqlGuard()
    failed: list[tuple[str, str, str]] = []
    ran = 0
    with database_target(shop, dialect, 1, 5, declared_types) as target:
        for question in QUESTIONS:
            sql = generator.generate_sync(GenerationRequest(question, dialect, target.schema)).candidates[0].sql
            verdict = guard.check(sql, dialect, target.known_columns, MAX_ROWS)
            assert verdict.valid, (question, sql, verdict.violations)
            try:
                await executor.execute(target.source, verdict.executable_sql, max_rows=MAX_ROWS, timeout_s=30)
                ran += 1
            except QueryFailed as exc:
                failed.append((question, sql, exc.database_message))
        await executor.dispose_source(target.source.pk)
    assert failed == []
    assert ran == len(QUESTIONS)


async def test_the_copy_keeps_declared_types(shop: Path) -> None:
    with database_target(shop, Dialect.POSTGRESQL, 2, 0, declared_types=True) as target:
        types = {(t.name, c.name): c.data_type for t in target.schema.tables for c in t.columns}
    assert types[("orders", "order_date")] == "date"
    assert types[("payments", "paid_at")].startswith("timestamp")
    assert types[("orders", "total_amount")] == "numeric"
