"""Every method of the Python SDK, sync and asyncio, against the real suite (``chatdb serve`` in a child
process over a PostgreSQL shop): one walk through the whole contract per client, in the order a caller
would go (register, train, ask, export, govern, clean up), checking each reply. Afterwards the server's
own Prometheus counters must show that every RPC of every service was handled during the walk, so a
method that called the wrong RPC, or an RPC no method reached, fails here."""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from chatdb.common.v1 import dialect_pb2, join_pb2
from chatdb.prediction.v1 import prediction_pb2
from chatdb.query.v1 import query_pb2
from chatdb.training.v1 import training_pb2
from chatdb.webhook.v1 import webhook_pb2
from chatdb_client import (
    AsyncChatDBClient,
    ChatDBClient,
    ChatDBError,
    DegradationLevel,
    FailedPrecondition,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from tests.integration.clients.sdk_suite import Suite, receiver_fixture, settle, suite_fixture  # noqa: F401
from tests.unit.clients.test_sdk_contract import contract_methods, snake_case

pytestmark = pytest.mark.slow

HOW_MANY = "How many customers are there?"
UNANSWERABLE = "What is the airspeed of an unladen swallow?"
DEADLINE_S = 60.0

Step = Callable[["Walk"], Awaitable[None]]
STEPS: list[tuple[tuple[str, ...], Step]] = []


def covers(*methods: str) -> Callable[[Step], Step]:
    """Register a step of the walk and the SDK methods it calls."""
    def register(step: Step) -> Step:
        STEPS.append((methods, step))
        return step

    return register


@dataclass
class Walk:
    """One client's walk: the client (sync or asyncio), its tenant, the suite, and what earlier steps made."""

    flavour: str
    client: Any
    tenant: str
    suite: Suite
    tmp_path: Path
    made: dict[str, Any] = field(default_factory=dict)

    async def run(self, result: Any) -> Any:
        """What a client method returned, settled (awaited, or read to a list)."""
        return await settle(result)

    def other_client(self, api_key: str) -> Any:
        """A client of the same flavour that authenticates with ``api_key`` and names no tenant."""
        kind = ChatDBClient if self.flavour == "sync" else AsyncChatDBClient
        return kind(self.suite.address, api_key=api_key, timeout=30)

    async def close(self, client: Any) -> None:
        await settle(client.close())


async def poll(what: str, attempt: Callable[[], Awaitable[Any]], ready: Callable[[Any], bool]) -> Any:
    """``attempt()`` again until ``ready`` holds for what it returns; AssertionError naming ``what`` after the
    deadline."""
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        result = await attempt()
        if ready(result):
            return result
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what}: not within {DEADLINE_S:.0f} s")


# --- SchemaService -------------------------------------------------------------------------------

@covers("test_connection")
async def _test_connection(w: Walk) -> None:
    reached = await w.run(w.client.test_connection(dsn=w.suite.shop_dsn))
    assert reached.dialect == dialect_pb2.DIALECT_POSTGRESQL and reached.server_version.startswith("PostgreSQL")


@covers("create_data_source", "get_data_source", "update_data_source")
async def _data_source(w: Walk) -> None:
    created = await w.run(w.client.create_data_source(w.suite.shop_dsn, display_name="Shop", data_source_id="shop"))
    assert (created.name, created.dialect, created.table_count) == ("dataSources/shop", dialect_pb2.DIALECT_POSTGRESQL,
                                                                    2)
    assert "@" in created.redacted_dsn and not created.dsn
    assert (await w.run(w.client.get_data_source("shop"))).display_name == "Shop"
    updated = await w.run(w.client.update_data_source("shop", display_name="Shop 2", labels={"team": "sdk"}))
    assert (updated.display_name, dict(updated.labels)) == ("Shop 2", {"team": "sdk"})
    assert (await w.run(w.client.test_connection("shop"))).dialect == dialect_pb2.DIALECT_POSTGRESQL


@covers("list_data_sources", "iter_data_sources")
async def _data_sources(w: Walk) -> None:
    assert [s.name for s in await w.run(w.client.list_data_sources())] == ["dataSources/shop"]
    assert [s.display_name for s in await w.run(w.client.iter_data_sources(page_size=1))] == ["Shop 2"]


