"""The QueryService facade without gRPC: each use case in domain types, over a trained sample shop,
with its ports (generator, example sink) swapped for fakes where a test needs to watch them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from chatdb_server.errors import InvalidArgument, Unavailable
from chatdb_server.generation.interface import GenerationRequest, GenerationResult
from chatdb_server.prediction.template import TemplateGenerator
from chatdb_server.query.domain import QueryState, Rating, ServedBy, StageKind
from chatdb_server.query.history import QueryRecord
from chatdb_server.query.pipeline import Answer, AskOptions, Stage
from chatdb_server.query.service import QueryService
from chatdb_server.query.stream import RowBatch
from chatdb_server.resilience.breakers import Breakers
from chatdb_server.resilience.levels import METADATA, PREDICTION, TRAINING, HealthMonitor, Level
from chatdb_server.retrieval.embeddings import Embedder
from chatdb_server.retrieval.retriever import Retriever
from chatdb_server.settings import Settings
from chatdb_server.sql.dsn import Dialect
from chatdb_server.sql.structure import SourceRef
from chatdb_server.sql.values import ResultColumn
from tests.unit.query.test_pipeline_support import QueryStack, open_query_stack

pytestmark = pytest.mark.asyncio(loop_scope="module")
SHOP = "dataSources/shop"
CITIES = "How many orders were placed in each city?"


class DownGenerator:
    """PredictionService that is down."""

    def __init__(self) -> None:
        self.calls = 0

    async def generate(self, request: GenerationRequest, tenant: str, request_id: str = "") -> GenerationResult:
        self.calls += 1
        raise Unavailable("PredictionService is unavailable: connection refused")

    async def probe(self) -> None:
        raise ConnectionError("refused")


class RecordingSink:
    """TrainingService's example sink, remembering what it was given."""

    def __init__(self) -> None:
        self.examples: list[tuple[str, str, str, str]] = []

    async def create_feedback_example(self, source: SourceRef, question: str, sql: str,
                                      request_id: str = "") -> str:
        self.examples.append((source.name, question, sql, request_id))
        return f"{source.name}/examples/e{len(self.examples)}"

    async def probe(self) -> None:
        return None


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[QueryStack]:
    opened = await open_query_stack(tmp_path_factory.mktemp("service"), result_cache_ttl_s=300)
    yield opened
    await opened.close()


def service_with(stack: QueryStack, tmp_path: Path, *, generator: object | None = None,
                 sink: RecordingSink | None = None, breakers: Breakers | None = None) -> QueryService:
    """A second facade over the stack's store, catalog and executor, with fake ports."""
    breakers = breakers or Breakers(fail_max=5, reset_s=3600)
    training = stack.training
    settings = Settings(data_dir=tmp_path, result_cache_ttl_s=0)
    return QueryService(settings, training.store, training.service.pages, training.catalog,
                        Retriever(Embedder.shared(), training.vectors), stack.executor,
                        generator or stack.service.generator.generator,  # type: ignore[arg-type]
                        TemplateGenerator(), sink or RecordingSink(), breakers,
                        HealthMonitor(breakers, probe_ttl_s=0), contexts_ttl_s=0)


async def test_ask_answers_in_domain_types(stack: QueryStack) -> None:
    answer = await stack.service.ask("default", SHOP, CITIES, AskOptions(max_rows=3), "req-1")
    assert answer.served_by is ServedBy.TEMPLATE and answer.level is Level.FULL and answer.executed
    assert answer.rows is not None and len(answer.rows.rows) == 3 and answer.rows.truncated
    assert all(isinstance(c, ResultColumn) for c in answer.rows.columns)
    city, count = answer.rows.rows[0]
    assert isinstance(city, str) and type(count) is int
    stored = await stack.service.get_query("default", answer.query)
    assert stored.name == answer.query and stored.record.state is QueryState.SUCCEEDED
    assert stored.record.served_by is ServedBy.TEMPLATE and stored.feedback is None


async def test_a_repeated_question_is_served_by_the_cache_with_equal_values(stack: QueryStack) -> None:
    first = await stack.service.ask("default", SHOP, "What is the average price of products?", AskOptions())
    again = await stack.service.ask("default", SHOP, "What is the average price of products?", AskOptions())
    assert again.served_by is ServedBy.CACHE and not again.stale
    assert first.rows is not None and again.rows is not None
    assert again.rows.rows == first.rows.rows and again.rows.columns == first.rows.columns


