"""A fine-tune measures the adapter it made on golden examples held out of its training, for real on the
CPU with the tiny model, and records the accuracy with the version."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatdb_server.generation.adapters import AdapterRegistry
from chatdb_server.prediction.engine import PredictionEngine
from chatdb_server.prediction.template import TemplateGenerator
from chatdb_server.settings import Settings
from chatdb_server.sql.dsn import Dialect
from chatdb_server.training.finetune.handler import FineTuneOptions, FineTuner
from chatdb_server.training.finetune.held_out import score_adapter, split_golden
from tests.integration.training.finetune.finetune_fixtures import GOLDEN, MORE_GOLDEN, QUICK, SCHEMA

pytest.importorskip("peft")
pytestmark = pytest.mark.slow


async def test_a_fine_tune_holds_examples_out_and_records_the_adapters_accuracy(
        tiny_model_dir: Path, registry: AdapterRegistry) -> None:
    settings = Settings(model_path=str(tiny_model_dir), max_lora_rank=16)
    options = FineTuneOptions.from_config({"synthetic_examples": 10}, settings, "shop", QUICK)
    record, _ = await FineTuner(registry, TemplateGenerator()).run(
        tenant="default", data_source="dataSources/shop", dialect=Dialect.SQLITE, golden=MORE_GOLDEN, schema=SCHEMA,
        options=options, progress=lambda stage, pct: None, should_cancel=lambda: False)

    _, held_out = split_golden(MORE_GOLDEN)
    assert record.held_out_examples == len(held_out) == 1
    assert record.held_out_accuracy is not None and 0.0 <= record.held_out_accuracy <= 1.0
    score = score_adapter(options.base_model, Path(record.path), held_out, SCHEMA, Dialect.SQLITE)
    assert score.total == 1 and score.accuracy == record.held_out_accuracy  # greedy: the same answer again

    stored = await registry.resolve("default", record.resource_name)
    assert (stored.held_out_accuracy, stored.held_out_examples) == (record.held_out_accuracy, 1)
    engine = PredictionEngine.from_settings(Settings(prediction_backend="template"), registry,
                                            template=TemplateGenerator())
    listed = {m.name: m for m in await engine.list_models("default")}
    assert listed[record.resource_name].held_out_accuracy == record.held_out_accuracy


async def test_with_too_few_golden_examples_nothing_is_held_out(tiny_model_dir: Path,
                                                                registry: AdapterRegistry) -> None:
    settings = Settings(model_path=str(tiny_model_dir), max_lora_rank=16)
    options = FineTuneOptions.from_config({"synthetic_examples": 5, "epochs": 1}, settings, "shop", QUICK)
    record, _ = await FineTuner(registry, TemplateGenerator()).run(
        tenant="default", data_source="dataSources/shop", dialect=Dialect.SQLITE, golden=GOLDEN, schema=SCHEMA,
        options=options, progress=lambda stage, pct: None, should_cancel=lambda: False)
    assert (record.held_out_accuracy, record.held_out_examples) == (None, 0)