@covers("list_tables", "iter_tables", "get_table")
async def _tables(w: Walk) -> None:
    assert [t.table for t in await w.run(w.client.list_tables("shop", page_size=1))] == ["customers", "orders"]
    full = await w.run(w.client.iter_tables("shop", full=True))
    assert all(t.sample_rows for t in full) and all(t.columns for t in full)
    orders = await w.run(w.client.get_table("shop", "orders"))
    assert [c.name for c in orders.columns][:3] == ["id", "customer_id", "total"]
    assert [fk.referred_table for fk in orders.foreign_keys] == ["customers"]
    assert (await w.run(w.client.get_table("", "dataSources/shop/tables/customers"))).primary_key == ["id"]


@covers("refresh_schema", "get_schema_graph")
async def _schema(w: Walk) -> None:
    drift = await w.run(w.client.refresh_schema("shop"))
    assert (list(drift.added_tables), list(drift.removed_tables), drift.unchanged_count) == ([], [], 2)
    graph = await w.run(w.client.get_schema_graph("shop"))
    assert sorted(graph.tables) == ["customers", "orders"]
    declared = graph.edges[0]
    assert (declared.from_table, list(declared.from_columns), declared.to_table, declared.kind) == (
        "orders", ["customer_id"], "customers", join_pb2.JOIN_EDGE_KIND_DECLARED)


# --- WebhookService (subscribed before training, so the job's success is delivered) -----------------

@covers("create_webhook", "get_webhook", "list_webhooks", "iter_webhooks")
async def _webhook(w: Walk) -> None:
    created = await w.run(w.client.create_webhook(w.suite.receiver.url, ["training_job.succeeded"],
                                                  display_name=w.tenant))
    webhook, secret = created
    assert secret and webhook.name.startswith("webhooks/")
    assert list(webhook.event_types) == [webhook_pb2.WEBHOOK_EVENT_TYPE_TRAINING_JOB_SUCCEEDED]
    assert (await w.run(w.client.get_webhook(webhook.name))).url == w.suite.receiver.url
    assert [h.name for h in await w.run(w.client.list_webhooks())] == [webhook.name]
    assert [h.display_name for h in await w.run(w.client.iter_webhooks(page_size=1))] == [w.tenant]
    w.made["webhook"] = webhook.name


# --- TrainingService -----------------------------------------------------------------------------

@covers("create_training_job", "watch_training_job", "get_training_job")
async def _training(w: Walk) -> None:
    job = await w.run(w.client.create_training_job("shop"))
    assert job.state == training_pb2.TRAINING_JOB_STATE_QUEUED and job.data_source == "dataSources/shop"
    updates = await w.run(w.client.watch_training_job(job.name))
    assert updates[-1].state == training_pb2.TRAINING_JOB_STATE_SUCCEEDED, updates[-1].error_message
    done = await w.run(w.client.get_training_job(job.name))
    assert (done.progress_percent, done.trained_table_count) == (100, 2)
    w.made["job"] = job.name


@covers("train", "wait_for_training_job")
async def _train_helpers(w: Walk) -> None:
    progress: list[int] = []
    job = await w.run(w.client.train("shop", tables=["customers"], on_progress=lambda j: progress.append(j.state)))
    assert job.state == training_pb2.TRAINING_JOB_STATE_SUCCEEDED and list(job.tables) == ["customers"]
    assert progress[-1] == training_pb2.TRAINING_JOB_STATE_SUCCEEDED
    queued = await w.run(w.client.train("shop", wait=False))
    finished = await w.run(w.client.wait_for_training_job(queued.name, timeout=DEADLINE_S))
    assert finished.state == training_pb2.TRAINING_JOB_STATE_SUCCEEDED


@covers("cancel_training_job", "list_training_jobs", "iter_training_jobs")
async def _cancel(w: Walk) -> None:
    job = await w.run(w.client.create_training_job("shop"))
    try:
        cancelled = await w.run(w.client.cancel_training_job(job.name))
    except FailedPrecondition as finished:  # the worker was quicker: it ran to the end before the cancel came
        assert finished.reason, finished
    else:
        assert cancelled.state in (training_pb2.TRAINING_JOB_STATE_CANCELLING,
                                   training_pb2.TRAINING_JOB_STATE_CANCELLED)
    ended = [u.state for u in await w.run(w.client.watch_training_job(job.name))][-1]
    assert ended in (training_pb2.TRAINING_JOB_STATE_CANCELLED, training_pb2.TRAINING_JOB_STATE_SUCCEEDED)
    jobs = await w.run(w.client.list_training_jobs(source="shop", page_size=1))
    assert len(jobs) == 4 and jobs[0].name == job.name  # newest first, one page at a time
    succeeded = await w.run(w.client.iter_training_jobs(state="succeeded", job_type="schema"))
    assert w.made["job"] in [j.name for j in succeeded]


