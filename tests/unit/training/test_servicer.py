"""TrainingService RPCs through grpcio-testing over the real domain (SQLite metadata, Milvus Lite,
the real catalog and embedding model): happy paths and every kind of bad input with its status."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest

from chatdb.training.v1 import training_pb2, training_service_pb2
from chatdb.training.v1 import training_service_pb2 as pb
from chatdb_server.retrieval.embeddings import Embedder
from chatdb_server.sql.structure import SourceRef
from chatdb_server.training.job_model import JobState, JobType
from chatdb_server.training.servicer import TrainingServicer
from tests.support.grpc_unit import UnitServer, bad_request_fields, error_info
from tests.unit.training.job_fixtures import TrainingStack, make_shop_database, open_stack, register_sqlite

DESCRIPTOR = training_service_pb2.DESCRIPTOR.services_by_name["TrainingService"]
ACME = (("x-chatdb-tenant", "acme"),)
OTHER = (("x-chatdb-tenant", "other"),)


@dataclass
class Unit:
    server: UnitServer
    stack: TrainingStack
    source: SourceRef
    loop: asyncio.AbstractEventLoop

    def call(self, method: str, request: Any, metadata: tuple[tuple[str, str], ...] = ACME) -> tuple[Any, ...]:
        return self.server.unary(method, request, metadata)

    def run(self, awaitable: Any) -> Any:
        return self.loop.run_until_complete(awaitable)


def _unit(directory: Path) -> Iterator[Unit]:
    loop = asyncio.new_event_loop()
    stack = loop.run_until_complete(open_stack(directory / "chatdb"))
    source = loop.run_until_complete(
        register_sqlite(stack.catalog, "acme", "shop", make_shop_database(directory / "shop.db")))
    try:
        yield Unit(UnitServer(DESCRIPTOR, TrainingServicer(stack.service), loop), stack, source, loop)
    finally:
        loop.run_until_complete(stack.close())
        loop.close()


@pytest.fixture
def unit(tmp_path: Path) -> Iterator[Unit]:
    """A fresh service for a test that changes things."""
    yield from _unit(tmp_path)


@pytest.fixture(scope="module")
def shared_unit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Unit]:
    """One service for the tests whose requests are all refused (they change nothing)."""
    yield from _unit(tmp_path_factory.mktemp("refusals"))


def _reason(trailing: Any) -> str:
    info = error_info(trailing)
    assert info is not None, "the status carries no ErrorInfo"
    return str(info.reason)


def _create(unit: Unit, **fields: Any) -> training_pb2.TrainingJob:
    response, code, details, _ = unit.call("CreateTrainingJob",
                                           pb.CreateTrainingJobRequest(parent="dataSources/shop", **fields))
    assert code is grpc.StatusCode.OK, details
    return response.training_job


def test_job_lifecycle_create_get_list_cancel(unit: Unit) -> None:
    created = _create(unit, tables=["Orders", "customers"])
    assert created.state == training_pb2.TRAINING_JOB_STATE_QUEUED
    assert created.type == training_pb2.TRAINING_JOB_TYPE_SCHEMA  # UNSPECIFIED means SCHEMA
    assert list(created.tables) == ["orders", "customers"] and created.total_table_count == 2
    assert created.data_source == "dataSources/shop" and created.create_time.seconds > 0

    got, code, _, _ = unit.call("GetTrainingJob", pb.GetTrainingJobRequest(name=created.name))
    assert code is grpc.StatusCode.OK and got.training_job == created

    second = _create(unit)
    listed, code, _, _ = unit.call("ListTrainingJobs", pb.ListTrainingJobsRequest(page_size=1))
    assert code is grpc.StatusCode.OK
    assert [j.name for j in listed.training_jobs] == [second.name] and listed.next_page_token
    rest, _, _, _ = unit.call("ListTrainingJobs", pb.ListTrainingJobsRequest(page_size=1,
                                                                            page_token=listed.next_page_token))
    assert [j.name for j in rest.training_jobs] == [created.name] and not rest.next_page_token

    cancelled, code, _, _ = unit.call("CancelTrainingJob", pb.CancelTrainingJobRequest(name=created.name))
    assert code is grpc.StatusCode.OK
    assert cancelled.training_job.state == training_pb2.TRAINING_JOB_STATE_CANCELLED
    filtered, _, _, _ = unit.call("ListTrainingJobs", pb.ListTrainingJobsRequest(
        filter='data_source = "dataSources/shop" AND state = CANCELLED AND type = SCHEMA'))
    assert [j.name for j in filtered.training_jobs] == [created.name]

    _, code, _, trailing = unit.call("CancelTrainingJob", pb.CancelTrainingJobRequest(name=created.name))
    assert code is grpc.StatusCode.FAILED_PRECONDITION and _reason(trailing) == "JOB_STATE"

    # another tenant sees none of it
    _, code, _, trailing = unit.call("GetTrainingJob", pb.GetTrainingJobRequest(name=created.name), OTHER)
    assert code is grpc.StatusCode.NOT_FOUND and _reason(trailing) == "NOT_FOUND"
    other, _, _, _ = unit.call("ListTrainingJobs", pb.ListTrainingJobsRequest(), OTHER)
    assert list(other.training_jobs) == []


def test_watch_of_a_finished_job_streams_it_once(unit: Unit) -> None:
    created = _create(unit, tables=["orders"])
    finished = unit.run(unit.stack.service.worker.run_once())
    assert finished.state is JobState.SUCCEEDED
    responses, code, _, _ = unit.server.stream("WatchTrainingJob", pb.WatchTrainingJobRequest(name=created.name),
                                               ACME)
    assert code is grpc.StatusCode.OK
    assert [(r.training_job.state, r.training_job.progress_percent) for r in responses] == [
        (training_pb2.TRAINING_JOB_STATE_SUCCEEDED, 100)]
    assert responses[0].training_job.trained_table_count == 1


@pytest.mark.parametrize("method,request_message,code,reason,field", [
    pytest.param("CreateTrainingJob", pb.CreateTrainingJobRequest(parent="dataSources/nowhere"),
                 grpc.StatusCode.NOT_FOUND, "NOT_FOUND", None, id="create-unknown-source"),
    pytest.param("CreateTrainingJob", pb.CreateTrainingJobRequest(parent="sources/shop"),
                 grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD", "parent", id="create-malformed-parent"),
    pytest.param("CreateTrainingJob", pb.CreateTrainingJobRequest(parent="dataSources/shop", tables=["nope"]),
                 grpc.StatusCode.NOT_FOUND, "NOT_FOUND", None, id="create-unknown-table"),
    pytest.param("CreateTrainingJob", pb.CreateTrainingJobRequest(parent="dataSources/shop", tables=[" "]),
                 grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD", "tables[0]", id="create-empty-table"),
    pytest.param("CreateTrainingJob", pb.CreateTrainingJobRequest(
        parent="dataSources/shop", type=training_pb2.TRAINING_JOB_TYPE_FINE_TUNE),
                 grpc.StatusCode.FAILED_PRECONDITION, "BACKEND_UNAVAILABLE", None, id="fine-tune-unavailable"),
    pytest.param("GetTrainingJob", pb.GetTrainingJobRequest(name="trainingJobs/j0000"),
                 grpc.StatusCode.NOT_FOUND, "NOT_FOUND", None, id="get-unknown-job"),
    pytest.param("GetTrainingJob", pb.GetTrainingJobRequest(name="jobs/1"),
                 grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD", "name", id="get-malformed-name"),
    pytest.param("CancelTrainingJob", pb.CancelTrainingJobRequest(name="trainingJobs/j0000"),
                 grpc.StatusCode.NOT_FOUND, "NOT_FOUND", None, id="cancel-unknown-job"),
    pytest.param("ListTrainingJobs", pb.ListTrainingJobsRequest(page_token="not-a-token"),
                 grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN", "page_token", id="list-bad-token"),
    pytest.param("ListTrainingJobs", pb.ListTrainingJobsRequest(page_size=-1),
                 grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD", "page_size", id="list-negative-size"),
    pytest.param("ListTrainingJobs", pb.ListTrainingJobsRequest(filter="state = RUNNING OR state = QUEUED"),
                 grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD", "filter", id="list-bad-filter"),
    pytest.param("CreateExample", pb.CreateExampleRequest(parent="dataSources/shop", example=training_pb2.Example(
        question="how many customers?", sql="DELETE FROM customers")),
                 grpc.StatusCode.INVALID_ARGUMENT, "UNSAFE_SQL", "example.sql", id="example-writes"),
    pytest.param("CreateExample", pb.CreateExampleRequest(parent="dataSources/shop", example=training_pb2.Example(
        question="how many?", sql="SELECT COUNT(*) FROM ghosts")),
                 grpc.StatusCode.INVALID_ARGUMENT, "UNSAFE_SQL", "example.sql", id="example-unknown-table"),
    pytest.param("CreateExample", pb.CreateExampleRequest(parent="dataSources/shop", example=training_pb2.Example(
        question="how many?", sql="SELEC COUNT(* FROM customers")),
                 grpc.StatusCode.INVALID_ARGUMENT, "INVALID_SQL", "example.sql", id="example-does-not-parse"),
    pytest.param("CreateExample", pb.CreateExampleRequest(parent="dataSources/shop", example=training_pb2.Example(
        sql="SELECT 1")),
                 grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD", "example.question", id="example-no-question"),
    pytest.param("ListExamples", pb.ListExamplesRequest(parent="dataSources/nowhere"),
                 grpc.StatusCode.NOT_FOUND, "NOT_FOUND", None, id="examples-unknown-source"),
    pytest.param("ListExamples", pb.ListExamplesRequest(parent="dataSources/shop", page_token="x"),
                 grpc.StatusCode.INVALID_ARGUMENT, "INVALID_PAGE_TOKEN", "page_token", id="examples-bad-token"),
    pytest.param("DeleteExample", pb.DeleteExampleRequest(name="dataSources/shop/examples/e0000"),
                 grpc.StatusCode.NOT_FOUND, "NOT_FOUND", None, id="delete-unknown-example"),
    pytest.param("DeleteExample", pb.DeleteExampleRequest(name="dataSources/shop/e1"),
                 grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD", "name", id="delete-malformed-name"),
])
def test_bad_input_gets_a_clear_status(shared_unit: Unit, method: str, request_message: Any,
                                       code: grpc.StatusCode, reason: str, field: str | None) -> None:
    response, got_code, details, trailing = shared_unit.call(method, request_message)
    assert got_code is code, details
    assert response is None
    assert _reason(trailing) == reason
    if field is not None:
        assert bad_request_fields(trailing)[0] == field


def test_watch_of_an_unknown_job_is_not_found(shared_unit: Unit) -> None:
    responses, code, _, trailing = shared_unit.server.stream(
        "WatchTrainingJob", pb.WatchTrainingJobRequest(name="trainingJobs/j0000"), ACME)
    assert responses == [] and code is grpc.StatusCode.NOT_FOUND and _reason(trailing) == "NOT_FOUND"


def test_page_token_of_one_filter_is_refused_for_another(unit: Unit) -> None:
    for _ in range(3):
        _create(unit)
    first, _, _, _ = unit.call("ListTrainingJobs", pb.ListTrainingJobsRequest(page_size=1))
    _, code, _, trailing = unit.call("ListTrainingJobs", pb.ListTrainingJobsRequest(
        page_size=1, page_token=first.next_page_token, filter="state = QUEUED"))
    assert code is grpc.StatusCode.INVALID_ARGUMENT and _reason(trailing) == "INVALID_PAGE_TOKEN"


def test_fine_tune_with_a_registered_handler_is_queued_with_its_config(unit: Unit) -> None:
    async def handler(context: Any) -> dict[str, Any]:
        return {}

    unit.stack.service.register_handler(JobType.FINE_TUNE, handler)
    job = _create(unit, type=training_pb2.TRAINING_JOB_TYPE_FINE_TUNE,
                  fine_tune_config=training_pb2.FineTuneConfig(adapter="shop-sql", epochs=3, lora_rank=8))
    assert job.type == training_pb2.TRAINING_JOB_TYPE_FINE_TUNE
    assert (job.fine_tune_config.adapter, job.fine_tune_config.epochs, job.fine_tune_config.lora_rank) == (
        "shop-sql", 3, 8)


def test_examples_create_list_delete(unit: Unit) -> None:
    names = []
    for question, sql in (("How many customers are there?", "SELECT COUNT(*) FROM customers"),
                          ("Which products cost more than 20?", "SELECT title FROM products WHERE price > 20"),
                          ("Orders per customer", "SELECT c.name, COUNT(o.id) FROM customers c "
                                                  "JOIN orders o ON o.customer_id = c.id GROUP BY c.name")):
        response, code, details, _ = unit.call("CreateExample", pb.CreateExampleRequest(
            parent="dataSources/shop",
            example=training_pb2.Example(question=question, sql=sql, source=training_pb2.EXAMPLE_SOURCE_FEEDBACK)))
        assert code is grpc.StatusCode.OK, details
        example = response.example
        assert example.name.startswith("dataSources/shop/examples/")
        assert example.source == training_pb2.EXAMPLE_SOURCE_MANUAL  # output only for ordinary callers
        names.append(example.name)
    assert list(response.example.tables) == ["customers", "orders"]
    assert unit.stack.vectors.count_examples(unit.source.namespace) == 3

    page, _, _, _ = unit.call("ListExamples", pb.ListExamplesRequest(parent="dataSources/shop", page_size=2))
    assert [e.name for e in page.examples] == names[::-1][:2] and page.next_page_token
    rest, _, _, _ = unit.call("ListExamples", pb.ListExamplesRequest(parent="dataSources/shop", page_size=2,
                                                                     page_token=page.next_page_token))
    assert [e.name for e in rest.examples] == [names[0]] and not rest.next_page_token

    _, code, _, _ = unit.call("DeleteExample", pb.DeleteExampleRequest(name=names[1]))
    assert code is grpc.StatusCode.OK
    assert unit.stack.vectors.count_examples(unit.source.namespace) == 2
    _, code, _, _ = unit.call("DeleteExample", pb.DeleteExampleRequest(name=names[1]))
    assert code is grpc.StatusCode.NOT_FOUND
    _, code, _, _ = unit.call("DeleteExample", pb.DeleteExampleRequest(name=names[0]), OTHER)
    assert code is grpc.StatusCode.NOT_FOUND  # another tenant cannot delete it
    hits = unit.stack.vectors.search_examples(unit.source.namespace,
                                              Embedder.shared().encode(["number of customers"])[0], 5)
    assert hits[0].question == "How many customers are there?" and len(hits) == 2
