"""Column and row policies hold against hostile SQL and questions, on PostgreSQL, MariaDB and SQLite alike.

The query facade (ExecuteSql, ValidateSql, Ask, StreamAsk) is called in-process with a principal bound
as the server's authentication would bind it. Every attack of :mod:`tests.integration.query.policy_corpus`
is refused, or answers exactly what an EU reference database holds (e-mail addresses masked), and no
reply carries an SSN, a raw e-mail address or a value of another region's rows."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import ExitStack
from typing import Any

import pytest
import pytest_asyncio

from chatdb_server.access.context import close_facts, open_facts
from chatdb_server.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from chatdb_server.generation.interface import GenerationRequest, GenerationResult
from chatdb_server.prediction.client import LocalPrediction
from chatdb_server.prediction.engine import PredictionEngine
from chatdb_server.prediction.template import TemplateGenerator
from chatdb_server.query.domain import Rows, ServedBy
from chatdb_server.query.pipeline import Answer, AskOptions, Stage
from chatdb_server.query.stream import RowBatch
from chatdb_server.sql.errors import QueryFailed
from tests.integration.query.policy_corpus import ALL, ATTACKS, Attack
from tests.integration.query.policy_world import (
    ADMIN,
    EMAILS,
    EU_ASKER,
    EU_EDITOR,
    HIDDEN_ROWS,
    NO_REGION,
    SSNS,
    TENANT,
    World,
    open_world,
)
from tests.support.acting import acting_as
from tests.support.rows import normalised

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]
CASES = [pytest.param(attack, dialect, id=f"{dialect}-{attack.name}")
         for attack in ATTACKS for dialect in attack.dialects]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    with ExitStack() as exits:
        opened = await open_world(tmp_path_factory.mktemp("policies"), exits)
        try:
            yield opened
        finally:
            await opened.close()


def parent(world: World, dialect: str) -> str:
    return world.sources[dialect].name


def text_of(rows: Rows) -> str:
    return repr([c.name for c in rows.columns]) + repr(rows.rows)


def assert_nothing_leaks(sql: str, rows: Rows | None) -> None:
    """No SSN in the SQL or the rows; no raw e-mail address and no value of another region's rows in the rows."""
    shown = sql + (text_of(rows) if rows is not None else "")
    assert not [s for s in SSNS if s in shown], shown
    if rows is not None:
        cells = {str(cell) for row in rows.rows for cell in row}
        assert not cells & set(EMAILS), cells
        assert not cells & set(HIDDEN_ROWS), cells


def masked_reference(world: World, attack: Attack, rows: Rows) -> list[tuple[Any, ...]]:
    """The reference database's rows of ``attack``, masked where the reply is."""
    masked = [i for i, c in enumerate(rows.columns) if c.database_type == "MASKED"]
    return world.masker.result(rows.columns, world.reference_rows(attack.text("sqlite")), masked)[1]


@pytest.mark.parametrize(("attack", "dialect"), CASES)
async def test_attack_is_refused_or_sees_only_what_the_policies_allow(world: World, attack: Attack,
                                                                        dialect: str) -> None:
    with acting_as(EU_ASKER):
        if attack.refused:
            with pytest.raises(InvalidArgument) as refused:
                await world.service.execute_sql(TENANT, parent(world, dialect), attack.text(dialect), 0, 10.0)
            assert refused.value.reason == "UNSAFE_SQL"
            assert not (await world.service.validate_sql(TENANT, parent(world, dialect),
                                                         attack.text(dialect))).verdict.valid
            return
        run = await world.service.execute_sql(TENANT, parent(world, dialect), attack.text(dialect), 0, 10.0)
    rows = run.run.rows
    assert_nothing_leaks(run.verdict.sql, rows)
    assert "policy_source" in run.verdict.sql  # the caller sees the filter it is held to
    if attack.reference:
        assert normalised(rows.rows) == normalised(masked_reference(world, attack, rows)), run.verdict.sql


async def test_the_corpus_is_large_on_every_dialect() -> None:
    distinct = {(a.name, a.sql) for a in ATTACKS}
    assert len(distinct) == len(ATTACKS)
    for dialect in ALL:
        on_dialect = [a for a in ATTACKS if dialect in a.dialects]
        assert len(on_dialect) >= 40 and sum(a.refused for a in on_dialect) >= 20, dialect


