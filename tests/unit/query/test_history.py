"""Query history on a real metadata store: recording, newest-first pages, lookups, feedback."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from chatdb.common.v1 import degradation_pb2
from chatdb.query.v1 import query_pb2
from chatdb_server.errors import FailedPrecondition, InvalidArgument, NotFound
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.models import QueryRow
from chatdb_server.pagination import PageTokens
from chatdb_server.query.convert import query_to_proto
from chatdb_server.query.domain import QueryState, Rating, ServedBy
from chatdb_server.query.history import Feedback, QueryHistory, QueryRecord, query_name_parts
from chatdb_server.resilience.levels import Level
from chatdb_server.sql.structure import SourceRef
from tests.unit.query.test_pipeline_support import add_source_row


@pytest.fixture
def store(metadata_store: MetadataStore) -> MetadataStore:
    return metadata_store


@pytest.fixture
def history(store: MetadataStore) -> QueryHistory:
    return QueryHistory(store, PageTokens(Fernet.generate_key()))


async def test_record_and_read_back_every_field(store: MetadataStore, history: QueryHistory) -> None:
    source = await add_source_row(store, "shop")
    name = await history.record(source, QueryRecord(
        question="how many orders?", sql="SELECT COUNT(*) FROM orders LIMIT 1000", served_by=ServedBy.TEMPLATE,
        model="template", level=Level.NO_MODEL, row_count=1, confidence=0.8,
        timings={"retrieval": 0.01, "generation": 0.002, "guard": 0.001, "execution": 0.003, "total": 0.02}))
    source_id, query_id = query_name_parts(name)
    assert source_id == "shop"
    message = query_to_proto(await history.get(source, query_id))
    assert message.name == name
    assert message.question == "how many orders?"
    assert message.state == query_pb2.QUERY_STATE_SUCCEEDED
    assert message.served_by == query_pb2.SERVED_BY_TEMPLATE
    assert message.degradation_level == degradation_pb2.DEGRADATION_LEVEL_NO_MODEL
    assert (message.row_count, message.confidence, message.model) == (1, 0.8, "template")
    assert message.timings.retrieval.ToMilliseconds() == 10
    assert message.create_time.seconds > 0
    assert not message.HasField("feedback")


async def test_failures_keep_their_reason(store: MetadataStore, history: QueryHistory) -> None:
    source = await add_source_row(store, "shop")
    name = await history.record(source, QueryRecord(question="drop it", state=QueryState.FAILED,
                                                    error_reason="UNSAFE_SQL", error_message="DROP is not allowed"))
    message = query_to_proto(await history.get(source, query_name_parts(name)[1]))
    assert message.state == query_pb2.QUERY_STATE_FAILED
    assert (message.error_reason, message.error_message) == ("UNSAFE_SQL", "DROP is not allowed")


async def test_pages_are_newest_first_and_complete(store: MetadataStore, history: QueryHistory) -> None:
    source = await add_source_row(store, "shop")
    other = await add_source_row(store, "other")
    names = [await history.record(source, QueryRecord(question=f"q{i}")) for i in range(7)]
    await history.record(other, QueryRecord(question="elsewhere"))
    seen: list[str] = []
    token = ""
    while True:
        page = await history.list(source, 3, token)
        token = page.next_page_token
        assert len(page.queries) <= 3
        seen.extend(q.name for q in page.queries)
        if not token:
            break
    assert seen == list(reversed(names))


async def test_bad_page_input_is_invalid_argument(store: MetadataStore, history: QueryHistory) -> None:
    source = await add_source_row(store, "shop")
    other = await add_source_row(store, "other")
    for i in range(3):
        await history.record(source, QueryRecord(question=f"q{i}"))
    with pytest.raises(InvalidArgument) as negative:
        await history.list(source, -1, "")
    assert negative.value.violations[0].field == "page_size"
    with pytest.raises(InvalidArgument) as forged:
        await history.list(source, 1, "not-a-token")
    assert forged.value.reason == "INVALID_PAGE_TOKEN"
    token = (await history.list(source, 1, "")).next_page_token
    with pytest.raises(InvalidArgument):
        await history.list(other, 1, token)


async def test_unknown_query_is_not_found_even_from_another_source(store: MetadataStore,
                                                                   history: QueryHistory) -> None:
    source = await add_source_row(store, "shop")
    other = await add_source_row(store, "other")
    _, query_id = query_name_parts(await history.record(source, QueryRecord(question="q")))
    with pytest.raises(NotFound):
        await history.get(other, query_id)
    with pytest.raises(NotFound):
        await history.get(source, "qmissing")


def test_malformed_query_names_name_the_field() -> None:
    for bad in ("", "dataSources/shop", "dataSources/shop/queries/", "queries/q1", "dataSources/Shop/queries/q1"):
        with pytest.raises(InvalidArgument) as error:
            query_name_parts(bad)
        assert error.value.violations[0].field == "name"


async def test_feedback_is_attached(store: MetadataStore, history: QueryHistory) -> None:
    source = await add_source_row(store, "shop")
    _, query_id = query_name_parts(await history.record(source, QueryRecord(question="q", sql="SELECT 1")))
    stored = await history.set_feedback(source, query_id, Feedback(
        Rating.INCORRECT, corrected_sql="SELECT 2", comment="off by one", example="dataSources/shop/examples/e1"))
    assert stored.feedback is not None and stored.feedback.rating is Rating.INCORRECT
    assert stored.feedback.create_time is not None
    message = query_to_proto(await history.get(source, query_id))
    assert message.feedback.rating == query_pb2.FEEDBACK_RATING_INCORRECT
    assert message.feedback.corrected_sql == "SELECT 2"
    assert message.feedback.example == "dataSources/shop/examples/e1"
    assert message.feedback.create_time.seconds > 0


async def test_the_store_keeps_the_same_text(store: MetadataStore, history: QueryHistory) -> None:
    """Enums go in as the text the queries table always held, and come back as enums."""
    source = await add_source_row(store, "shop")
    _, query_id = query_name_parts(await history.record(source, QueryRecord(
        question="q", state=QueryState.FAILED, served_by=ServedBy.CALLER_SQL)))
    await history.set_feedback(source, query_id, Feedback(Rating.CORRECT))
    async with store.session() as session:
        row = (await session.execute(select(QueryRow).where(QueryRow.query_id == query_id))).scalar_one()
        assert (row.state, row.served_by, row.feedback["rating"]) == ("FAILED", "CALLER_SQL", "CORRECT")
        row.served_by = ""
    stored = await history.get(source, query_id)
    assert stored.record.state is QueryState.FAILED and stored.record.served_by is None
    assert query_to_proto(stored).served_by == query_pb2.SERVED_BY_UNSPECIFIED


async def _chain(history: QueryHistory, source: SourceRef, questions: list[str]) -> list[str]:
    names: list[str] = []
    for question in questions:
        previous = query_name_parts(names[-1])[1] if names else ""
        names.append(await history.record(source, QueryRecord(question=question, sql=f"SELECT '{question}'",
                                                               previous_query_id=previous)))
    return names


async def test_a_conversation_is_read_oldest_first_and_bounded(store: MetadataStore, history: QueryHistory) -> None:
    source = await add_source_row(store, "shop")
    names = await _chain(history, source, [f"turn {i}" for i in range(8)])
    turns = await history.conversation(source, query_name_parts(names[-1])[1], max_turns=5)
    assert [t.question for t in turns] == [f"turn {i}" for i in range(3, 8)]
    assert turns[-1].sql == "SELECT 'turn 7'"
    stored = await history.get(source, query_name_parts(names[1])[1])
    assert stored.previous_query == names[0]
    assert query_to_proto(stored).previous_query == names[0]


async def test_a_conversation_skips_failed_turns_and_refuses_to_follow_one(store: MetadataStore,
                                                                          history: QueryHistory) -> None:
    source = await add_source_row(store, "shop")
    (first,) = await _chain(history, source, ["first"])
    failed = await history.record(source, QueryRecord(question="broken", state=QueryState.FAILED,
                                                      previous_query_id=query_name_parts(first)[1]))
    last = await history.record(source, QueryRecord(question="last", sql="SELECT 1",
                                                    previous_query_id=query_name_parts(failed)[1]))
    turns = await history.conversation(source, query_name_parts(last)[1], max_turns=5)
    assert [t.question for t in turns] == ["first", "last"]
    with pytest.raises(FailedPrecondition):
        await history.conversation(source, query_name_parts(failed)[1], max_turns=5)
    with pytest.raises(NotFound):
        await history.conversation(source, "qmissing", max_turns=5)
    other = await add_source_row(store, "other")
    with pytest.raises(NotFound):
        await history.conversation(other, query_name_parts(last)[1], max_turns=5)
