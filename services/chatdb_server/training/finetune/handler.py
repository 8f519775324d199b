"""The FINE_TUNE job: dataset → LoRA training → adapter stored and registered.

:class:`FineTuner` does the work for one source; :class:`FineTuneHandler` is the
training worker's handler for ``FINE_TUNE`` jobs (``register_handler("FINE_TUNE",
FineTuneHandler(...))``). Stages and progress: DATASET 5 → TRAIN 10..90 (then the new adapter
answers the golden examples held out of its training: its held-out accuracy) → REGISTER 95 → DONE 100.
Each run writes a new adapter version; an earlier version is never touched.
"""

from __future__ import annotations

import asyncio
import importlib.util
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from chatdb_server.access.exclusions import joins_without, stored_without_columns
from chatdb_server.errors import FailedPrecondition, InvalidArgument
from chatdb_server.generation.adapters import (
    AdapterRecord,
    AdapterRegistry,
    claim_version_dir,
    validate_adapter_name,
    write_metadata,
)
from chatdb_server.generation.interface import SqlGenerator
from chatdb_server.log import get_logger
from chatdb_server.metadata.db import MetadataStore
from chatdb_server.metadata.models import ExampleRow
from chatdb_server.retrieval.context import SchemaContext
from chatdb_server.retrieval.retriever import SEARCH, ScoredTable, schema_context
from chatdb_server.settings import Settings
from chatdb_server.sql.dsn import Dialect
from chatdb_server.training.finetune.dataset import GOLDEN, TrainingPair, build_dataset
from chatdb_server.training.finetune.held_out import score_adapter, split_golden
from chatdb_server.training.finetune.lora import LoraOptions, TrainingOutcome, TrainingStopped, train_lora
from chatdb_server.training.handlers import JobCancelled, JobContext
from chatdb_server.training.ports import TrainingCatalog

log = get_logger(__name__)

VLLM_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256)
DEFAULT_SYNTHETIC_EXAMPLES = 200
MAX_EPOCHS = 100

Progress = Callable[[str, int], None]
ShouldCancel = Callable[[], bool]


@dataclass(frozen=True)
class FineTuneOptions:
    """A fine-tune's settings, from the job's FineTuneConfig and the server's defaults."""

    adapter: str
    base_model: str
    lora: LoraOptions
    synthetic_examples: int = DEFAULT_SYNTHETIC_EXAMPLES

    @classmethod
    def from_config(cls, config: dict[str, Any], settings: Settings, source_id: str,
                    defaults: LoraOptions | None = None) -> FineTuneOptions:
        """Options from a FineTuneConfig dict (proto field names); zero values take the defaults."""
        base = defaults or LoraOptions()
        adapter = validate_adapter_name(str(config.get("adapter") or f"{source_id}-sql").lower(),
                                        "fine_tune_config.adapter")
        epochs = int(config.get("epochs") or base.epochs)
        if not 1 <= epochs <= MAX_EPOCHS:
            raise InvalidArgument("fine_tune_config.epochs", f"epochs is 1 to {MAX_EPOCHS}")
        learning_rate = float(config.get("learning_rate") or base.learning_rate)
        if not 0 < learning_rate < 1:
            raise InvalidArgument("fine_tune_config.learning_rate", "the learning rate is between 0 and 1")
        rank = int(config.get("lora_rank") or base.rank)
        if rank not in VLLM_LORA_RANKS or rank > settings.max_lora_rank:
            raise InvalidArgument("fine_tune_config.lora_rank",
                                  f"LoRA rank is one of {VLLM_LORA_RANKS} and at most the server's "
                                  f"max_lora_rank ({settings.max_lora_rank})")
        synthetic = int(config.get("synthetic_examples") or DEFAULT_SYNTHETIC_EXAMPLES)
        lora = LoraOptions(epochs=epochs, learning_rate=learning_rate, rank=rank, alpha=2 * rank,
                           dropout=base.dropout, batch_size=base.batch_size, max_length=base.max_length,
                           seed=base.seed, target_modules=base.target_modules)
        return cls(adapter=adapter, base_model=resolve_base_model(str(config.get("base_model") or ""), settings),
                   lora=lora, synthetic_examples=max(0, synthetic))


def resolve_base_model(name: str, settings: Settings) -> str:
    """A local model directory from a path, the serving model's name (``models/{dir}``), or the default."""
    serving = Path(settings.model_path) if settings.model_path else None
    if not name:
        if serving is None:
            raise FailedPrecondition("fine-tuning needs a base model: set CHATDB_MODEL_PATH or "
                                     "fine_tune_config.base_model", "BACKEND_UNAVAILABLE")
        name = str(serving)
    if serving is not None and name == f"models/{serving.name}":
        name = str(serving)
    if not (Path(name) / "config.json").is_file():
        raise FailedPrecondition(f"base model {name!r} is not a local model directory", "UNKNOWN_MODEL")
    return str(Path(name).resolve())


