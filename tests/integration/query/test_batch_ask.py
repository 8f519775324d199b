"""BatchAsk over gRPC against the real suite: the sample shop registered and trained, asked in batches by keys
of their own (a per-key quota is on). Answers stream back one per question, each naming its place in the
request; no more than batch_ask_concurrency questions run at once; a question's failure is its own; what
holds for the whole batch (its size, its source, the query its questions follow up, the caller's permission)
fails the call; every question is counted by the quotas and recorded in the history."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from google.rpc import error_details_pb2, status_pb2
from prometheus_client import REGISTRY

from chatdb.query.v1 import query_pb2, query_service_pb2, query_service_pb2_grpc
from chatdb.schema.v1 import schema_service_pb2, schema_service_pb2_grpc
from chatdb.training.v1 import training_service_pb2_grpc
from chatdb_client import AsyncChatDBClient
from chatdb_server.access.keys import ApiKeyStore
from chatdb_server.samples.shop import build_shop_database
from chatdb_server.server.access import shared_keys
from chatdb_server.sql.values import value_to_python
from tests.support.grpc_unit import bad_request_fields, error_info
from tests.support.server import in_process_suite, keyed_metadata
from tests.support.shop_questions import SHOP_QUESTIONS
from tests.support.training import train

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.slow]

SHOP = "dataSources/shop"
CONCURRENCY = 2
MAX_QUESTIONS = 6
ASKS_PER_MINUTE_PER_KEY = 8
UNANSWERABLE = "What is the airspeed of an unladen swallow?"
LIST_CUSTOMERS = "List the customers"
REFINEMENTS = {"berlin": ("only those in Berlin", "SELECT name FROM customers WHERE city = 'Berlin'"),
               "sorted": ("sort them by name", "SELECT name FROM customers ORDER BY name")}
Metadata = tuple[tuple[str, str], ...]


@dataclass
class Shop:
    query: query_service_pb2_grpc.QueryServiceStub
    keys: ApiKeyStore
    admin: Metadata
    database: Path
    address: str

    async def asker(self, tenant: str = "default", role: str = "asker") -> Metadata:
        """A new key of its own, so that each test starts with the whole per-key quota."""
        return keyed_metadata((await self.keys.create(tenant, [role])).secret)

    async def batch(self, questions: Sequence[str], metadata: Metadata, parent: str = SHOP,
                    ids: Sequence[str] | None = None,
                    previous_query: str = "") -> list[query_service_pb2.BatchAskResponse]:
        ids = [f"q{i}" for i in range(len(questions))] if ids is None else ids
        request = query_service_pb2.BatchAskRequest(parent=parent, previous_query=previous_query, questions=[
            query_pb2.BatchQuestion(id=i, question=q) for i, q in zip(ids, questions, strict=True)])
        return [m async for m in self.query.BatchAsk(request, metadata=metadata)]

    async def refused(self, questions: Sequence[str], metadata: Metadata, parent: str = SHOP,
                      ids: Sequence[str] | None = None, previous_query: str = "") -> grpc.aio.AioRpcError:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await self.batch(questions, metadata, parent, ids, previous_query)
        return refused.value

    async def ask(self, question: str, metadata: Metadata) -> query_service_pb2.AskResponse:
        reply: query_service_pb2.AskResponse = await self.query.Ask(
            query_service_pb2.AskRequest(parent=SHOP, question=question), metadata=metadata)
        return reply

    async def history(self) -> list[query_pb2.Query]:
        reply = await self.query.ListQueries(query_service_pb2.ListQueriesRequest(parent=SHOP, page_size=1000),
                                             metadata=self.admin)
        return list(reply.queries)

    def rows_of(self, sql: str) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.database) as db:
            return [tuple(row) for row in db.execute(sql)]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def shop(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Shop]:
    root = tmp_path_factory.mktemp("batch")
    database = build_shop_database(root / "shop.db")
    async with in_process_suite(root / "data", batch_ask_concurrency=CONCURRENCY,
                                batch_ask_max_questions=MAX_QUESTIONS, asks_per_minute_per_key=ASKS_PER_MINUTE_PER_KEY,
                                result_cache_ttl_s=0) as (running, admin_channel):
        await schema_service_pb2_grpc.SchemaServiceStub(admin_channel).CreateDataSource(
            schema_service_pb2.CreateDataSourceRequest(data_source_id="shop",
                                                       data_source={"dsn": f"sqlite:///{database}"}))
        await train(training_service_pb2_grpc.TrainingServiceStub(admin_channel), SHOP)
        keys = shared_keys(running.components)
        admin = keyed_metadata((await keys.create("default", ["admin"])).secret)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:  # each call sends its key
            yield Shop(query_service_pb2_grpc.QueryServiceStub(channel), keys, admin, database,
                       f"127.0.0.1:{running.port}")


def failure(message: query_service_pb2.BatchAskResponse) -> tuple[int, error_details_pb2.ErrorInfo]:
    """A failed question's status code and ErrorInfo, read as the google.rpc.Status it is wire-compatible with."""
    assert message.WhichOneof("result") == "error", message
    status = status_pb2.Status.FromString(message.error.SerializeToString())
    info = error_details_pb2.ErrorInfo()
    assert any(detail.Unpack(info) for detail in status.details), status
    return status.code, info


