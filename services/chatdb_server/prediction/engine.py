"""PredictionEngine: validates requests, resolves model names, and routes them to a backend.

Two generators live side by side: the template generator (always there, needs no
model) and at most one model backend (vllm or openai) chosen by settings. Model names
are those ListModels shows: ``models/template``, ``models/{base}`` and the tenant's
``adapters/{adapter}[/versions/{version}]``.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from chatdb_server.errors import FailedPrecondition, InvalidArgument, NotFound
from chatdb_server.generation.adapters import AdapterRecord, AdapterRegistry
from chatdb_server.generation.interface import (
    MAX_PREVIOUS_TURNS,
    MAX_QUESTION_CHARS,
    GenerationRequest,
    GenerationResult,
    SqlGenerator,
)
from chatdb_server.generation.merge import MERGED_WEIGHTS_HINT
from chatdb_server.generation.prompts import render_schema
from chatdb_server.log import get_logger
from chatdb_server.prediction.template import TemplateGenerator
from chatdb_server.settings import Settings

log = get_logger(__name__)

TEMPLATE_MODEL = "models/template"
BACKENDS = ("template", "vllm", "openai")
MAX_CANDIDATES = 8
MAX_TABLES = 200
MAX_COLUMNS = 5000
MAX_SCHEMA_CHARS = 200_000
MAX_EXAMPLES = 50
MAX_TOKENS_LIMIT = 4096


@dataclass(frozen=True)
class ModelEntry:
    """A model, adapter version or the template generator, as ListModels shows it."""

    name: str
    kind: str
    """BASE, ADAPTER or TEMPLATE."""
    state: str
    """LOADED, AVAILABLE or FAILED."""
    backend: str
    """template, vllm or openai."""
    base_model: str = ""
    data_source: str = ""
    dataset_size: int = 0
    loss_curve: tuple[float, ...] = ()
    detail: str = ""
    create_time: datetime | None = None
    held_out_accuracy: float | None = None


class ModelBackend(SqlGenerator, Protocol):
    """A model-serving backend (vllm or openai) as the engine drives it."""

    model_name: str


class AdapterHost(Protocol):
    """A backend that can hot-load LoRA adapters."""

    async def load_adapter(self, key: str, path: str) -> None:
        """Load the adapter directory under ``key``."""

    async def unload_adapter(self, key: str) -> None:
        """Unload ``key``."""

    def loaded_adapters(self) -> set[str]:
        """Keys loaded now."""


def cuda_available() -> bool:
    """Whether this machine has a usable CUDA device (torch when installed, else the driver's device node)."""
    try:
        import torch
    except ImportError:
        return os.path.exists("/dev/nvidiactl")
    return bool(torch.cuda.is_available())


def select_backend(settings: Settings, has_cuda: bool) -> str:
    """The backend the settings ask for; ``auto`` is vllm with a GPU and a model path, else template."""
    choice = settings.prediction_backend.strip().lower()
    if choice == "auto":
        return "vllm" if has_cuda and settings.model_path else "template"
    if choice not in BACKENDS:
        raise FailedPrecondition(f"unknown prediction backend {settings.prediction_backend!r}; "
                                 f"use auto, {', '.join(BACKENDS)}", "BACKEND_UNAVAILABLE")
    return choice


def validate_request(request: GenerationRequest) -> None:
    """InvalidArgument for an empty or long question, bad counts or sampling, or an oversize schema."""
    question = request.question.strip()
    if not question:
        raise InvalidArgument("question", "the question is empty")
    if len(request.question) > MAX_QUESTION_CHARS:
        raise InvalidArgument("question", f"the question is longer than {MAX_QUESTION_CHARS} characters",
                              reason="TOO_LARGE")
    if not 0 <= request.candidate_count <= MAX_CANDIDATES:
        raise InvalidArgument("candidate_count", f"ask for 1 to {MAX_CANDIDATES} candidates (0 means 1)")
    sampling = request.sampling
    if not 0 <= sampling.temperature <= 2:
        raise InvalidArgument("sampling.temperature", "temperature is 0 to 2")
    if not 0 <= sampling.top_p <= 1:
        raise InvalidArgument("sampling.top_p", "top_p is 0 to 1")
    if not 0 <= sampling.max_tokens <= MAX_TOKENS_LIMIT:
        raise InvalidArgument("sampling.max_tokens", f"max_tokens is 0 to {MAX_TOKENS_LIMIT}")
    if len(request.examples) > MAX_EXAMPLES:
        raise InvalidArgument("examples", f"at most {MAX_EXAMPLES} examples", reason="TOO_LARGE")
    if len(request.previous_turns) > MAX_PREVIOUS_TURNS:
        raise InvalidArgument("previous_turns", f"at most {MAX_PREVIOUS_TURNS} turns", reason="TOO_LARGE")
    tables = request.schema.tables
    if not tables:
        raise InvalidArgument("schema_context", "the schema context needs at least one table")
    for index, table in enumerate(tables):
        if not table.name.strip():
            raise InvalidArgument(f"schema_context.tables[{index}].name", "a table needs a name")
        if any(not column.name.strip() for column in table.columns):
            raise InvalidArgument(f"schema_context.tables[{index}].columns", "every column needs a name")
    columns = sum(len(t.columns) for t in tables)
    if len(tables) > MAX_TABLES or columns > MAX_COLUMNS:
        raise InvalidArgument("schema_context", f"{len(tables)} tables and {columns} columns; the limit is "
                              f"{MAX_TABLES} tables and {MAX_COLUMNS} columns", reason="TOO_LARGE")
    size = len(render_schema(request.schema))
    if size > MAX_SCHEMA_CHARS:
        raise InvalidArgument("schema_context", f"the schema context renders to {size} characters; the limit "
                              f"is {MAX_SCHEMA_CHARS}", reason="TOO_LARGE")


class PredictionEngine:
    """Routes generation to the template generator or the model backend, and manages adapters."""

    def __init__(self, template: SqlGenerator, model_backend: ModelBackend | None = None,
                 registry: AdapterRegistry | None = None) -> None:
        self.template = template
        self.model_backend = model_backend
        self.registry = registry

    @classmethod
    def from_settings(cls, settings: Settings, registry: AdapterRegistry | None = None,
                      template: SqlGenerator | None = None) -> PredictionEngine:
        """The engine the settings describe (call :meth:`start` before serving)."""
        if template is None:
            template = TemplateGenerator()
        kind = select_backend(settings, has_cuda=settings.prediction_backend.strip().lower() == "auto"
                              and cuda_available())
        backend: ModelBackend | None = None
        if kind == "vllm":
            from chatdb_server.prediction.vllm_backend import VllmGenerator

            backend = VllmGenerator(settings)
        elif kind == "openai":
            from chatdb_server.prediction.openai_backend import OpenAIGenerator

            backend = OpenAIGenerator(settings)
        log.info("prediction.backend", backend=kind)
        return cls(template, backend, registry)

    @property
    def backend_kind(self) -> str:
        """``template``, ``vllm`` or ``openai``: what serves requests that name no model."""
        return self.model_backend.name if self.model_backend else "template"

    @property
    def default_model(self) -> str:
        """The model a request without one gets."""
        return self.model_backend.model_name if self.model_backend else TEMPLATE_MODEL

    async def start(self) -> None:
        """Start the model backend (the vllm engine loads its weights here)."""
        start = getattr(self.model_backend, "start", None)
        if start is not None:
            await start()

    async def close(self) -> None:
        """Stop the model backend."""
        shutdown = getattr(self.model_backend, "shutdown", None)
        if shutdown is not None:
            await shutdown()

    async def generate(self, request: GenerationRequest, tenant: str) -> GenerationResult:
        """Candidates for a validated request from the backend its model names."""
        validate_request(request)
        model = request.model.strip() or self.default_model
        if model == TEMPLATE_MODEL:
            result = await self.template.generate(dataclasses.replace(request, model=TEMPLATE_MODEL))
            result.model = TEMPLATE_MODEL
            return result
        backend = self.model_backend
        if model.startswith("adapters/"):
            record = await self._adapter(tenant, model, "model")
            await self._ensure_loaded(record)
            assert backend is not None
            result = await backend.generate(dataclasses.replace(request, model=record.engine_key))
            result.model = record.resource_name
            return result
        if backend is None or model != backend.model_name:
            raise NotFound(model, "model", reason="UNKNOWN_MODEL")
        result = await backend.generate(dataclasses.replace(request, model=model))
        result.model = model
        return result

    async def list_models(self, tenant: str) -> list[ModelEntry]:
        """The base model (if any), the tenant's adapter versions, and the template generator."""
        entries = []
        if self.model_backend is not None:
            entries.append(ModelEntry(name=self.model_backend.model_name, kind="BASE", state="LOADED",
                                      backend=self.model_backend.name))
        if self.registry is not None:
            loaded = self._loaded_keys()
            entries.extend(self._adapter_entry(r, r.engine_key in loaded) for r in await self.registry.list(tenant))
        entries.append(ModelEntry(name=TEMPLATE_MODEL, kind="TEMPLATE", state="LOADED", backend="template",
                                  detail="rule-based generator; needs no model"))
        return entries

    async def load_adapter(self, tenant: str, name: str, require_better: bool = False) -> ModelEntry:
        """Hot-load a registered adapter version into the running engine; with ``require_better``, only
        one whose held-out accuracy beats every other version of the adapter loaded now."""
        record = await self._adapter(tenant, name, "name")
        if require_better:
            await self._require_better(record)
        await self._ensure_loaded(record)
        return self._adapter_entry(record, loaded=True)

    async def unload_adapter(self, tenant: str, name: str) -> ModelEntry:
        """Unload an adapter version from the engine; it stays registered."""
        record = await self._adapter(tenant, name, "name")
        host = self._adapter_host()
        await host.unload_adapter(record.engine_key)
        return self._adapter_entry(record, loaded=False)

    async def _require_better(self, candidate: AdapterRecord) -> None:
        """The promotion gate: FAILED_PRECONDITION (NOT_BETTER, both accuracies in the metadata) unless
        ``candidate`` was measured and beats every other loaded version of its adapter."""
        assert self.registry is not None
        loaded = self._adapter_host().loaded_adapters()
        in_use = [r for r in await self.registry.list(candidate.tenant, candidate.adapter)
                  if r.engine_key in loaded and r.version != candidate.version]
        if not in_use:
            return
        best = max(in_use, key=lambda r: -1.0 if r.held_out_accuracy is None else r.held_out_accuracy)
        metadata = {"candidate": candidate.resource_name, "candidate_accuracy": _accuracy(candidate),
                    "in_use": best.resource_name, "in_use_accuracy": _accuracy(best)}
        if candidate.held_out_accuracy is None:
            raise FailedPrecondition(f"{candidate.resource_name} has no held-out accuracy (its source had too few "
                                     f"golden examples to hold any out), so it cannot be shown to beat "
                                     f"{best.resource_name}", "NOT_BETTER", metadata)
        if best.held_out_accuracy is not None and candidate.held_out_accuracy <= best.held_out_accuracy:
            raise FailedPrecondition(f"{candidate.resource_name} answers {_accuracy(candidate)} of its held-out "
                                     f"examples, {best.resource_name} in use {_accuracy(best)}: not better",
                                     "NOT_BETTER", metadata)

    async def _adapter(self, tenant: str, name: str, field_name: str) -> AdapterRecord:
        if self.registry is None:
            raise NotFound(name, "adapter", reason="UNKNOWN_MODEL")
        return await self.registry.resolve(tenant, name, field_name)

    async def _ensure_loaded(self, record: AdapterRecord) -> None:
        """Load the adapter unless it is loaded; refuse one trained on another base model."""
        host = self._adapter_host()
        if record.engine_key in host.loaded_adapters():
            return
        serving = getattr(self.model_backend, "model_path", "")
        if serving and not _same_directory(serving, record.base_model):
            raise FailedPrecondition(f"{record.resource_name} was trained on {record.base_model!r}; this engine "
                                     f"serves {serving!r}", "BACKEND_UNAVAILABLE",
                                     {"base_model": record.base_model})
        await host.load_adapter(record.engine_key, record.path)

    def _adapter_host(self) -> AdapterHost:
        backend: Any = self.model_backend
        if backend is None or not hasattr(backend, "load_adapter"):
            raise FailedPrecondition(
                f"the {self.backend_kind} backend cannot load LoRA adapters; adapters are served by the vllm "
                f"backend (CHATDB_PREDICTION_BACKEND=vllm with CHATDB_MODEL_PATH), or by the OpenAI-compatible "
                f"server itself (vllm serve --lora-modules). {MERGED_WEIGHTS_HINT}",
                "BACKEND_UNAVAILABLE", {"backend": self.backend_kind, "alternative": "merged-weights"})
        host: AdapterHost = backend
        return host

    def _loaded_keys(self) -> set[str]:
        loaded = getattr(self.model_backend, "loaded_adapters", None)
        return set(loaded()) if loaded is not None else set()

    def _adapter_entry(self, record: AdapterRecord, loaded: bool) -> ModelEntry:
        backend = self.model_backend.name if self.model_backend is not None else "vllm"
        return ModelEntry(name=record.resource_name, kind="ADAPTER", state="LOADED" if loaded else "AVAILABLE",
                          backend=backend, base_model=record.base_model, data_source=record.data_source,
                          dataset_size=record.dataset_size, loss_curve=record.loss_curve,
                          create_time=record.create_time, held_out_accuracy=record.held_out_accuracy)


def _accuracy(record: AdapterRecord) -> str:
    """A held-out accuracy as the gate reports it: ``0.750`` (of N), or ``unmeasured``."""
    if record.held_out_accuracy is None:
        return "unmeasured"
    return f"{record.held_out_accuracy:.3f} (of {record.held_out_examples})"


def _same_directory(first: str, second: str) -> bool:
    return Path(first).resolve() == Path(second).resolve()