@covers("create_example", "list_examples", "iter_examples", "delete_example")
async def _examples(w: Walk) -> None:
    made = [await w.run(w.client.create_example("shop", f"How many customers are in region {region}?",
                                                f"SELECT COUNT(*) FROM customers WHERE region = '{region}'"))
            for region in ("north", "south", "east")]
    assert all(e.name.startswith("dataSources/shop/examples/") and list(e.tables) == ["customers"] for e in made)
    listed = [e.name for e in await w.run(w.client.list_examples("shop", page_size=2))]  # two pages
    assert sorted(listed) == sorted(e.name for e in made)
    await w.run(w.client.delete_example(made[0].name))
    kept = [e.name for e in await w.run(w.client.iter_examples("shop", page_size=1))]
    assert sorted(kept) == sorted(e.name for e in made[1:])


# --- QueryService --------------------------------------------------------------------------------

@covers("ask", "get_query", "submit_feedback", "list_queries", "iter_queries")
async def _ask(w: Walk) -> None:
    answer = await w.run(w.client.ask("shop", HOW_MANY))
    assert answer.rows == [(3,)] and "COUNT" in answer.sql.upper() and answer.executed
    assert answer.degradation_level is DegradationLevel.FULL and answer.to_dicts() == [{answer.column_names[0]: 3}]
    planned = await w.run(w.client.ask("shop", HOW_MANY, execute=False))
    assert (planned.executed, planned.rows, planned.sql) == (False, [], answer.sql)
    assert (await w.run(w.client.get_query(answer.query))).question == HOW_MANY
    rated = await w.run(w.client.submit_feedback(answer.query, correct=True, comment="right"))
    assert rated.feedback.rating == query_pb2.FEEDBACK_RATING_CORRECT
    assert answer.query in [q.name for q in await w.run(w.client.list_queries("shop"))]
    newest = [q.name for q in await w.run(w.client.iter_queries("shop", page_size=1))][:2]
    assert newest == [planned.query, answer.query]


@covers("stream_ask")
async def _stream_ask(w: Walk) -> None:
    events = await w.run(w.client.stream_ask("shop", HOW_MANY, batch_size=10))
    assert [e.kind for e in events] == ["stage", "stage", "stage", "rows", "summary"]
    assert [e.stage for e in events[:3]] == ["RETRIEVED", "GENERATED", "EXECUTED"]
    assert "customers" in events[0].retrieved_tables and "COUNT" in events[1].sql.upper()
    assert events[3].rows == [(3,)] and events[4].summary is not None and events[4].summary.row_count == 1


@covers("batch_ask")
async def _batch_ask(w: Walk) -> None:
    answers = {a.id: a for a in await w.run(w.client.batch_ask("shop", {"count": HOW_MANY, "odd": UNANSWERABLE}))}
    assert set(answers) == {"count", "odd"}
    assert answers["count"].ok and answers["count"].unwrap().rows == [(3,)]
    assert answers["count"].question == HOW_MANY and answers["count"].index == 0
    odd = answers["odd"]
    assert not odd.ok and isinstance(odd.error, ChatDBError) and type(odd.error) is not ChatDBError
    assert odd.error.reason and odd.error.domain == "chatdb"
    with pytest.raises(type(odd.error)):
        odd.unwrap()


@covers("execute_sql", "validate_sql")
async def _execute(w: Walk) -> None:
    result = await w.run(w.client.execute_sql("shop", "SELECT id, total, placed_at FROM orders ORDER BY id"))
    assert [row[:2] for row in result.rows] == [(10, Decimal("12.50")), (11, Decimal("3.00")),
                                                (12, Decimal("123456.78"))]
    assert result.served_by == "CALLER_SQL"
    verdict = await w.run(w.client.validate_sql("shop", "DELETE FROM orders"))
    assert not verdict.valid and verdict.violations
    assert (await w.run(w.client.validate_sql("shop", "SELECT id FROM orders"))).valid


