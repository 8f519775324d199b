"""PredictionServicer through grpcio-testing: replies, statuses and their details."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from chatdb.common.v1 import dialect_pb2, join_pb2
from chatdb.prediction.v1 import prediction_pb2, prediction_service_pb2
from chatdb_server.generation.adapters import AdapterRecord, AdapterRegistry, claim_version_dir
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.prediction.engine import PredictionEngine
from chatdb_server.prediction.servicer import PredictionServicer
from chatdb_server.settings import Settings
from tests.support.grpc_unit import UnitServer, bad_request_fields, error_info


class Unit:
    """The servicer over a template-backed engine and a SQLite registry."""

    def __init__(self, tmp_path: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.store = MetadataStore(f"sqlite+aiosqlite:///{tmp_path / 'metadata.db'}")
        self.loop.run_until_complete(self.store.migrate())
        self.registry = AdapterRegistry(self.store, tmp_path / "models")
        engine = PredictionEngine.from_settings(Settings(prediction_backend="template"), self.registry)
        self.server = UnitServer(prediction_service_pb2.DESCRIPTOR.services_by_name["PredictionService"],
                                 PredictionServicer(engine), self.loop)

    def call(self, method: str, request: Any, tenant: str = "default") -> tuple[Any, grpc.StatusCode, Any]:
        response, code, _, trailing = self.server.unary(method, request, (("x-chatdb-tenant", tenant),))
        return response, code, trailing

    def close(self) -> None:
        self.loop.run_until_complete(self.store.close())
        self.loop.close()


@pytest.fixture
def unit(tmp_path: Path) -> Iterator[Unit]:
    made = Unit(tmp_path)
    yield made
    made.close()


def generate_request(**changes: Any) -> prediction_service_pb2.GenerateSqlRequest:
    fields: dict[str, Any] = {
        "question": "How many singers are there?",
        "dialect": dialect_pb2.DIALECT_SQLITE,
        "schema_context": prediction_pb2.SchemaContext(
            tables=[prediction_pb2.TableContext(name="singer", columns=[
                prediction_pb2.ColumnContext(name="singer_id", data_type="INTEGER", primary_key=True),
                prediction_pb2.ColumnContext(name="name", data_type="TEXT", sample_values=["Joe Sharp"])]),
                prediction_pb2.TableContext(name="concert", columns=[
                    prediction_pb2.ColumnContext(name="concert_id", data_type="INTEGER", primary_key=True),
                    prediction_pb2.ColumnContext(name="singer_id", data_type="INTEGER")])],
            joins=[join_pb2.JoinEdge(from_table="concert", from_columns=["singer_id"], to_table="singer",
                                     to_columns=["singer_id"], kind=join_pb2.JOIN_EDGE_KIND_DECLARED,
                                     confidence=1.0)]),
    }
    fields.update(changes)
    return prediction_service_pb2.GenerateSqlRequest(**fields)


def test_generate_sql_with_the_template_generator(unit: Unit) -> None:
    response, code, _ = unit.call("GenerateSql", generate_request())
    assert code == grpc.StatusCode.OK
    assert response.model == "models/template" and response.backend == prediction_pb2.BACKEND_KIND_TEMPLATE
    assert response.candidates[0].sql.upper().startswith("SELECT COUNT(*) FROM SINGER")
    assert 0 < response.candidates[0].confidence <= 1
    assert response.usage.prompt_tokens == 0
    assert response.generation_time.ToTimedelta().total_seconds() >= 0


@pytest.mark.parametrize(("changes", "code", "reason", "field"), [
    ({"question": ""}, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD", "question"),
    ({"dialect": dialect_pb2.DIALECT_UNSPECIFIED}, grpc.StatusCode.INVALID_ARGUMENT, "UNSUPPORTED_DIALECT",
     "dialect"),
    ({"dialect": 42}, grpc.StatusCode.INVALID_ARGUMENT, "UNSUPPORTED_DIALECT", "dialect"),
    ({"schema_context": prediction_pb2.SchemaContext(tables=[
        prediction_pb2.TableContext(name=f"t{i}", columns=[prediction_pb2.ColumnContext(name="a")])
        for i in range(300)])}, grpc.StatusCode.INVALID_ARGUMENT, "TOO_LARGE", "schema_context"),
    ({"candidate_count": 20}, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD", "candidate_count"),
    ({"model": "adapters/unknown"}, grpc.StatusCode.NOT_FOUND, "UNKNOWN_MODEL", None),
    ({"model": "models/gpt-9"}, grpc.StatusCode.NOT_FOUND, "UNKNOWN_MODEL", None),
    ({"model": "adapters/Bad Name"}, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_FIELD", "model"),
])
def test_bad_requests_get_clear_statuses(unit: Unit, changes: dict[str, Any], code: grpc.StatusCode, reason: str,
                                         field: str | None) -> None:
    _, got, trailing = unit.call("GenerateSql", generate_request(**changes))
    assert got == code
    info = error_info(trailing)
    assert info is not None and info.reason == reason and info.domain == "chatdb"
    if field:
        assert bad_request_fields(trailing) == [field]


def test_a_question_the_template_cannot_ground_is_no_answer(unit: Unit) -> None:
    _, code, trailing = unit.call("GenerateSql", generate_request(question="zzz qqq xxyy"))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(trailing)
    assert info is not None and info.reason == "NO_ANSWER"


def test_list_models_shows_the_tenants_adapters_and_the_template(unit: Unit) -> None:
    version, path = claim_version_dir(unit.registry.model_store, "default", "shop-sql")
    unit.loop.run_until_complete(unit.registry.register(AdapterRecord(
        tenant="default", adapter="shop-sql", version=version, base_model="/models/base", path=str(path),
        data_source="dataSources/shop", dataset_size=7, loss_curve=(2.0, 1.0))))
    response, code, _ = unit.call("ListModels", prediction_service_pb2.ListModelsRequest())
    assert code == grpc.StatusCode.OK
    models = {m.name: m for m in response.models}
    adapter = models["adapters/shop-sql/versions/1"]
    assert adapter.kind == prediction_pb2.MODEL_KIND_ADAPTER and adapter.state == prediction_pb2.MODEL_STATE_AVAILABLE
    assert list(adapter.loss_curve) == [2.0, 1.0] and adapter.dataset_size == 7
    assert adapter.data_source == "dataSources/shop" and adapter.create_time.seconds > 0
    template = models["models/template"]
    assert template.kind == prediction_pb2.MODEL_KIND_TEMPLATE and template.state == prediction_pb2.MODEL_STATE_LOADED
    other, _, _ = unit.call("ListModels", prediction_service_pb2.ListModelsRequest(), tenant="acme")
    assert [m.name for m in other.models] == ["models/template"]


@pytest.mark.parametrize("method", ["LoadAdapter", "UnloadAdapter"])
def test_adapter_calls_name_their_problem(unit: Unit, method: str) -> None:
    request_type = getattr(prediction_service_pb2, f"{method}Request")
    _, code, trailing = unit.call(method, request_type(name=""))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and bad_request_fields(trailing) == ["name"]
    _, code, trailing = unit.call(method, request_type(name="adapters/nope"))
    assert code == grpc.StatusCode.NOT_FOUND
    info = error_info(trailing)
    assert info is not None and info.reason == "UNKNOWN_MODEL"


def test_loading_an_adapter_into_the_template_backend_is_a_failed_precondition(unit: Unit) -> None:
    version, path = claim_version_dir(unit.registry.model_store, "default", "shop-sql")
    unit.loop.run_until_complete(unit.registry.register(AdapterRecord(
        tenant="default", adapter="shop-sql", version=version, base_model="/models/base", path=str(path))))
    _, code, trailing = unit.call("LoadAdapter", prediction_service_pb2.LoadAdapterRequest(name="adapters/shop-sql"))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(trailing)
    assert info is not None and info.reason == "BACKEND_UNAVAILABLE"
    assert info.metadata["alternative"] == "merged-weights"