def peak_samples() -> tuple[float, float]:
    """How many batches observed their peak concurrency, and the sum of those peaks."""
    count = REGISTRY.get_sample_value("chatdb_batch_ask_peak_questions_count") or 0.0
    total = REGISTRY.get_sample_value("chatdb_batch_ask_peak_questions_sum") or 0.0
    return count, total


async def test_each_answer_streams_back_with_its_index_id_and_question(shop: Shop) -> None:
    questions = SHOP_QUESTIONS[:4]
    ids = ["count", "books", "average", "cities"]
    messages = await shop.batch(questions, await shop.asker(), ids=ids)
    assert sorted(m.index for m in messages) == [0, 1, 2, 3]
    for message in messages:
        assert message.id == ids[message.index]
        assert message.WhichOneof("result") == "answer", message
        answer = message.answer
        assert answer.executed and answer.sql and answer.served_by == query_pb2.SERVED_BY_TEMPLATE
        rows = [tuple(value_to_python(v) for v in row.values) for row in answer.rows]
        assert sorted(rows, key=repr) == sorted(shop.rows_of(answer.sql), key=repr), answer.sql
        recorded = (await shop.query.GetQuery(query_service_pb2.GetQueryRequest(name=answer.query),
                                              metadata=shop.admin)).query
        assert recorded.question == questions[message.index]


async def test_no_more_than_batch_ask_concurrency_questions_run_at_once(shop: Shop) -> None:
    before = peak_samples()
    messages = await shop.batch(SHOP_QUESTIONS[:5], await shop.asker())
    after = peak_samples()
    assert len(messages) == 5 and all(m.WhichOneof("result") == "answer" for m in messages)
    assert after[0] - before[0] == 1, "one batch, one observation of its peak"
    assert after[1] - before[1] == CONCURRENCY, "five questions, at most (and here exactly) two at a time"


async def test_a_failing_question_is_its_own_error_and_the_others_are_answered(shop: Shop) -> None:
    questions = [SHOP_QUESTIONS[0], "   ", UNANSWERABLE, SHOP_QUESTIONS[2]]
    messages = {m.index: m for m in await shop.batch(questions, await shop.asker())}
    assert sorted(messages) == [0, 1, 2, 3]
    assert {i for i, m in messages.items() if m.WhichOneof("result") == "answer"} == {0, 3}
    code, info = failure(messages[1])
    assert code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert info.domain == "chatdb" and info.metadata["field"] == "question"
    code, info = failure(messages[2])
    assert code == grpc.StatusCode.FAILED_PRECONDITION.value[0]
    assert info.domain == "chatdb" and info.reason and info.reason != "UNSPECIFIED"
    assert messages[2].id == "q2" and messages[2].error.message


