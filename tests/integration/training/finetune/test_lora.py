"""The fine-tune runner on the CPU with the tiny model: dataset, LoRA training, store, registry, versions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chatdb_server.errors import InvalidArgument
from chatdb_server.generation.adapters import AdapterRegistry
from chatdb_server.prediction.engine import PredictionEngine
from chatdb_server.prediction.template import TemplateGenerator
from chatdb_server.settings import Settings
from chatdb_server.sql.dsn import Dialect
from chatdb_server.training.finetune.handler import FineTuneOptions, FineTuner
from chatdb_server.training.finetune.lora import TrainingStopped
from tests.integration.training.finetune.finetune_fixtures import GOLDEN, QUICK, SCHEMA

pytest.importorskip("peft")
pytestmark = pytest.mark.slow


def options(settings: Settings, **config: object) -> FineTuneOptions:
    return FineTuneOptions.from_config({"synthetic_examples": 30, **config}, settings, "shop", QUICK)


async def test_fine_tune_trains_stores_registers_and_versions(tiny_model_dir: Path,
                                                              registry: AdapterRegistry) -> None:
    settings = Settings(model_path=str(tiny_model_dir), max_lora_rank=16)
    tuner = FineTuner(registry, TemplateGenerator())
    progress: list[tuple[str, int]] = []
    tune = options(settings)
    run = {"tenant": "default", "data_source": "dataSources/shop", "dialect": Dialect.SQLITE, "golden": GOLDEN,
           "schema": SCHEMA, "options": tune,
           "progress": lambda stage, pct: progress.append((stage, pct)), "should_cancel": lambda: False}

    first, outcome = await tuner.run(**run)  # type: ignore[arg-type]

    assert first.resource_name == "adapters/shop-sql/versions/1"
    assert first.dataset_size > len(GOLDEN)  # golden pairs plus synthesised ones
    assert len(first.loss_curve) == QUICK.epochs and first.loss_curve[-1] < first.loss_curve[0]
    assert outcome.device == "cpu" and outcome.steps > 0
    stored = Path(first.path)
    assert (stored / "adapter_config.json").is_file() and (stored / "adapter_model.safetensors").is_file()
    metadata = json.loads((stored / "metadata.json").read_text())
    assert metadata["base_model"] == tune.base_model and metadata["dataset_size"] == first.dataset_size
    assert [s for s, _ in progress][:2] == ["DATASET", "TRAIN"] and progress[-1] == ("DONE", 100)
    assert [p for _, p in progress] == sorted(p for _, p in progress)

    second, _ = await tuner.run(**run)  # type: ignore[arg-type]
    assert second.version == 2 and second.path != first.path
    assert (stored / "adapter_model.safetensors").is_file()  # version 1 untouched

    engine = PredictionEngine.from_settings(Settings(prediction_backend="template"), registry,
                                            template=TemplateGenerator())
    listed = {m.name: m for m in await engine.list_models("default")}
    assert {"adapters/shop-sql/versions/1", "adapters/shop-sql/versions/2"} <= set(listed)
    assert listed["adapters/shop-sql/versions/2"].loss_curve == second.loss_curve
    assert (await registry.resolve("default", "adapters/shop-sql")).version == 2


def test_the_stored_adapter_loads_with_peft_and_changes_the_model(tiny_model_dir: Path, tmp_path: Path) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from chatdb_server.training.finetune.lora import train_lora

    out = tmp_path / "adapter"
    train_lora(str(tiny_model_dir), GOLDEN * 4, SCHEMA, Dialect.SQLITE, QUICK, out)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    ids = torch.tensor([[5, 6, 7, 8]])
    before = base(ids).logits.detach().clone()
    tuned = PeftModel.from_pretrained(base, str(out))
    assert not torch.allclose(before, tuned(ids).logits.detach())


async def test_cancellation_stops_training_and_leaves_no_version(tiny_model_dir: Path,
                                                                 registry: AdapterRegistry) -> None:
    settings = Settings(model_path=str(tiny_model_dir))
    tuner = FineTuner(registry, TemplateGenerator())
    with pytest.raises(TrainingStopped):
        await tuner.run(tenant="default", data_source="dataSources/shop", dialect=Dialect.SQLITE, golden=GOLDEN,
                        schema=SCHEMA, options=options(settings), progress=lambda s, p: None,
                        should_cancel=lambda: True)
    assert await registry.list("default") == []
    assert not any((registry.model_store / "adapters" / "default" / "shop-sql").iterdir())


@pytest.mark.parametrize(("config", "field"), [
    ({"lora_rank": 5}, "fine_tune_config.lora_rank"),
    ({"lora_rank": 32}, "fine_tune_config.lora_rank"),
    ({"epochs": 1000}, "fine_tune_config.epochs"),
    ({"adapter": "bad name!"}, "fine_tune_config.adapter"),
])
def test_bad_fine_tune_settings_name_the_field(tiny_model_dir: Path, config: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        FineTuneOptions.from_config(config, Settings(model_path=str(tiny_model_dir), max_lora_rank=16), "shop")
    assert caught.value.violations[0].field == field
