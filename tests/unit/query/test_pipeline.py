"""The ask pipeline on real parts: a trained sample shop in SQLite, Milvus Lite, the embedding model,
the template generator, the guard and the read-only executor."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio

from chatdb_server.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from chatdb_server.generation.interface import GenerationRequest, GenerationResult, SqlCandidate
from chatdb_server.prediction.client import LocalPrediction, RemotePrediction
from chatdb_server.prediction.template import TemplateGenerator
from chatdb_server.query.domain import QueryState, Row, ServedBy
from chatdb_server.query.history import query_name_parts
from chatdb_server.query.pipeline import AskOptions, AskPipeline
from chatdb_server.query.ports import BreakerGenerator, Generator
from chatdb_server.resilience.breakers import Breakers
from chatdb_server.resilience.levels import Level
from chatdb_server.retrieval.embeddings import Embedder
from chatdb_server.retrieval.retriever import Retriever
from chatdb_server.schema.records import DataSourceSpec
from tests.unit.query.test_pipeline_support import QueryStack, open_query_stack, unreachable_address

pytestmark = pytest.mark.asyncio(loop_scope="module")
SHOP = "dataSources/shop"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[QueryStack]:
    opened = await open_query_stack(tmp_path_factory.mktemp("query"), result_cache_ttl_s=0)
    yield opened
    await opened.close()


def direct_rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return [tuple(row) for row in conn.execute(sql).fetchall()]


class ScriptedModel:
    """Stands in for a GPU model backend: answers from a script, and repairs when the request carries the error."""

    def __init__(self, candidates: list[SqlCandidate], repaired: str = "") -> None:
        self.candidates = candidates
        self.repaired = repaired
        self.requests: list[GenerationRequest] = []

    async def generate(self, request: GenerationRequest, tenant: str) -> GenerationResult:
        self.requests.append(request)
        if self.repaired and request.repair is not None:
            return GenerationResult([SqlCandidate(self.repaired, 0.7)], model="scripted", backend="vllm")
        return GenerationResult(list(self.candidates), model="scripted", backend="vllm")


def pipeline_with(stack: QueryStack, generator: Generator, breakers: Breakers | None = None) -> AskPipeline:
    breaker = (breakers or Breakers(fail_max=5, reset_s=60)).prediction
    return AskPipeline(stack.contexts, Retriever(Embedder.shared(), stack.training.vectors),
                       BreakerGenerator(generator, breaker), TemplateGenerator(), stack.execution, stack.history,
                       stack.monitor)


def rows_of(answer_rows: list[Row]) -> list[tuple[object, ...]]:
    return [tuple(row) for row in answer_rows]


async def test_answer_has_every_field_and_the_rows_of_its_sql(stack: QueryStack) -> None:
    answer = await stack.pipeline.ask("default", SHOP, "How many orders were placed in each city?", AskOptions())
    assert answer.executed and answer.rows is not None
    assert rows_of(answer.rows.rows) == direct_rows(stack.shop_path, answer.sql)
    assert len(answer.rows.columns) == 2 and answer.rows.columns[0].name == "city"
    assert answer.served_by is ServedBy.TEMPLATE and answer.model == "template"
    assert answer.level is Level.FULL
    assert {"customers", "orders"} <= set(answer.tables_used)
    searched = [t.score for t in answer.retrieved if t.reason == "SEARCH"]
    assert searched and searched == sorted(searched, reverse=True)
    assert set(answer.timings) == {"retrieval", "generation", "guard", "execution", "total"}
    assert answer.timings["total"] >= answer.timings["execution"]
    assert 0 < answer.confidence <= 1 and answer.explanation
    assert any("LIMIT" in w for w in answer.warnings)
    source_id, query_id = query_name_parts(answer.query)
    stored = await stack.history.get(stack.source, query_id)
    assert (source_id, stored.record.sql, stored.record.row_count) == ("shop", answer.sql, len(answer.rows.rows))


async def test_values_stay_typed(stack: QueryStack) -> None:
    answer = await stack.pipeline.ask("default", SHOP, "How many customers are there?", AskOptions())
    assert answer.rows is not None
    assert type(answer.rows.rows[0][0]) is int
    assert answer.rows.columns[0].value_type == "INTEGER"


async def test_execute_false_generates_and_validates_only(stack: QueryStack) -> None:
    answer = await stack.pipeline.ask("default", SHOP, "What is the average price of products?",
                                      AskOptions(execute=False))
    assert not answer.executed and answer.rows is None
    assert answer.sql.upper().startswith("SELECT") and "execution" not in answer.timings


async def test_bad_questions_and_options_name_the_field(stack: QueryStack) -> None:
    cases = [("", AskOptions(), "question"), ("x" * 2001, AskOptions(), "question"),
             ("how many?", AskOptions(candidate_count=9), "options.candidate_count"),
             ("how many?", AskOptions(max_rows=-1), "options.max_rows"),
             ("how many?", AskOptions(timeout_s=-1), "options.timeout")]
    for question, options, field in cases:
        with pytest.raises(InvalidArgument) as error:
            await stack.pipeline.ask("default", SHOP, question, options)
        assert error.value.violations[0].field == field


async def test_unknown_and_malformed_sources(stack: QueryStack) -> None:
    with pytest.raises(NotFound):
        await stack.pipeline.ask("default", "dataSources/nope", "how many customers?", AskOptions())
    with pytest.raises(NotFound):
        await stack.pipeline.ask("other-tenant", SHOP, "how many customers?", AskOptions())
    with pytest.raises(InvalidArgument) as malformed:
        await stack.pipeline.ask("default", "shop", "how many customers?", AskOptions())
    assert malformed.value.violations[0].field == "parent"


async def test_untrained_source_says_to_train_it(stack: QueryStack) -> None:
    await stack.training.catalog.create("default", DataSourceSpec(dsn=f"sqlite:///{stack.shop_path}"),
                                        source_id="untrained")
    with pytest.raises(FailedPrecondition) as error:
        await stack.pipeline.ask("default", "dataSources/untrained", "how many customers?", AskOptions())
    assert error.value.reason == "NOT_TRAINED"
    assert "training job" in error.value.message


async def test_prediction_down_falls_back_to_the_template_at_level_2(stack: QueryStack) -> None:
    breakers = Breakers(fail_max=2, reset_s=3600)
    channel = grpc.aio.insecure_channel(unreachable_address())
    pipeline = pipeline_with(stack, RemotePrediction(channel, deadline_s=2.0), breakers)
    try:
        for _ in range(3):
            answer = await pipeline.ask("default", SHOP, "How many customers are there?", AskOptions())
            assert answer.served_by is ServedBy.TEMPLATE and answer.level is Level.NO_MODEL
            assert any("template generator" in w for w in answer.warnings)
            assert answer.rows is not None and answer.rows.rows
        assert breakers.prediction.state == "open"
        with pytest.raises(Unavailable) as refused:
            await pipeline.ask("default", SHOP, "How many customers are there?", AskOptions(model="models/big"))
        assert refused.value.reason == "DEGRADED"
    finally:
        await channel.close()


async def test_rejected_sql_is_repaired_once_with_the_error_in_the_prompt(stack: QueryStack) -> None:
    # Passes the guard; SQLite rejects it when it runs ("integer overflow").
    broken = ScriptedModel([SqlCandidate("SELECT ABS(-9223372036854775807 - 1) FROM customers", 0.9)],
                           repaired="SELECT COUNT(*) FROM customers")
    pipeline = pipeline_with(stack, LocalPrediction(broken))
    answer = await pipeline.ask("default", SHOP, "How many customers are there?", AskOptions())
    assert answer.sql.startswith("SELECT COUNT(*) FROM customers")
    assert answer.served_by is ServedBy.MODEL and answer.model == "scripted"
    assert len(broken.requests) == 2 and broken.requests[0].repair is None
    repair = broken.requests[1].repair
    assert repair is not None and "integer overflow" in repair.error and repair.failed_sql.startswith("SELECT ABS(")
    assert broken.requests[1].question == "How many customers are there?"
    assert any("repaired" in w for w in answer.warnings)


class ScriptedTemplate(ScriptedModel):
    """Answers as the template backend does (a repair round asks it for more candidates)."""

    async def generate(self, request: GenerationRequest, tenant: str) -> GenerationResult:
        result = await super().generate(request, tenant)
        return GenerationResult(result.candidates, model="template", backend="template")


async def test_the_template_backend_gets_the_database_error_in_its_repair_round(stack: QueryStack) -> None:
    broken = ScriptedTemplate([SqlCandidate("SELECT ABS(-9223372036854775807 - 1) FROM customers", 0.9)],
                              repaired="SELECT COUNT(*) FROM customers")
    pipeline = pipeline_with(stack, LocalPrediction(broken))
    answer = await pipeline.ask("default", SHOP, "How many customers are there?", AskOptions())
    assert answer.sql.startswith("SELECT COUNT(*) FROM customers") and answer.served_by is ServedBy.TEMPLATE
    repair = broken.requests[1].repair
    assert repair is not None and "integer overflow" in repair.error and repair.failed_sql.startswith("SELECT ABS(")
    assert broken.requests[1].candidate_count == 2


async def test_a_second_rejection_is_the_answer(stack: QueryStack) -> None:
    broken = ScriptedModel([SqlCandidate("SELECT ABS(-9223372036854775807 - 1) FROM customers", 0.9)])
    pipeline = pipeline_with(stack, LocalPrediction(broken))
    with pytest.raises(FailedPrecondition) as rejected:
        await pipeline.ask("default", SHOP, "How many customers are there?", AskOptions())
    assert rejected.value.reason == "QUERY_FAILED" and "overflow" in rejected.value.message
    assert len(broken.requests) == 2


async def test_agreement_beats_a_more_confident_outlier(stack: QueryStack) -> None:
    model = ScriptedModel([SqlCandidate("SELECT COUNT(*) FROM products", 0.9),
                           SqlCandidate("SELECT COUNT(*) FROM customers", 0.6),
                           SqlCandidate("SELECT COUNT(id) FROM customers", 0.5)])
    pipeline = pipeline_with(stack, LocalPrediction(model))
    answer = await pipeline.ask("default", SHOP, "How many customers are there?", AskOptions(candidate_count=3))
    assert answer.sql.startswith("SELECT COUNT(*) FROM customers")
    assert any("2 of 3 candidates agreed" in w for w in answer.warnings)


async def test_unsafe_generated_sql_is_refused(stack: QueryStack) -> None:
    model = ScriptedModel([SqlCandidate("DELETE FROM customers", 0.9)])
    pipeline = pipeline_with(stack, LocalPrediction(model))
    with pytest.raises(FailedPrecondition) as refused:
        await pipeline.ask("default", SHOP, "Remove every customer", AskOptions())
    assert refused.value.reason == "UNSAFE_SQL"
    _, query_id = query_name_parts(refused.value.metadata["query"])
    stored = await stack.history.get(stack.source, query_id)
    assert (stored.record.state, stored.record.error_reason) == (QueryState.FAILED, "UNSAFE_SQL")
    assert direct_rows(stack.shop_path, "SELECT COUNT(*) > 0 FROM customers") == [(1,)]


async def test_unreachable_database_serves_stale_rows_then_degraded(stack: QueryStack, tmp_path: Path) -> None:
    question = "How many orders were placed in each city?"
    fresh = await stack.pipeline.ask("default", SHOP, question, AskOptions())
    moved = tmp_path / "shop-away.db"
    stack.shop_path.rename(moved)
    await stack.executor.dispose_source(stack.source.pk)
    try:
        stale = await stack.pipeline.ask("default", SHOP, question, AskOptions())
        assert stale.stale and stale.served_by is ServedBy.CACHE and stale.level is Level.NO_DATABASE
        assert stale.rows is not None and fresh.rows is not None and stale.rows.rows == fresh.rows.rows
        assert stale.cached_time is not None and any("stale" in w for w in stale.warnings)
        with pytest.raises(Unavailable) as nothing_cached:
            await stack.pipeline.ask("default", SHOP, "What is the average price of products?", AskOptions())
        assert nothing_cached.value.reason == "DEGRADED"
        assert "unreachable" in nothing_cached.value.message
    finally:
        moved.rename(stack.shop_path)
        await stack.executor.dispose_source(stack.source.pk)
        stack.breakers.database(f"default/{SHOP}").reset()
        stack.monitor.database_reachable(f"default/{SHOP}")
    back = await stack.pipeline.ask("default", SHOP, question, AskOptions())
    assert not back.stale and back.level is Level.FULL