@pytest.mark.parametrize(("size", "ids", "field", "reason"), [
    pytest.param(MAX_QUESTIONS + 1, None, f"questions[{MAX_QUESTIONS}]", "TOO_LARGE", id="too_many"),
    pytest.param(0, None, "questions", "INVALID_FIELD", id="none"),
    pytest.param(1, ["x" * 129], "questions[0].id", "INVALID_FIELD", id="id_too_long"),
])
async def test_a_batch_that_cannot_run_is_invalid_argument_naming_the_field_and_asks_nothing(
        shop: Shop, size: int, ids: list[str] | None, field: str, reason: str) -> None:
    recorded = len(await shop.history())
    refused = await shop.refused([SHOP_QUESTIONS[0]] * size, await shop.asker(), ids=ids)
    assert refused.code() is grpc.StatusCode.INVALID_ARGUMENT
    info = error_info(refused.trailing_metadata())
    assert info is not None and info.reason == reason and info.metadata["field"] == field
    assert bad_request_fields(refused.trailing_metadata()) == [field]
    assert len(await shop.history()) == recorded


async def test_an_unknown_source_or_another_tenants_is_not_found(shop: Shop) -> None:
    refused = await shop.refused(SHOP_QUESTIONS[:2], await shop.asker(), parent="dataSources/nowhere")
    assert refused.code() is grpc.StatusCode.NOT_FOUND
    stranger = await shop.asker(tenant="beta", role="admin")
    assert (await shop.refused(SHOP_QUESTIONS[:2], stranger)).code() is grpc.StatusCode.NOT_FOUND


async def test_a_viewer_may_not_batch_ask(shop: Shop) -> None:
    recorded = len(await shop.history())
    refused = await shop.refused(SHOP_QUESTIONS[:2], await shop.asker(role="viewer"))
    assert refused.code() is grpc.StatusCode.PERMISSION_DENIED
    assert len(await shop.history()) == recorded


async def test_every_question_is_recorded_in_the_history(shop: Shop) -> None:
    known = {q.name for q in await shop.history()}
    questions = [SHOP_QUESTIONS[3], UNANSWERABLE, SHOP_QUESTIONS[4]]
    messages = await shop.batch(questions, await shop.asker())
    new = {q.name: q for q in await shop.history() if q.name not in known}
    assert sorted(q.question for q in new.values()) == sorted(questions)
    answered = {m.answer.query for m in messages if m.WhichOneof("result") == "answer"}
    assert len(answered) == 2 and answered <= set(new)
    assert all(new[name].state == query_pb2.QUERY_STATE_SUCCEEDED for name in answered)
    (failed,) = [q for q in new.values() if q.question == UNANSWERABLE]
    assert failed.state == query_pb2.QUERY_STATE_FAILED and failed.error_reason


async def test_each_question_counts_against_the_quota(shop: Shop) -> None:
    key = await shop.asker()
    over = await shop.refused(SHOP_QUESTIONS[:1] * (ASKS_PER_MINUTE_PER_KEY + 1), key)
    assert over.code() is grpc.StatusCode.RESOURCE_EXHAUSTED, "a batch counting more asks than the quota"
    info = error_info(over.trailing_metadata())
    assert info is not None and info.metadata["quota"] == "asks_per_minute_per_key"
    assert f"counts {ASKS_PER_MINUTE_PER_KEY + 1} asks" in (over.details() or "")
    assert len(await shop.batch(SHOP_QUESTIONS[:5], key)) == 5  # 5 of the key's 8 asks a minute
    # The three asks left (plus one every 7.5 s) do not cover six more: the batch is refused whole.
    spent = await shop.refused((SHOP_QUESTIONS * MAX_QUESTIONS)[:MAX_QUESTIONS], key)
    assert spent.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert len(await shop.batch(SHOP_QUESTIONS[:2], await shop.asker())) == 2  # another key has its own quota


# --- a batch of follow-ups (previous_query) ---------------------------------------------------------