@covers("export_query_result", "export_to_file", "export_to_arrow")
async def _export(w: Walk) -> None:
    sql = "SELECT id, customer_id, total FROM orders ORDER BY id"
    parts = await w.run(w.client.export_query_result("shop", sql=sql, format="csv"))
    assert parts[0].kind == "header" and parts[0].file_extension == "csv"
    assert [c.name for c in parts[0].columns] == ["id", "customer_id", "total"]
    assert parts[-1].kind == "summary" and parts[-1].row_count == 3
    text = b"".join(p.data for p in parts if p.kind == "chunk").decode()
    assert list(csv.reader(io.StringIO(text))) == [["id", "customer_id", "total"], ["10", "1", "12.50"],
                                                   ["11", "2", "3.00"], ["12", "1", "123456.78"]]
    target = w.tmp_path / f"orders-{w.flavour}.parquet"
    summary = await w.run(w.client.export_to_file(target, "shop", sql=sql))
    assert summary.row_count == 3 and summary.byte_count == target.stat().st_size
    assert pq.read_table(target).column("id").to_pylist() == [10, 11, 12]
    table = await w.run(w.client.export_to_arrow("shop", sql=sql))
    assert isinstance(table, pa.Table) and table.column("customer_id").to_pylist() == [1, 2, 1]


@covers("search_tables", "get_system_status", "system_status")
async def _search_and_status(w: Walk) -> None:
    found = await w.run(w.client.search_tables("shop", "customer email addresses"))
    assert found.tables[0].table == "customers" and "email" in found.tables[0].matched_columns
    status = await w.run(w.client.get_system_status())
    assert status.degradation_level is DegradationLevel.FULL and "metadata" in [d.name for d in status.dependencies]
    assert (await w.run(w.client.system_status())).check_time is not None


# --- PredictionService ---------------------------------------------------------------------------

@covers("generate_sql", "list_models", "load_adapter", "unload_adapter")
async def _prediction(w: Walk) -> None:
    context = prediction_pb2.SchemaContext(tables=[prediction_pb2.TableContext(
        name="customers", columns=[prediction_pb2.ColumnContext(name="id", data_type="INTEGER", primary_key=True)])])
    generated = await w.run(w.client.generate_sql(HOW_MANY, "postgresql", context, candidate_count=1))
    assert generated.candidates[0].sql == "SELECT COUNT(*) FROM customers"
    assert "models/template" in [m.name for m in await w.run(w.client.list_models())]
    for method in (w.client.load_adapter, w.client.unload_adapter):
        with pytest.raises(NotFound) as missing:
            await w.run(method("adapters/no-such-adapter"))
        assert missing.value.metadata["resource"] == "adapters/no-such-adapter"


# --- AccessService -------------------------------------------------------------------------------

@covers("create_api_key", "list_api_keys", "iter_api_keys", "revoke_api_key")
async def _api_keys(w: Walk) -> None:
    key, secret = await w.run(w.client.create_api_key(["viewer"], display_name="read-only", tenant=w.tenant))
    assert key.tenant == w.tenant and list(key.roles) == ["viewer"]
    viewer = w.other_client(secret)
    try:
        assert [s.name for s in await w.run(viewer.list_data_sources())] == ["dataSources/shop"]
        with pytest.raises(PermissionDenied) as denied:
            await w.run(viewer.ask("shop", HOW_MANY))
        assert denied.value.reason == "MISSING_PERMISSION" and denied.value.metadata == {"permission": "query.ask"}
        assert key.name in [k.name for k in await w.run(w.client.list_api_keys())]
        assert key.name in [k.name for k in await w.run(w.client.iter_api_keys(page_size=1))]
        revoked = await w.run(w.client.revoke_api_key(key.name))
        assert revoked.HasField("revoke_time")
        with pytest.raises(Unauthenticated) as unknown:
            await w.run(viewer.list_data_sources())
        assert unknown.value.reason == "KEY_REVOKED"
    finally:
        await w.close(viewer)


@covers("create_column_policy", "list_column_policies", "delete_column_policy", "create_row_policy",
        "list_row_policies", "delete_row_policy")