@pytest.mark.parametrize("dialect", ALL)
async def test_an_exempt_admin_sees_every_row_and_column(world: World, dialect: str) -> None:
    with acting_as(ADMIN):
        run = await world.service.execute_sql(TENANT, parent(world, dialect), "SELECT ssn, email FROM customers",
                                              0, 10.0)
    assert sorted(run.run.rows.rows) == sorted(zip(SSNS, EMAILS, strict=True))
    assert "policy_source" not in run.verdict.sql


@pytest.mark.parametrize("dialect", ALL)
async def test_a_caller_without_the_attribute_a_row_policy_binds_is_denied(world: World, dialect: str) -> None:
    with acting_as(NO_REGION):
        with pytest.raises(PermissionDenied) as denied:
            await world.service.execute_sql(TENANT, parent(world, dialect), "SELECT amount FROM orders", 0, 10.0)
        assert denied.value.reason == "POLICY_ATTRIBUTE_MISSING"
        with pytest.raises(PermissionDenied):
            await world.service.validate_sql(TENANT, parent(world, dialect), "SELECT id FROM customers")
        unprotected = await world.service.execute_sql(TENANT, parent(world, dialect), "SELECT code FROM regions",
                                                      0, 10.0)
    assert len(unprotected.run.rows.rows) == 3


async def test_validate_sql_shows_the_rewritten_sql_and_refuses_the_excluded_column(world: World) -> None:
    with acting_as(EU_ASKER):
        valid = await world.service.validate_sql(TENANT, parent(world, "postgresql"), "SELECT * FROM customers")
        invalid = await world.service.validate_sql(TENANT, parent(world, "postgresql"), "SELECT ssn FROM customers")
    assert valid.verdict.valid and "policy_source.\"region\" = 'EU'" in valid.verdict.sql
    assert "ssn" not in valid.verdict.sql
    assert [v.reason for v in invalid.verdict.violations] == ["EXCLUDED_COLUMN"]


async def test_execute_sql_fills_the_calls_audit_facts(world: World) -> None:
    facts, token = open_facts()
    try:
        with acting_as(EU_ASKER):
            run = await world.service.execute_sql(TENANT, parent(world, "sqlite"), "SELECT name FROM customers",
                                                  0, 10.0)
    finally:
        close_facts(token)
    assert (facts.data_source, facts.sql, facts.row_count) == ("shop-sqlite", run.verdict.sql, 2)


async def test_the_history_keeps_the_sql_before_policies(world: World) -> None:
    with acting_as(EU_ASKER):
        run = await world.service.execute_sql(TENANT, parent(world, "postgresql"), "SELECT * FROM customers",
                                              0, 10.0)
        answer = await world.service.ask(TENANT, parent(world, "postgresql"), "How many customers are there?",
                                         AskOptions())
    for name, shown in ((run.query, run.verdict.sql), (answer.query, answer.sql)):
        recorded = (await world.service.get_query(TENANT, name)).record.sql
        assert "policy_source" in shown and "policy_source" not in recorded and "'EU'" not in recorded
        assert "customers" in recorded.lower() and "ssn" not in recorded


QUESTIONS = ("How many customers are there?", "List the names of all customers", "Show all customers",
             "What is the ssn of each customer?", "What is the total amount of orders?",
             "Show the email of every customer", "How many orders are there in each region?")


@pytest.mark.parametrize("dialect", ALL)
async def test_ask_answers_within_the_policies(world: World, dialect: str) -> None:
    answered = 0
    for question in QUESTIONS:
        with acting_as(EU_ASKER):
            try:
                answer = await world.service.ask(TENANT, parent(world, dialect), question, AskOptions())
            except (FailedPrecondition, InvalidArgument) as refused:
                assert not [s for s in SSNS if s in refused.message]
                continue
        answered += 1
        assert_nothing_leaks(answer.sql, answer.rows)
        assert "ssn" not in answer.sql.lower()
        if {"customers", "orders"} & set(answer.tables_used):
            assert "policy_source" in answer.sql, answer.sql
    assert answered >= 4


async def test_ask_counts_only_the_callers_rows(world: World) -> None:
    with acting_as(EU_ASKER):
        answer = await world.service.ask(TENANT, parent(world, "sqlite"), "How many customers are there?",
                                         AskOptions())
    assert answer.rows is not None and answer.rows.rows == [(2,)]