async def test_every_question_of_a_batch_follows_up_the_previous_query(shop: Shop) -> None:
    key = await shop.asker()
    listed = await shop.ask(LIST_CUSTOMERS, key)
    ids = list(REFINEMENTS)
    messages = await shop.batch([REFINEMENTS[i][0] for i in ids], key, ids=ids, previous_query=listed.query)
    assert sorted(m.id for m in messages) == sorted(ids)
    for message in messages:
        assert message.WhichOneof("result") == "answer", message
        answer, (_, intended) = message.answer, REFINEMENTS[message.id]
        assert answer.explanation.startswith("Refines the previous query"), answer.explanation
        rows = [tuple(value_to_python(v) for v in row.values) for row in answer.rows]
        assert sorted(rows) == sorted(shop.rows_of(intended)), answer.sql
        recorded = (await shop.query.GetQuery(query_service_pb2.GetQueryRequest(name=answer.query),
                                              metadata=shop.admin)).query
        assert recorded.previous_query == listed.query
    (sorted_answer,) = [m.answer for m in messages if m.id == "sorted"]
    assert "ORDER BY name" in sorted_answer.sql


@pytest.mark.parametrize(("previous", "code", "reason"), [
    pytest.param("queries/q1", grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD", id="malformed"),
    pytest.param(f"{SHOP}/queries/qnosuchquery0000000000", grpc.StatusCode.NOT_FOUND, "NOT_FOUND", id="unknown"),
    pytest.param("dataSources/other/queries/qnosuchquery0000000000", grpc.StatusCode.NOT_FOUND, "NOT_FOUND",
                 id="another_sources"),
])
async def test_a_previous_query_ask_would_refuse_fails_the_batch_and_asks_nothing(
        shop: Shop, previous: str, code: grpc.StatusCode, reason: str) -> None:
    recorded = len(await shop.history())
    refused = await shop.refused(SHOP_QUESTIONS[:2], await shop.asker(), previous_query=previous)
    assert refused.code() is code, refused.details()
    info = error_info(refused.trailing_metadata())
    assert info is not None and info.reason == reason
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        assert bad_request_fields(refused.trailing_metadata()) == ["previous_query"]
    assert len(await shop.history()) == recorded


async def test_another_tenants_query_is_not_found_for_a_batch(shop: Shop) -> None:
    mine = await shop.ask(LIST_CUSTOMERS, await shop.asker())
    stranger = await shop.asker(tenant="beta", role="admin")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await shop.batch(["only those in Berlin"], stranger, previous_query=mine.query)
    assert refused.value.code() is grpc.StatusCode.NOT_FOUND


async def test_sql_of_ones_own_is_no_answer_a_batch_can_follow_up(shop: Shop) -> None:
    key = await shop.asker()
    ran = await shop.query.ExecuteSql(
        query_service_pb2.ExecuteSqlRequest(parent=SHOP, sql="SELECT name FROM customers"), metadata=key)
    recorded = len(await shop.history())
    refused = await shop.refused(["only those in Berlin"], key, previous_query=ran.query)
    assert refused.code() is grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(refused.trailing_metadata())
    assert info is not None and info.reason == "NOT_FOLLOWABLE" and info.metadata["previous_query"] == ran.query
    assert len(await shop.history()) == recorded


async def test_the_python_sdk_batches_follow_ups(shop: Shop) -> None:
    secret = (await shop.keys.create("default", ["asker"])).secret
    listed = await shop.ask(LIST_CUSTOMERS, keyed_metadata(secret))
    async with AsyncChatDBClient(shop.address, api_key=secret, timeout=60) as sdk:
        answers = [a async for a in sdk.batch_ask(SHOP, {"berlin": REFINEMENTS["berlin"][0]},
                                                  previous_query=listed.query)]
    (berlin,) = answers
    assert berlin.ok and berlin.id == "berlin"
    assert sorted(berlin.unwrap().rows) == sorted(shop.rows_of(REFINEMENTS["berlin"][1]))
