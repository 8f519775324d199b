"""A FINE_TUNE job end to end through the real TrainingService worker with the tiny model."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from chatdb_server.generation.adapters import AdapterRegistry
from chatdb_server.prediction.engine import PredictionEngine
from chatdb_server.prediction.template import TemplateGenerator
from chatdb_server.settings import Settings
from chatdb_server.training.finetune.handler import FineTuneHandler, fine_tune_handler_for
from chatdb_server.training.job_model import JobState, JobType
from tests.integration.training.finetune.finetune_fixtures import QUICK
from tests.unit.training.job_fixtures import TrainingStack, make_shop_database, open_stack, register_sqlite

pytest.importorskip("peft")
pytestmark = pytest.mark.slow


@pytest_asyncio.fixture
async def stack(tmp_path: Path) -> AsyncIterator[TrainingStack]:
    (tmp_path / "chatdb").mkdir()
    opened = await open_stack(tmp_path / "chatdb")
    try:
        yield opened
    finally:
        await opened.close()


async def test_fine_tune_job_produces_a_registered_adapter_version_per_run(
        stack: TrainingStack, tiny_model_dir: Path, tmp_path: Path) -> None:
    settings = Settings(model_path=str(tiny_model_dir), data_dir=tmp_path / "chatdb")
    registry = AdapterRegistry(stack.store, settings.resolved_model_store)
    stack.service.register_handler(JobType.FINE_TUNE, FineTuneHandler(settings, stack.store, stack.catalog,
                                                                      registry, TemplateGenerator(), defaults=QUICK))
    source = await register_sqlite(stack.catalog, "default", "shop", make_shop_database(tmp_path / "shop.db"))
    await stack.service.create_example("default", source.name, "How many customers live in London?",
                                       "SELECT COUNT(*) FROM customers WHERE city = 'London'")
    config = {"synthetic_examples": 20, "epochs": 2}

    await stack.service.create_job("default", source.name, [], JobType.FINE_TUNE, config)
    first = (await stack.service.worker.run_until_idle())[0]
    await stack.service.create_job("default", source.name, [], JobType.FINE_TUNE, config)
    second = (await stack.service.worker.run_until_idle())[0]

    assert first.state is JobState.SUCCEEDED, first.error_message
    assert first.result["adapter_version"] == "adapters/shop-sql/versions/1"
    assert second.result["adapter_version"] == "adapters/shop-sql/versions/2"
    assert first.result["dataset_size"] > 1 and len(first.result["loss_curve"]) == 2
    assert first.progress_percent == 100
    engine = PredictionEngine.from_settings(Settings(prediction_backend="template"), registry,
                                            template=TemplateGenerator())
    names = [m.name for m in await engine.list_models("default")]
    assert names[:2] == ["adapters/shop-sql/versions/1", "adapters/shop-sql/versions/2"]


async def test_fine_tune_job_with_a_bad_rank_fails_with_the_reason(stack: TrainingStack, tiny_model_dir: Path,
                                                                   tmp_path: Path) -> None:
    settings = Settings(model_path=str(tiny_model_dir), data_dir=tmp_path / "chatdb")
    registry = AdapterRegistry(stack.store, settings.resolved_model_store)
    stack.service.register_handler(JobType.FINE_TUNE, FineTuneHandler(settings, stack.store, stack.catalog,
                                                                      registry, TemplateGenerator()))
    source = await register_sqlite(stack.catalog, "default", "shop", make_shop_database(tmp_path / "shop.db"))
    await stack.service.create_job("default", source.name, [], JobType.FINE_TUNE, {"lora_rank": 5})
    job = (await stack.service.worker.run_until_idle())[0]
    assert job.state is JobState.FAILED and job.error_reason == "INVALID_FIELD"
    assert "lora_rank" in job.error_message
    assert await registry.list("default") == []


def test_a_handler_is_offered_only_where_fine_tuning_can_run(stack: TrainingStack, tiny_model_dir: Path) -> None:
    assert fine_tune_handler_for(Settings(), stack.store, stack.catalog, TemplateGenerator()) is None
    handler = fine_tune_handler_for(Settings(model_path=str(tiny_model_dir)), stack.store, stack.catalog,
                                    TemplateGenerator())
    assert isinstance(handler, FineTuneHandler)