async def test_stream_ask_streams_only_what_the_policies_allow(world: World) -> None:
    with acting_as(EU_ASKER):
        events = [e async for e in world.service.stream_ask(TENANT, parent(world, "postgresql"),
                                                            "Show all customers", AskOptions(), 1)]
    batches = [e for e in events if isinstance(e, RowBatch)]
    answer = events[-1]
    assert isinstance(answer, Answer) and answer.rows is not None and len(batches) == len(answer.rows.rows) == 2
    for event in events:
        if isinstance(event, Stage):
            assert_nothing_leaks(event.sql, None)
        elif isinstance(event, RowBatch):
            assert_nothing_leaks("", Rows(list(event.columns), event.rows, False))
    assert "policy_source" in answer.sql


class RecordingGenerator:
    """PredictionService's port over the real template generator, keeping every request it is given."""

    def __init__(self) -> None:
        self.requests: list[GenerationRequest] = []
        self._local = LocalPrediction(PredictionEngine(TemplateGenerator()))

    async def generate(self, request: GenerationRequest, tenant: str, request_id: str = "") -> GenerationResult:
        self.requests.append(request)
        return await self._local.generate(request, tenant, request_id)

    async def probe(self) -> None:
        return None


async def test_the_prompt_never_holds_the_excluded_column_nor_masked_samples(world: World) -> None:
    recording = RecordingGenerator()
    service = world.service_with(recording)
    question = "What is the ssn and email of each customer?"
    for caller in (ADMIN, EU_ASKER):
        with acting_as(caller), contextlib.suppress(FailedPrecondition):
            await service.ask(TENANT, parent(world, "mysql"), question, AskOptions(execute=False))
    exempt, bound = (repr(r.schema) + repr(r.examples) for r in recording.requests)
    assert "ssn" in exempt and "ada@shop.eu" in exempt  # the admin's prompt has the column and the samples
    assert "ssn" not in bound.lower() and not [e for e in EMAILS if e in bound]
    customers = recording.requests[1].schema.table("customers")
    assert customers is not None and [c.name for c in customers.columns] == ["id", "name", "region", "email"]


async def test_a_cached_result_is_never_served_to_a_caller_with_other_policies(world: World) -> None:
    question = "Show the email of every customer"
    source = parent(world, "sqlite")
    with acting_as(EU_EDITOR):  # exempt from the mask: sees and caches raw addresses
        first = await world.service.ask(TENANT, source, question, AskOptions())
        again = await world.service.ask(TENANT, source, question, AskOptions())
    with acting_as(EU_ASKER):  # the same rewritten SQL, but masked: the editor's entry is not for it
        masked = await world.service.ask(TENANT, source, question, AskOptions())
        masked_again = await world.service.ask(TENANT, source, question, AskOptions())
    assert first.sql == masked.sql and "email" in first.sql
    assert again.served_by is ServedBy.CACHE and again.rows == first.rows
    assert first.rows is not None and {"ada@shop.eu", "bruno@shop.eu"} <= {c for r in first.rows.rows for c in r}
    assert_nothing_leaks(masked.sql, masked.rows)
    assert masked.rows is not None and masked.rows.rows == [(world.masker.value(e),) for (e,) in first.rows.rows]
    assert masked_again.served_by is ServedBy.CACHE and masked_again.rows == masked.rows


ERROR_PROBES = ("SELECT name FROM customers WHERE CAST(name AS INTEGER) = 1",
                "SELECT CAST(email AS INTEGER) FROM customers",
                "SELECT o.id FROM orders o WHERE CAST(o.amount AS TEXT)::date IS NULL")


@pytest.mark.parametrize("sql", ERROR_PROBES)
async def test_database_errors_reveal_no_filtered_or_masked_value(world: World, sql: str) -> None:
    with acting_as(EU_ASKER), pytest.raises(QueryFailed) as failed:
        await world.service.execute_sql(TENANT, parent(world, "postgresql"), sql, 0, 10.0)
    told = failed.value.message + failed.value.database_message
    assert not [v for v in (*EMAILS, *HIDDEN_ROWS, *SSNS) if v in told], told


@pytest.mark.parametrize("sql", [
    "SELECT name FROM customers WHERE CASE WHEN region <> 'EU' THEN CAST(name AS INTEGER) ELSE 0 END = 1",
    "SELECT o.id FROM orders o WHERE CASE WHEN o.region <> 'EU' THEN 1 / (o.amount - o.amount) ELSE 0 END = 1",
])
async def test_no_condition_of_the_caller_is_evaluated_on_filtered_rows(world: World, sql: str) -> None:
    with acting_as(EU_ASKER):  # an error would tell the caller that a filtered row exists
        run = await world.service.execute_sql(TENANT, parent(world, "postgresql"), sql, 0, 10.0)
    assert run.run.rows.rows == []