class FineTuner:
    """Runs fine-tunes and registers what they produce."""

    def __init__(self, registry: AdapterRegistry, generator: SqlGenerator) -> None:
        self.registry = registry
        self.generator = generator

    async def run(self, *, tenant: str, data_source: str, dialect: Dialect, golden: list[TrainingPair],
                  schema: SchemaContext, options: FineTuneOptions, progress: Progress,
                  should_cancel: ShouldCancel) -> tuple[AdapterRecord, TrainingOutcome]:
        """Build the dataset (less the held-out examples), train, measure on the held-out examples, store as a
        new version, register; the record and what training measured."""
        progress("DATASET", 5)
        training_golden, held_out = split_golden(golden)
        pairs = await build_dataset(training_golden, schema, dialect, self.generator, options.synthetic_examples)
        if not pairs:
            raise FailedPrecondition("no training pairs: add golden examples or discover more of the schema",
                                     "NOT_TRAINED")
        progress("TRAIN", 10)
        newest = await self.registry.newest_version(tenant, options.adapter)
        version, path = claim_version_dir(self.registry.model_store, tenant, options.adapter, newest + 1)
        try:
            outcome = await asyncio.to_thread(
                train_lora, options.base_model, pairs, schema, dialect, options.lora, path,
                on_progress=lambda done: progress("TRAIN", 10 + int(80 * done)), should_stop=should_cancel)
            score = await asyncio.to_thread(score_adapter, options.base_model, path, held_out, schema, dialect)
            progress("REGISTER", 95)
            record = AdapterRecord(tenant=tenant, adapter=options.adapter, version=version,
                                   base_model=options.base_model, path=str(path.resolve()), data_source=data_source,
                                   dataset_size=len(pairs), loss_curve=tuple(outcome.loss_curve),
                                   held_out_accuracy=score.accuracy, held_out_examples=score.total)
            write_metadata(record)
            await self.registry.register(record)
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
        log.info("finetune.done", adapter=record.resource_name, pairs=len(pairs), loss=outcome.loss_curve,
                 held_out_accuracy=score.accuracy, held_out=score.total,
                 device=outcome.device, seconds=round(outcome.seconds, 2))
        progress("DONE", 100)
        return record, outcome


async def golden_pairs(store: MetadataStore, source_pk: int) -> list[TrainingPair]:
    """The source's golden examples, oldest first."""
    query = select(ExampleRow).where(ExampleRow.source_pk == source_pk).order_by(ExampleRow.pk)
    async with store.session() as session:
        rows = (await session.execute(query)).scalars().all()
    return [TrainingPair(question=row.question, sql=row.sql, origin=GOLDEN) for row in rows]


class FineTuneHandler:
    """The training worker's handler of FINE_TUNE jobs."""

    def __init__(self, settings: Settings, store: MetadataStore, catalog: TrainingCatalog, registry: AdapterRegistry,
                 generator: SqlGenerator, defaults: LoraOptions | None = None) -> None:
        """``generator`` writes the SQL of the pairs synthesised from the schema (the template generator)."""
        self.settings = settings
        self.store = store
        self.catalog = catalog
        self.defaults = defaults
        self.tuner = FineTuner(registry, generator)

    async def __call__(self, context: JobContext) -> dict[str, Any]:
        """Run the job of ``context``; the FineTuneResult fields."""
        source = context.source
        options = FineTuneOptions.from_config(dict(context.job.config or {}), self.settings, source.source_id,
                                              self.defaults)
        stored = await self.catalog.stored_tables(source)
        if not stored:
            raise FailedPrecondition("the data source has no discovered tables; refresh its schema first",
                                     "NOT_TRAINED")
        exclusions = await self.catalog.exclusions(source)  # an adapter serves every caller: no excluded column
        joins = joins_without(await self.catalog.join_edges(source), exclusions)
        schema = schema_context([ScoredTable(stored_without_columns(table, exclusions), 1.0, SEARCH)
                                 for table in stored], joins)
        try:
            record, _ = await self.tuner.run(
                tenant=source.tenant, data_source=source.name, dialect=source.dialect,
                golden=await golden_pairs(self.store, source.pk), schema=schema, options=options,
                progress=context.progress, should_cancel=context.should_cancel)
        except TrainingStopped as exc:
            raise JobCancelled() from exc
        result: dict[str, Any] = {"adapter_version": record.resource_name, "base_model": record.base_model,
                                  "dataset_size": record.dataset_size, "loss_curve": list(record.loss_curve),
                                  "held_out_examples": record.held_out_examples}
        if record.held_out_accuracy is not None:
            result["held_out_accuracy"] = record.held_out_accuracy
        return result


def fine_tune_handler_for(settings: Settings, store: MetadataStore, catalog: TrainingCatalog,
                          generator: SqlGenerator) -> FineTuneHandler | None:
    """The FINE_TUNE handler for this deployment, or None where fine-tuning cannot run here.

    Fine-tuning needs the ``finetune`` extras (torch, transformers, peft) and a base model
    (``CHATDB_MODEL_PATH``); without them FINE_TUNE jobs are refused at creation with a clear reason."""
    if not settings.model_path or any(importlib.util.find_spec(name) is None
                                      for name in ("torch", "transformers", "peft")):
        return None
    return FineTuneHandler(settings, store, catalog, AdapterRegistry(store, settings.resolved_model_store), generator)