async def _policies(w: Walk) -> None:
    column = await w.run(w.client.create_column_policy("shop", "customers", "email", "mask", exempt_roles=["editor"]))
    assert column.name.startswith("dataSources/shop/columnPolicies/") and column.action == 2
    assert [p.name for p in await w.run(w.client.list_column_policies("shop"))] == [column.name]
    row = await w.run(w.client.create_row_policy("shop", "customers", "region = 'north'"))
    assert [p.predicate for p in await w.run(w.client.list_row_policies("shop"))] == ["region = 'north'"]
    await w.run(w.client.delete_column_policy(column.name))
    await w.run(w.client.delete_row_policy(row.name))
    assert await w.run(w.client.list_column_policies("shop")) == []
    assert await w.run(w.client.list_row_policies("shop")) == []


@covers("list_audit_events", "iter_audit_events")
async def _audit(w: Walk) -> None:
    events = await w.run(w.client.list_audit_events(source="shop"))  # of every tenant: the admin key is an operator
    methods = {e.method for e in events if e.tenant == w.tenant}
    assert {"/chatdb.query.v1.QueryService/Ask", "/chatdb.schema.v1.SchemaService/CreateDataSource"} <= methods
    paged = await w.run(w.client.iter_audit_events(source="shop", page_size=3))
    assert len(paged) > 3 and {e.name for e in paged} >= {e.name for e in events}


# --- the webhook's deliveries, and cleaning up -----------------------------------------------------

@covers("list_webhook_deliveries", "iter_webhook_deliveries", "delete_webhook")
async def _deliveries(w: Walk) -> None:
    webhook = w.made["webhook"]

    async def delivered() -> list[Any]:
        return list(await w.run(w.client.list_webhook_deliveries(webhook)))

    deliveries = await poll("a succeeded delivery", delivered, lambda found: any(
        d.state == webhook_pb2.WEBHOOK_DELIVERY_STATE_SUCCEEDED and d.resource == w.made["job"] for d in found))
    first = next(d for d in deliveries if d.resource == w.made["job"])
    assert first.event_type == webhook_pb2.WEBHOOK_EVENT_TYPE_TRAINING_JOB_SUCCEEDED and first.last_status_code == 204
    received = {body["id"]: (headers, body) for headers, body in w.suite.receiver.posts}
    headers, body = received[first.event_id]
    assert body["type"] == "training_job.succeeded"
    assert {k.lower(): v for k, v in headers.items()}["chatdb-event-id"] == first.event_id
    assert [d.name for d in await w.run(w.client.iter_webhook_deliveries(webhook, page_size=1))] == [
        d.name for d in deliveries]
    await w.run(w.client.delete_webhook(webhook))
    with pytest.raises(NotFound):
        await w.run(w.client.get_webhook(webhook))


@covers("delete_data_source")
async def _delete(w: Walk) -> None:
    await w.run(w.client.delete_data_source("shop"))
    with pytest.raises(NotFound) as missing:
        await w.run(w.client.get_data_source("shop"))
    assert missing.value.metadata == {"resource": "dataSources/shop"}


# --- the walks -----------------------------------------------------------------------------------

def sdk_methods() -> set[str]:
    """Every public method of the sync client (the asyncio client's are checked to be the same)."""
    return {name for name, member in vars(ChatDBClient).items() if callable(member) and not name.startswith("_")}


def test_the_walk_calls_every_method_of_both_clients() -> None:
    public_async = {n for n, m in vars(AsyncChatDBClient).items() if callable(m) and not n.startswith("_")}
    assert public_async == sdk_methods()
    walked = {method for methods, _ in STEPS for method in methods}
    assert sdk_methods() - {"close"} - walked == set()


@pytest.mark.parametrize("flavour", ["sync", "async"])
async def test_every_method_works_against_the_real_suite(flavour: str, suite: Suite, tmp_path: Path) -> None:
    tenant = f"sdk-{flavour}"
    before = suite.samples()
    kind = ChatDBClient if flavour == "sync" else AsyncChatDBClient
    client = kind(suite.address, tenant=tenant, api_key=suite.admin_key, timeout=120)
    walk = Walk(flavour, client, tenant, suite, tmp_path)
    try:
        for methods, step in STEPS:
            try:
                await step(walk)
            except BaseException as failure:
                failure.add_note(f"in the step covering {', '.join(methods)} ({flavour})")
                raise
    finally:
        await walk.close(client)
    after = suite.samples()
    not_reached = [f"{service.name}.{method.name}" for service, method in contract_methods()
                   if suite.handled(after, service.full_name, method.name)
                   <= suite.handled(before, service.full_name, method.name)]
    assert not_reached == []
    assert all(snake_case(method.name) in sdk_methods() for _, method in contract_methods())