async def test_stream_ask_yields_stages_then_batches_then_the_answer(stack: QueryStack) -> None:
    events = [e async for e in stack.service.stream_ask("default", SHOP, CITIES, AskOptions(max_rows=5), 2)]
    stages = [e for e in events if isinstance(e, Stage)]
    batches = [e for e in events if isinstance(e, RowBatch)]
    assert [s.kind for s in stages] == [StageKind.RETRIEVED, StageKind.GENERATED, StageKind.EXECUTED]
    assert events[:3] == stages and isinstance(events[-1], Answer)
    answer = events[-1]
    assert answer.rows is not None and [len(b.rows) for b in batches] == [2, 2, 1]
    assert [row for b in batches for row in b.rows] == answer.rows.rows
    assert batches[0].columns == tuple(answer.rows.columns) == stages[-1].columns
    with pytest.raises(InvalidArgument) as bad:
        _ = [e async for e in stack.service.stream_ask("default", SHOP, CITIES, AskOptions(), -1)]
    assert bad.value.violations[0].field == "batch_size"


async def test_execute_and_validate_caller_sql(stack: QueryStack) -> None:
    run = await stack.service.execute_sql("default", SHOP, "SELECT name FROM customers ORDER BY name", 2, None)
    assert run.served_by is ServedBy.CALLER_SQL and run.run.rows.truncated and len(run.run.rows.rows) == 2
    assert (await stack.service.get_query("default", run.query)).record.served_by is ServedBy.CALLER_SQL
    validation = await stack.service.validate_sql("default", SHOP, "DROP TABLE customers")
    assert validation.dialect is Dialect.SQLITE and not validation.verdict.valid
    assert (await stack.service.validate_sql("default", SHOP, "SELECT 1")).verdict.valid


async def test_list_queries_pages_newest_first(stack: QueryStack) -> None:
    recorded = await stack.service.execute_sql("default", SHOP, "SELECT COUNT(*) FROM orders", 0, None)
    page = await stack.service.list_queries("default", SHOP, 1, "")
    assert [q.name for q in page.queries] == [recorded.query] and page.next_page_token
    following = await stack.service.list_queries("default", SHOP, 1, page.next_page_token)
    assert following.queries and following.queries[0].name != recorded.query


async def test_feedback_goes_through_the_example_sink(stack: QueryStack, tmp_path: Path) -> None:
    sink = RecordingSink()
    service = service_with(stack, tmp_path, sink=sink)
    answer = await service.ask("default", SHOP, "How many customers are there?", AskOptions())
    stored = await service.submit_feedback("default", answer.query, Rating.CORRECT, "", "right", "req-9")
    assert sink.examples == [(SHOP, "How many customers are there?", answer.sql, "req-9")]
    assert stored.feedback is not None and stored.feedback.rating is Rating.CORRECT
    assert stored.feedback.example == f"{SHOP}/examples/e1" and stored.feedback.comment == "right"
    with pytest.raises(InvalidArgument) as missing:
        await service.submit_feedback("default", answer.query, None, "", "")
    assert missing.value.violations[0].field == "rating"


@pytest.mark.parametrize(("state", "vouched"), [(QueryState.LOW_CONFIDENCE, True), (QueryState.FAILED, False)])
async def test_a_correct_rating_vouches_for_sql_a_low_confidence_reply_did_not_run(
        stack: QueryStack, tmp_path: Path, state: QueryState, vouched: bool) -> None:
    sink = RecordingSink()
    service = service_with(stack, tmp_path, sink=sink)
    source = (await service.contexts.get("default", SHOP)).source
    sql = "SELECT COUNT(*) FROM orders"
    name = await service.history.record(source, QueryRecord(question="How many orders are there?", sql=sql,
                                                            state=state, served_by=ServedBy.TEMPLATE))
    stored = await service.submit_feedback("default", name, Rating.CORRECT, "", "")
    assert sink.examples == ([(SHOP, "How many orders are there?", sql, "")] if vouched else [])
    assert stored.record.state is state and stored.feedback is not None and bool(stored.feedback.example) == vouched


async def test_prediction_down_falls_back_behind_the_breaker(stack: QueryStack, tmp_path: Path) -> None:
    down = DownGenerator()
    breakers = Breakers(fail_max=2, reset_s=3600)
    service = service_with(stack, tmp_path, generator=down, breakers=breakers)
    for _ in range(3):
        answer = await service.ask("default", SHOP, "How many customers are there?", AskOptions())
        assert answer.served_by is ServedBy.TEMPLATE and answer.level is Level.NO_MODEL
    assert down.calls == 2 and breakers.prediction.state == "open"
    status = await service.system_status("default")
    health = {d.name: d for d in status.dependencies}
    assert {METADATA, PREDICTION, TRAINING} <= set(health) and not health[PREDICTION].healthy
    assert status.level is Level.NO_MODEL and status.check_time.tzinfo is not None


async def test_a_deleted_source_is_forgotten(stack: QueryStack, tmp_path: Path) -> None:
    service = service_with(stack, tmp_path)
    disposed: list[int] = []

    class Executor:
        async def dispose_source(self, pk: int) -> None:
            disposed.append(pk)

    service.executor = Executor()  # type: ignore[assignment]
    await service.source_deleted(stack.source)
    assert disposed == [stack.source.pk]
